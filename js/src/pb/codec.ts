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

/** Integer keys below this one (at least) are stored into indexedMap()'s objects in place. */
const ROOMY_ELEMENTS = 16;

/**
 * An empty object without own keys whose element store has room (see
 * indexedMap). Never written to: copies are.
 */
const ROOMY: object = (() => {
  const o: { [key: number]: number } = {};
  o[ROOMY_ELEMENTS - 1] = 0;
  delete o[ROOMY_ELEMENTS - 1];
  return o;
})();

/**
 * An empty plain object for a decoded map with integer keys, which become
 * its elements. A {} has no room for elements, and V8 stores the first
 * into it by a call into its runtime, several times the cost of the rest
 * of the entry; a copy of an object with room for a few (its copy keeps
 * that room) takes them in place. Same prototype, no own keys: nothing
 * tells it from {}.
 */
export function indexedMap<V>(): { [key: string]: V } {
  return { ...ROOMY };
}

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
 * through a number, much cheaper than parsing the string as a bigint. A
 * key that is no integer comes back as itself, for the generated range
 * check to refuse by name (BigInt would throw a bare SyntaxError).
 */
export function keyToBigInt(key: string): bigint | string {
  const n = +key;
  if (Number.isSafeInteger(n) && String(n) === key) return BigInt(n);
  try {
    return BigInt(key);
  } catch {
    return key;
  }
}
