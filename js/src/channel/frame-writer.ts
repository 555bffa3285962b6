/**
 * Writes frames into the producer side of a ring (docs/PROTOCOL.md section
 * 3): whole frames when they fit, fragments of capacity / 4 bytes when a
 * message does not. It never waits and never publishes; the channel decides
 * when to do both.
 */
import { ShmrpcError } from "../errors.js";
import { FRAME_HEADER_BYTES, FRAME_MORE, fragmentPayloadBytes, writeFrameHeader, type FrameType } from "./frame.js";
import type { RingProducer } from "./ring.js";
import { encodeIntoShared } from "../byte-pool.js";
import { copyIntoShared } from "../shared-copy.js";

const encoder = new TextEncoder();
/** Up to this payload size the header and payload go byte by byte; above, one TypedArray.set. */
const SMALL_PAYLOAD = 16;
/**
 * Free bytes an in-place encode is offered without a fresh look at the
 * consumer's head (a load of the consumer's cache line): enough for the
 * usual request, and a larger one falls back to a sized send.
 */
const IN_PLACE_WANTED = 4096;

/**
 * Writes a payload of unknown length in place: into `target[start, end)`,
 * returning its length, or -1 when it does not fit there (what it wrote
 * is then ignored). Nothing outside that range may be touched.
 */
export type InPlaceEncoder = (target: Uint8Array, start: number, end: number) => number;

export class FrameWriter {
  /** Private bytes for a payload that wraps around the end of the ring. */
  private scratch = new Uint8Array(256);

  constructor(readonly ring: RingProducer) {}

  /** True when a message of `length` payload bytes needs fragments. */
  needsFragments(length: number): boolean {
    return FRAME_HEADER_BYTES + length > this.ring.capacity;
  }

  /** Ring bytes the next frame of a message needs, `written` payload bytes into it. */
  nextFrameBytes(length: number, written: number): number {
    if (!this.needsFragments(length)) return FRAME_HEADER_BYTES + length;
    return FRAME_HEADER_BYTES + Math.min(fragmentPayloadBytes(this.ring.capacity), length - written);
  }

  /**
   * The TEXT fast path: UTF-8 encodes `text` straight into the ring when the
   * worst case (3 bytes per UTF-16 unit) fits now without wrapping. Returns
   * false when it does not (nothing written); throws ShmrpcError EMSGSIZE,
   * with nothing written, when the encoding exceeds `maxPayload`.
   */
  writeTextInPlace(type: FrameType, text: string, maxPayload: number): boolean {
    const ring = this.ring;
    const worstFrame = FRAME_HEADER_BYTES + 3 * text.length;
    const at = ring.offset;
    // A browser's encodeInto refuses the ring (shared memory): the caller encodes a copy.
    if (!encodeIntoShared || at + worstFrame > ring.capacity || !ring.hasRoom(worstFrame)) return false;
    const { written } = encoder.encodeInto(text, ring.data.subarray(at + FRAME_HEADER_BYTES, at + worstFrame));
    if (written > maxPayload) {
      throw new ShmrpcError("EMSGSIZE", `a ${written}-byte message exceeds the peer's limit of ${maxPayload}`);
    }
    writeFrameHeader(ring.data, at, type, false, written);
    ring.advance(FRAME_HEADER_BYTES + written);
    return true;
  }

  /** Writes `payload` as one unfragmented frame if it fits now; false otherwise (nothing written). */
  writeFrame(type: FrameType, payload: Uint8Array): boolean {
    const ring = this.ring;
    const length = payload.length;
    const frameBytes = FRAME_HEADER_BYTES + length;
    if (frameBytes > ring.capacity || !ring.hasRoom(frameBytes)) return false;
    const at = ring.offset;
    if (length > SMALL_PAYLOAD && at + frameBytes <= ring.capacity) {
      writeFrameHeader(ring.data, at, type, false, length);
      copyIntoShared(ring.data, at + FRAME_HEADER_BYTES, payload);
      ring.advance(frameBytes);
    } else {
      this.writeHeader(type, false, length);
      ring.write(payload);
    }
    return true;
  }

  /**
   * Writes one unfragmented frame whose payload `write` fills in place
   * (`target[offset, offset + length)`): in the ring itself, or in a private
   * buffer copied in when the frame would wrap. False when the frame does
   * not fit now (`write` not called). If `write` throws, nothing is written.
   */
  writeEncoded(type: FrameType, length: number, write: (target: Uint8Array, offset: number) => void): boolean {
    const ring = this.ring;
    const frameBytes = FRAME_HEADER_BYTES + length;
    if (frameBytes > ring.capacity || !ring.hasRoom(frameBytes)) return false;
    const at = ring.offset;
    if (at + frameBytes <= ring.capacity) {
      write(ring.data, at + FRAME_HEADER_BYTES);
      writeFrameHeader(ring.data, at, type, false, length);
      ring.advance(frameBytes);
    } else {
      if (this.scratch.length < length) this.scratch = new Uint8Array(Math.max(length, 2 * this.scratch.length));
      write(this.scratch, 0);
      this.writeHeader(type, false, length);
      ring.write(this.scratch, 0, length);
    }
    return true;
  }

  /**
   * Writes one unfragmented frame whose payload `encode` writes straight
   * into the ring at `target[start, end)`, the contiguous free space after
   * the frame's header (at most `maxPayload` bytes), and whose length it
   * returns; -1 when it did not fit there. False then (nothing written).
   * If `encode` throws, nothing is written.
   */
  writeInPlace(type: FrameType, maxPayload: number, encode: InPlaceEncoder): boolean {
    const ring = this.ring;
    const room = ring.contiguousRoom(IN_PLACE_WANTED) - FRAME_HEADER_BYTES;
    if (room <= 0) return false;
    const at = ring.offset;
    const start = at + FRAME_HEADER_BYTES;
    const length = encode(ring.data, start, start + Math.min(room, maxPayload));
    if (length < 0) return false;
    writeFrameHeader(ring.data, at, type, false, length);
    ring.advance(FRAME_HEADER_BYTES + length);
    return true;
  }

  /**
   * Writes fragments of `payload` starting at payload byte `written` while
   * they fit, MORE set on all but the last. Returns the new count of payload
   * bytes written (payload.length once the message is complete).
   */
  writeFragments(type: FrameType, payload: Uint8Array, written: number): number {
    const ring = this.ring;
    const step = fragmentPayloadBytes(ring.capacity);
    while (written < payload.length) {
      const length = Math.min(step, payload.length - written);
      if (!ring.hasRoom(FRAME_HEADER_BYTES + length)) break;
      const end = written + length;
      this.writeHeader(type, end < payload.length, length);
      ring.write(payload, written, end);
      written = end;
    }
    return written;
  }

  /** Writes a header at the private tail, byte by byte (it may wrap). */
  private writeHeader(type: FrameType, more: boolean, length: number): void {
    const ring = this.ring;
    ring.writeByte(more ? type | FRAME_MORE : type);
    ring.writeByte(length >>> 24);
    ring.writeByte((length >>> 16) & 0xff);
    ring.writeByte((length >>> 8) & 0xff);
    ring.writeByte(length & 0xff);
  }
}
