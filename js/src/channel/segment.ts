/**
 * Creating and validating the shared segment (docs/PROTOCOL.md section 1.1).
 * JavaScript is the creator for the in-process transport; either side may
 * attach to a segment someone else created.
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

/** What an attaching side keeps from the header: private copies, never re-read. */
export interface SegmentInfo {
  readonly capacityC2S: number;
  readonly capacityS2C: number;
  readonly segmentBytes: number;
}

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
 * A new, initialized segment: zero-filled, every header field written, and
 * the magic stored last (Atomics.store) so that an attaching side that sees
 * it also sees the rest.
 *
 * Example usage:
 *
 *   const sab = createSegment({ capacityC2S: 1 << 16 });
 *   const channel = new Channel(sab, { side: "client", doorbell });
 */
export function createSegment(options: Partial<SegmentOptions> = {}): SharedArrayBuffer {
  if (!hostIsLittleEndian) throw new ShmrpcError("EINVAL", "shmrpc supports little-endian hosts only");
  const capacityC2S = options.capacityC2S ?? 1 << 20;
  const capacityS2C = options.capacityS2C ?? 1 << 20;
  const size = segmentSize(capacityC2S, capacityS2C);
  let sab: SharedArrayBuffer;
  try {
    sab = new SharedArrayBuffer(size);
  } catch (cause) {
    throw new ShmrpcError("ENOMEM", `cannot allocate a ${size}-byte segment`, { cause });
  }
  const header = new DataView(sab, 0, SEGMENT_HEADER_BYTES);
  header.setUint16(Offset.VERSION_MAJOR, SEGMENT_VERSION_MAJOR, true);
  header.setUint16(Offset.VERSION_MINOR, SEGMENT_VERSION_MINOR, true);
  header.setUint32(Offset.CAPACITY_C2S, capacityC2S, true);
  header.setUint32(Offset.CAPACITY_S2C, capacityS2C, true);
  header.setUint32(Offset.SEGMENT_BYTES, size, true);
  Atomics.store(new Int32Array(sab, 0, 1), Offset.MAGIC / 4, SEGMENT_MAGIC);
  return sab;
}

/**
 * Checks a segment before attaching (docs/PROTOCOL.md 1.1): magic (loaded
 * first, with Atomics.load), major version, flags, capacities and that the
 * recorded size matches both the capacities and the buffer. Throws
 * ShmrpcError EVERSION or EPROTO; a TypeError when `sab` is not a
 * SharedArrayBuffer.
 */
export function validateSegment(sab: SharedArrayBuffer): SegmentInfo {
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new TypeError("the segment must be a SharedArrayBuffer");
  }
  if (!hostIsLittleEndian) throw new ShmrpcError("EINVAL", "shmrpc supports little-endian hosts only");
  if (sab.byteLength < SEGMENT_HEADER_BYTES) {
    throw new ShmrpcError("EPROTO", `a segment has at least ${SEGMENT_HEADER_BYTES} bytes, got ${sab.byteLength}`);
  }
  const magic = Atomics.load(new Int32Array(sab, 0, 1), Offset.MAGIC / 4);
  if (magic !== SEGMENT_MAGIC) throw new ShmrpcError("EPROTO", "bad segment magic (not initialized?)");
  const header = new DataView(sab, 0, SEGMENT_HEADER_BYTES);
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
  if (segmentBytes !== expected || sab.byteLength !== expected) {
    throw new ShmrpcError(
      "EPROTO",
      `segment size mismatch: header says ${segmentBytes}, capacities give ${expected}, buffer has ${sab.byteLength}`,
    );
  }
  return { capacityC2S, capacityS2C, segmentBytes };
}
