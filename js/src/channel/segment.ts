/**
 * Creating and validating the shared segment (docs/PROTOCOL.md section 1.1).
 * JavaScript is the creator for the in-process transport; either side may
 * attach to a segment someone else created.
 *
 * A segment is a region of a SharedArrayBuffer: the whole buffer, or
 * `length` bytes at `byteOffset` inside a larger one (a WebAssembly.Memory's
 * buffer, a memory region mapped by native code). The region's start must
 * be 4-byte aligned, because the header's control words are read as 32-bit
 * atomics; 64-byte alignment keeps each ring's two indices on cache lines
 * of their own, as the C side assumes (segment.h), and is what to use when
 * you choose the offset.
 */
import { ShmrpcError } from "../errors.js";
import {
  Offset,
  RING_MAX_CAPACITY,
  RING_MIN_CAPACITY,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION_MAJOR,
  SEGMENT_VERSION_MINOR,
} from "./layout.js";

export interface SegmentOptions {
  /** Client -> server ring bytes, a power of two in [64, 2^30]. Default 1 MiB. */
  capacityC2S: number;
  /** Server -> client ring bytes, a power of two in [64, 2^30]. Default 1 MiB. */
  capacityS2C: number;
}

/**
 * Where a segment is: `byteLength` bytes at `byteOffset` of `buffer`, which
 * must be a SharedArrayBuffer. A Uint8Array over the region is one (and can
 * be posted to a Worker as it is).
 */
export interface SegmentRegion {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
}

/** A checked region: the runtime's views are made at `byteOffset` of `buffer`. */
export interface SharedRegion extends SegmentRegion {
  readonly buffer: SharedArrayBuffer;
}

/** A whole SharedArrayBuffer, or a region of one. */
export type SegmentSource = SharedArrayBuffer | SegmentRegion;

/** What an attaching side keeps from the header: private copies, never re-read. */
export interface SegmentInfo {
  readonly capacityC2S: number;
  readonly capacityS2C: number;
  readonly segmentBytes: number;
}

/** The alignment a segment's start needs (its control words are 32-bit atomics). */
export const SEGMENT_ALIGNMENT = 4;

// Int32Array uses host byte order and the protocol is little-endian.
const hostIsLittleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function isCapacity(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= RING_MIN_CAPACITY &&
    value <= RING_MAX_CAPACITY &&
    (value & (value - 1)) === 0
  );
}

/** Why there is no SharedArrayBuffer in a browser, and the cure. */
export const crossOriginIsolationMessage =
  "SharedArrayBuffer is not available: a browser page (and its Workers) must be cross-origin isolated " +
  "(served with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";

const SharedBuffer = globalThis.SharedArrayBuffer as SharedArrayBufferConstructor | undefined;

/** A TypeError saying why, where SharedArrayBuffer is missing (a page that is not cross-origin isolated). */
function requireSharedMemory(): SharedArrayBufferConstructor {
  if (SharedBuffer === undefined) throw new TypeError(crossOriginIsolationMessage);
  return SharedBuffer;
}

function requireSharedArrayBuffer(buffer: unknown, what: string): asserts buffer is SharedArrayBuffer {
  if (!(buffer instanceof requireSharedMemory())) throw new TypeError(`${what} must be a SharedArrayBuffer or a region of one`);
}

/**
 * `source` as a checked region: a TypeError when it is neither a
 * SharedArrayBuffer nor a region of one, ShmrpcError EINVAL when the
 * region is misaligned or does not lie inside its buffer.
 */
export function segmentRegion(source: SegmentSource, what = "the segment"): SharedRegion {
  if (SharedBuffer !== undefined && source instanceof SharedBuffer) {
    return { buffer: source, byteOffset: 0, byteLength: source.byteLength };
  }
  if (source === null || typeof source !== "object") requireSharedArrayBuffer(source, what);
  const { buffer, byteOffset, byteLength } = source as SegmentRegion;
  requireSharedArrayBuffer(buffer, what);
  return { buffer, byteOffset, byteLength: checkedPlacement(buffer, byteOffset, byteLength, what) };
}

