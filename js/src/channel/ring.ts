/**
 * One direction of a channel: an SPSC byte ring in the segment
 * (docs/PROTOCOL.md section 2). The ring moves bytes and validates indices;
 * it knows nothing about frames or waking.
 *
 * Each side keeps its own index privately (loaded once, at construction) and
 * never reads it back; it reads the peer's index with one Atomics.load per
 * check and validates it before use, so a hostile peer can make the channel
 * fail with EPROTO but never make it touch memory outside the data area.
 * Counters are free-running u32 values: every difference is taken `>>> 0`.
 */
import { ShmrpcError } from "../errors.js";
import { RingOffset } from "./layout.js";
import { copyFromShared, copyIntoShared } from "../shared-copy.js";

/** Where a ring lives inside the segment. */
export interface RingLocation {
  /** Byte offset of the 128-byte control block. */
  readonly controlOffset: number;
  /** Byte offset of the data area. */
  readonly dataOffset: number;
  /** Data bytes, a power of two (validated by the segment). */
  readonly capacity: number;
}

const TAIL = RingOffset.TAIL / 4;
const HEAD = RingOffset.HEAD / 4;

/**
 * Copies below this size go byte by byte: cheaper than creating the
 * subarray views that TypedArray.set needs.
 */
const SMALL_COPY = 64;

abstract class RingView {
  readonly capacity: number;
  /** The data area. Callers index it only within ranges the ring granted. */
  readonly data: Uint8Array;
  protected readonly control: Int32Array;
  protected readonly mask: number;

  constructor(sab: SharedArrayBuffer, location: RingLocation) {
    this.capacity = location.capacity;
    this.mask = location.capacity - 1;
    this.control = new Int32Array(sab, location.controlOffset, 32);
    this.data = new Uint8Array(sab, location.dataOffset, location.capacity);
  }
}

/** The producer's view: writes at a private tail, publishes with Atomics.store. */
export class RingProducer extends RingView {
  /** Next byte to write (private; includes unpublished bytes). */
  private tail: number;
  /** Last tail stored to shared memory. */
  private published: number;
  /**
   * Free bytes as of the last head load; only reloaded when a write needs
   * more, so a burst of small frames reads the consumer's line once.
   */
  private knownFree = 0;

  constructor(sab: SharedArrayBuffer, location: RingLocation) {
    super(sab, location);
    this.tail = Atomics.load(this.control, TAIL) >>> 0;
    this.published = this.tail;
  }

  /** Data-area offset of the private tail. */
  get offset(): number {
    return this.tail & this.mask;
  }

  /** Bytes written but not yet published. */
  get unpublished(): number {
    return (this.tail - this.published) >>> 0;
  }

  /**
   * True when `bytes` can be written now. Loads the consumer's head only
   * when the free space known from the last load is too small.
   */
  hasRoom(bytes: number): boolean {
    return bytes <= this.knownFree || bytes <= this.writable();
  }

  /**
   * Free bytes (unpublished bytes count as used). Loads the shared head once;
   * throws ShmrpcError EPROTO when it is impossible.
   */
  writable(): number {
    const head = Atomics.load(this.control, HEAD) >>> 0;
    const used = (this.tail - head) >>> 0;
    if (used > this.capacity) {
      throw new ShmrpcError("EPROTO", `ring head ${head} is impossible for tail ${this.tail}`);
    }
    this.knownFree = this.capacity - used;
    return this.knownFree;
  }

  /** Writes one byte at the private tail. The caller has checked the room. */
  writeByte(value: number): void {
    this.data[this.tail & this.mask] = value;
    this.tail = (this.tail + 1) >>> 0;
    this.knownFree--;
  }

  /**
   * Copies `source[start, end)` at the private tail, continuing at offset 0
   * when it reaches the end of the data area. The caller has checked the room.
   */
  write(source: Uint8Array, start = 0, end = source.length): void {
    const length = end - start;
    const at = this.tail & this.mask;
    if (length <= SMALL_COPY) {
      const data = this.data;
      const mask = this.mask;
      for (let i = 0; i < length; i++) data[(at + i) & mask] = source[start + i]!;
    } else {
      const first = Math.min(length, this.capacity - at);
      copyIntoShared(this.data, at, source.subarray(start, start + first));
      if (first < length) copyIntoShared(this.data, 0, source.subarray(start + first, end));
    }
    this.advance(length);
  }

