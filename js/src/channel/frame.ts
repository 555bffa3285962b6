/**
 * The frame format (docs/PROTOCOL.md section 3): one type byte whose bit 7 is
 * MORE, the payload length as a big-endian u32, then the payload. Pure
 * functions over private bytes; the channel writes the same bytes straight
 * into the ring.
 */
import { ShmrpcError } from "../errors.js";

/** Message types. TEXT payloads are UTF-8. */
export const FrameType = { TEXT: 0, BINARY: 1, COMMAND: 2 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_BYTES = 5;
/** Set in the type byte of every fragment but the last of a message. */
export const FRAME_MORE = 0x80;
/** Bits 0-6 of the type byte. */
export const FRAME_TYPE_MASK = 0x7f;

export interface FrameHeader {
  readonly type: FrameType;
  /** Another fragment of the same message follows. */
  readonly more: boolean;
  /** Payload bytes. */
  readonly length: number;
}

/** True for TEXT, BINARY and COMMAND; types 3-127 are reserved. */
export function isFrameType(value: unknown): value is FrameType {
  return value === FrameType.TEXT || value === FrameType.BINARY || value === FrameType.COMMAND;
}

/**
 * The bytes of one unfragmented message, identical to the seed's
 * Protocol.createMessage(type, payload). TEXT takes a string (encoded as
 * UTF-8) or its UTF-8 bytes; BINARY and COMMAND take bytes.
 *
 * Example usage:
 *
 *   encodeFrame(FrameType.TEXT, "hi") // 00 00 00 00 02 68 69
 */
export function encodeFrame(type: FrameType, payload: Uint8Array | string): Uint8Array {
  if (!isFrameType(type)) throw new TypeError(`encodeFrame: unknown frame type ${String(type)}`);
  let bytes: Uint8Array;
  if (typeof payload === "string") {
    if (type !== FrameType.TEXT) throw new TypeError("encodeFrame: only TEXT frames take a string");
    bytes = new TextEncoder().encode(payload);
  } else if (payload instanceof Uint8Array) {
    bytes = payload;
  } else {
    throw new TypeError("encodeFrame: the payload must be a Uint8Array (or a string for TEXT)");
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + bytes.length);
  writeFrameHeader(frame, 0, type, false, bytes.length);
  frame.set(bytes, FRAME_HEADER_BYTES);
  return frame;
}

/** Writes the 5 header bytes at `offset` of `target` (which must hold them). */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  type: FrameType,
  more: boolean,
  length: number,
): void {
  target[offset] = more ? type | FRAME_MORE : type;
  target[offset + 1] = length >>> 24;
  target[offset + 2] = (length >>> 16) & 0xff;
  target[offset + 3] = (length >>> 8) & 0xff;
  target[offset + 4] = length & 0xff;
}

/**
 * Parses the header at `offset`. Throws ShmrpcError EINVAL when fewer than 5
 * bytes remain and EPROTO for a reserved type.
 */
export function decodeFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader {
  if (!Number.isInteger(offset) || offset < 0 || offset + FRAME_HEADER_BYTES > bytes.length) {
    throw new ShmrpcError("EINVAL", "a frame header needs 5 bytes");
  }
  const typeByte = bytes[offset]!;
  const type = typeByte & FRAME_TYPE_MASK;
  if (!isFrameType(type)) throw new ShmrpcError("EPROTO", `reserved frame type ${type}`);
  const length =
    ((bytes[offset + 1]! << 24) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 8) | bytes[offset + 4]!) >>> 0;
  return { type, more: (typeByte & FRAME_MORE) !== 0, length };
}

/**
 * Payload bytes per fragment when a message does not fit in a ring of
 * `capacity` bytes: fragment frames of capacity / 4 bytes, so that the
 * receiver drains one while the sender writes the next (the reference split
 * of docs/PROTOCOL.md section 3).
 */
export function fragmentPayloadBytes(capacity: number): number {
  return capacity / 4 - FRAME_HEADER_BYTES;
}

/**
 * A delivered message. `data` is a private copy of the payload, except for
 * listeners that borrow (MessageListenerOptions.borrow). A copy of 65 to
 * 4096 bytes is a view of a slab it shares with other messages (as Node's
 * pooled Buffers are): its `buffer` is larger than it, so use `byteOffset`
 * and `length` with it.
 */
export type Message =
  | { readonly type: typeof FrameType.TEXT; readonly data: string }
  | { readonly type: typeof FrameType.BINARY | typeof FrameType.COMMAND; readonly data: Uint8Array };
