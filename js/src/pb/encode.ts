/**
 * The public encoders of every generated codec (MessageType's encode,
 * encodeInto and encodedSize), which its methods hand to with the codec:
 * each runs the codec's one pass ($encode) into the shared writer's area,
 * then copies the bytes out, copies them into the caller's target, or
 * counts them.
 */
import type { MessageCodec } from "./codec.js";
import type { MessageInit } from "./message-type.js";
import { Writer } from "./writer.js";

/** `message` encoded, in a new array of its own. */
export function encode<T>(codec: MessageCodec<T>, message: MessageInit<T>): Uint8Array {
  const w = Writer.acquire();
  try {
    w.beginArea();
    codec.$encode(message, w);
    return w.copyArea();
  } finally {
    w.release();
  }
}

/**
 * Encodes `message` into `target` at `offset` (shared memory too, e.g. a
 * ring); returns the offset after the last byte. A RangeError if it does
 * not fit, with nothing written.
 */
export function encodeInto<T>(codec: MessageCodec<T>, message: MessageInit<T>, target: Uint8Array, offset: number): number {
  const w = Writer.acquire();
  try {
    w.beginArea();
    codec.$encode(message, w);
    const end = offset + w.pos;
    if (!(offset >= 0 && end <= target.length)) throw new RangeError(`target too small for ${codec.typeName}`);
    w.copyAreaInto(target, offset);
    return end;
  } finally {
    w.release();
  }
}

/** The number of bytes encode() returns for `message` (it encodes it to know). */
export function encodedSize<T>(codec: MessageCodec<T>, message: MessageInit<T>): number {
  const w = Writer.acquire();
  try {
    w.beginArea();
    codec.$encode(message, w);
    return w.pos;
  } finally {
    w.release();
  }
}
