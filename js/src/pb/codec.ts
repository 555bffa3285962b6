/**
 * What every generated message codec provides beyond the public
 * MessageType<T>: its two passes, which generated code calls across
 * messages (and files) directly. The public methods hand the codec to
 * encode.ts.
 */
import type { MessageInit, MessageType } from "./message-type.js";
import { Reader } from "./reader.js";
import type { Writer } from "./writer.js";

export interface MessageCodec<T> extends MessageType<T> {
  /**
   * Checks and writes `message`, without its own tag or length, into the
   * writer's area (Writer.beginArea).
   */
  $encode(message: MessageInit<T>, w: Writer): void;
  /**
   * Decodes fields up to `end` at nesting `depth`, merging into `into` when
   * given (protobuf's rule for a message field that occurs twice).
   */
  $read(r: Reader, end: number, depth: number, into: T | undefined): T;
}

/** Whether `type` is a generated codec (it has the two passes). */
export function isMessageCodec<T>(type: MessageType<T>): type is MessageCodec<T> {
  const codec = type as Partial<MessageCodec<T>>;
  return typeof codec.$encode === "function" && typeof codec.$read === "function";
}

/**
 * Decodes the message in `bytes[start, end)` without a view of that range
 * when `type` is a generated codec (any other MessageType decodes a view).
 * The caller has checked 0 <= start <= end <= bytes.length.
 */
export function decodeRange<T>(type: MessageType<T>, bytes: Uint8Array, start: number, end: number): T {
  if (!isMessageCodec(type)) return type.decode(bytes.subarray(start, end));
  const r = Reader.over(bytes, start);
  r.end = end;
  return type.$read(r, end, 0, undefined);
}

/** The default of a bytes field. Empty, so it cannot be written through. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * Stores a decoded map entry. A key "__proto__" becomes an ordinary own
 * property instead of replacing the map object's prototype.
 */
export function setEntry<V>(map: { [key: string]: V }, key: string, value: V): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

/**
 * A 64-bit map key (an object key, so a string) as the bigint it stands
 * for: exactly BigInt(key), but a plain decimal integer within 2^53 goes
 * through a number, much cheaper than parsing the string as a bigint.
 */
export function keyToBigInt(key: string): bigint {
  const n = +key;
  return Number.isSafeInteger(n) && String(n) === key ? BigInt(n) : BigInt(key);
}