  /**
   * Counts `length` bytes written directly into `data` at `offset` as
   * written. The caller has checked the room and that they did not wrap.
   */
  advance(length: number): void {
    this.tail = (this.tail + length) >>> 0;
    this.knownFree -= length;
  }

  /**
   * Makes everything written so far visible to the consumer with one
   * Atomics.store of the tail (the release that orders the bytes before it).
   * Returns false when there was nothing new to publish.
   */
  publish(): boolean {
    if (this.tail === this.published) return false;
    Atomics.store(this.control, TAIL, this.tail | 0);
    this.published = this.tail;
    return true;
  }
}

/** The consumer's view: reads from a private head, hands space back with Atomics.store. */
export class RingConsumer extends RingView {
  /** Next byte to read (private). */
  private head: number;
  /** Last head stored to shared memory. */
  private released: number;

  constructor(sab: SharedArrayBuffer, location: RingLocation) {
    super(sab, location);
    this.head = Atomics.load(this.control, HEAD) >>> 0;
    this.released = this.head;
  }

  /**
   * Published bytes not yet consumed. Loads the shared tail once; throws
   * ShmrpcError EPROTO when it is impossible.
   */
  readable(): number {
    const tail = Atomics.load(this.control, TAIL) >>> 0;
    const available = (tail - this.head) >>> 0;
    if (available > this.capacity) {
      throw new ShmrpcError("EPROTO", `ring tail ${tail} is impossible for head ${this.head}`);
    }
    return available;
  }

  /** The byte `offset` bytes past the head. The caller has checked readable(). */
  byteAt(offset: number): number {
    return this.data[(this.head + offset) & this.mask]!;
  }

  /** The big-endian u32 `offset` bytes past the head. */
  uint32At(offset: number): number {
    const data = this.data;
    const mask = this.mask;
    const at = this.head + offset;
    return (
      ((data[at & mask]! << 24) | (data[(at + 1) & mask]! << 16) | (data[(at + 2) & mask]! << 8) | data[(at + 3) & mask]!) >>>
      0
    );
  }

  /**
   * Copies `length` bytes starting `offset` bytes past the head into
   * `target` at `targetOffset`, across the end of the data area if needed.
   */
  copyOut(offset: number, length: number, target: Uint8Array, targetOffset = 0): void {
    const at = (this.head + offset) & this.mask;
    if (length <= SMALL_COPY) {
      const data = this.data;
      const mask = this.mask;
      for (let i = 0; i < length; i++) target[targetOffset + i] = data[(at + i) & mask]!;
      return;
    }
    const first = Math.min(length, this.capacity - at);
    copyFromShared(this.data, at, first, target, targetOffset);
    if (first < length) copyFromShared(this.data, 0, length - first, target, targetOffset + first);
  }

  /**
   * The index in `data` of the `length` bytes starting `offset` bytes past
   * the head, or -1 when they wrap around the end of the data area. The
   * caller has checked readable(); the bytes are shared memory, valid until
   * they are handed back.
   */
  contiguousAt(offset: number, length: number): number {
    const at = (this.head + offset) & this.mask;
    return at + length <= this.capacity ? at : -1;
  }

  /** The byte offset in the buffer of the byte `offset` bytes past the head (for alignment). */
  byteOffsetAt(offset: number): number {
    return this.data.byteOffset + ((this.head + offset) & this.mask);
  }

  /** Moves the private head past `length` bytes (not yet handed back). */
  consume(length: number): void {
    this.head = (this.head + length) >>> 0;
  }

  /**
   * Hands consumed space back to the producer with one Atomics.store of the
   * head. Returns false when nothing was consumed since the last release.
   */
  release(): boolean {
    if (this.head === this.released) return false;
    Atomics.store(this.control, HEAD, this.head | 0);
    this.released = this.head;
    return true;
  }
}