/** Checks that `length` bytes at `offset` are an aligned part of `buffer`; returns `length`. */
function checkedPlacement(buffer: SharedArrayBuffer, offset: unknown, length: unknown, what: string): number {
  if (typeof offset !== "number" || typeof length !== "number") {
    throw new TypeError(`${what}: byteOffset and byteLength must be numbers`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset % SEGMENT_ALIGNMENT !== 0) {
    throw new ShmrpcError("EINVAL", `${what}: byteOffset ${offset} is not a multiple of ${SEGMENT_ALIGNMENT} (64 recommended)`);
  }
  if (!Number.isInteger(length) || length < 0 || offset + length > buffer.byteLength) {
    throw new ShmrpcError(
      "EINVAL",
      `${what}: ${length} bytes at offset ${offset} do not fit in a ${buffer.byteLength}-byte buffer`,
    );
  }
  return length;
}

/** Total bytes of a segment with these ring capacities; EINVAL for a bad capacity. */
export function segmentSize(capacityC2S: number, capacityS2C: number): number {
  for (const capacity of [capacityC2S, capacityS2C]) {
    if (!isCapacity(capacity)) {
      throw new ShmrpcError("EINVAL", `ring capacity ${String(capacity)} is not a power of two in [64, 2^30]`);
    }
  }
  return SEGMENT_HEADER_BYTES + capacityC2S + capacityS2C;
}

/**
 * A new, initialized segment in a SharedArrayBuffer of its own (see
 * formatSegment).
 *
 * Example usage:
 *
 *   const sab = createSegment({ capacityC2S: 1 << 16 });
 *   const channel = new Channel(sab, { side: "client", doorbell });
 */
export function createSegment(options: Partial<SegmentOptions> = {}): SharedArrayBuffer {
  const SharedMemory = requireSharedMemory();
  const size = segmentSize(options.capacityC2S ?? 1 << 20, options.capacityS2C ?? 1 << 20);
  let sab: SharedArrayBuffer;
  try {
    sab = new SharedMemory(size);
  } catch (cause) {
    throw new ShmrpcError("ENOMEM", `cannot allocate a ${size}-byte segment`, { cause });
  }
  formatSegment(sab, 0, options);
  return sab;
}

/**
 * Initializes a segment at `byteOffset` of `buffer` (a SharedArrayBuffer,
 * such as a shared WebAssembly.Memory's) and returns a Uint8Array over it,
 * ready for `new Channel(region)`: the region is zero-filled, every header
 * field written, and the magic stored last (Atomics.store) so that an
 * attaching side that sees it also sees the rest. `byteOffset` must be a
 * multiple of 4 (64 recommended). Throws ShmrpcError EINVAL for a bad
 * capacity, a misaligned offset or a segment that does not fit.
 *
 * Example usage:
 *
 *   const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
 *   const region = formatSegment(memory.buffer as SharedArrayBuffer, 4096, { capacityC2S: 1 << 16 });
 *   const channel = new Channel(region, { side: "client" });
 */
export function formatSegment(buffer: SharedArrayBuffer, byteOffset: number, options: Partial<SegmentOptions> = {}): Uint8Array {
  requireSharedArrayBuffer(buffer, "formatSegment: the buffer");
  if (!hostIsLittleEndian) throw new ShmrpcError("EINVAL", "shmrpc supports little-endian hosts only");
  const capacityC2S = options.capacityC2S ?? 1 << 20;
  const capacityS2C = options.capacityS2C ?? 1 << 20;
  const size = segmentSize(capacityC2S, capacityS2C);
  checkedPlacement(buffer, byteOffset, size, "formatSegment");
  const bytes = new Uint8Array(buffer, byteOffset, size);
  const words = new Int32Array(buffer, byteOffset, 1);
  // Unpublish an earlier segment here first: its magic must not cover a half-written header.
  Atomics.store(words, Offset.MAGIC / 4, 0);
  bytes.fill(0);
  const header = new DataView(buffer, byteOffset, SEGMENT_HEADER_BYTES);
  header.setUint16(Offset.VERSION_MAJOR, SEGMENT_VERSION_MAJOR, true);
  header.setUint16(Offset.VERSION_MINOR, SEGMENT_VERSION_MINOR, true);
  header.setUint32(Offset.CAPACITY_C2S, capacityC2S, true);
  header.setUint32(Offset.CAPACITY_S2C, capacityS2C, true);
  header.setUint32(Offset.SEGMENT_BYTES, size, true);
  Atomics.store(words, Offset.MAGIC / 4, SEGMENT_MAGIC);
  return bytes;
}

/**
 * Checks a segment before attaching (docs/PROTOCOL.md 1.1): magic (loaded
 * first, with Atomics.load), major version, flags, capacities and that the
 * recorded size matches both the capacities and the region. Throws
 * ShmrpcError EVERSION or EPROTO, EINVAL for a misplaced region (see
 * segmentRegion); a TypeError when `source` is not a SharedArrayBuffer or a
 * region of one.
 */
export function validateSegment(source: SegmentSource): SegmentInfo {
  return validateRegion(segmentRegion(source));
}

/** validateSegment for a region already checked by segmentRegion. */
export function validateRegion({ buffer, byteOffset, byteLength }: SharedRegion): SegmentInfo {
  if (!hostIsLittleEndian) throw new ShmrpcError("EINVAL", "shmrpc supports little-endian hosts only");
  if (byteLength < SEGMENT_HEADER_BYTES) {
    throw new ShmrpcError("EPROTO", `a segment has at least ${SEGMENT_HEADER_BYTES} bytes, got ${byteLength}`);
  }
  const magic = Atomics.load(new Int32Array(buffer, byteOffset, 1), Offset.MAGIC / 4);
  if (magic !== SEGMENT_MAGIC) throw new ShmrpcError("EPROTO", "bad segment magic (not initialized?)");
  const header = new DataView(buffer, byteOffset, SEGMENT_HEADER_BYTES);
  const major = header.getUint16(Offset.VERSION_MAJOR, true);
  if (major !== SEGMENT_VERSION_MAJOR) {
    throw new ShmrpcError("EVERSION", `segment version ${major}, this runtime speaks ${SEGMENT_VERSION_MAJOR}`);
  }
  const flags = header.getUint32(Offset.FLAGS, true);
  if (flags !== 0) throw new ShmrpcError("EPROTO", `unknown segment flags 0x${flags.toString(16)}`);
  const capacityC2S = header.getUint32(Offset.CAPACITY_C2S, true);
  const capacityS2C = header.getUint32(Offset.CAPACITY_S2C, true);
  if (!isCapacity(capacityC2S) || !isCapacity(capacityS2C)) {
    throw new ShmrpcError("EPROTO", `bad ring capacities ${capacityC2S}/${capacityS2C}`);
  }
  const segmentBytes = header.getUint32(Offset.SEGMENT_BYTES, true);
  const expected = SEGMENT_HEADER_BYTES + capacityC2S + capacityS2C;
  if (segmentBytes !== expected || byteLength !== expected) {
    throw new ShmrpcError(
      "EPROTO",
      `segment size mismatch: header says ${segmentBytes}, capacities give ${expected}, the region has ${byteLength}`,
    );
  }
  return { capacityC2S, capacityS2C, segmentBytes };
}
