/**
 * Reads protobuf wire format for generated decoders. Every read is
 * bounds-checked against the end of the input and fails with a DecodeError;
 * declared lengths are checked before anything is allocated, so a hostile
 * input costs at most its own size in memory and one pass in time.
 */
import { ON_HEAP_MAX, allocateBytes, isShared } from "../byte-pool.js";
import { DecodeError } from "./errors.js";
import { mapKey } from "./key-cache.js";
import { asciiRun, utf8Read } from "./utf8.js";

export interface ReaderOptions {
  /** Deepest nesting of messages (and unknown groups) accepted. Default 100. */
  maxDepth: number;
}

export const DEFAULT_READER_OPTIONS: Readonly<ReaderOptions> = { maxDepth: 100 };

export class Reader {
  buf: Uint8Array;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset just past the input. */
  end: number;
  readonly maxDepth: number;
  /** The two halves of the last 64-bit value read, unsigned. */
  private lo = 0;
  private hi = 0;
  /** A view of `viewOf`, an input read before (view()). */
  private inputView: DataView = EMPTY_VIEW;
  private viewOf: Uint8Array = EMPTY_INPUT;

  constructor(buf: Uint8Array, options?: Partial<ReaderOptions>) {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.maxDepth = options?.maxDepth ?? DEFAULT_READER_OPTIONS.maxDepth;
  }

  /**
   * A reader over `buf` with the default options, for one decode call:
   * always the same object, reset, which saves an allocation per message.
   * Decoding runs no user code, so no second decode can start before the
   * first returns. (It keeps a reference to the last input until the next
   * call.) Reading starts at `offset`; a RangeError if it is not an
   * integer from 0 to buf.length.
   */
  static over(buf: Uint8Array, offset = 0): Reader {
    if (!(offset >= 0 && offset <= buf.length && offset === Math.floor(offset))) {
      throw new RangeError(`decode offset ${offset} is outside the ${buf.length}-byte input`);
    }
    const r = shared;
    // Keep no view of an input other than this one (see view()).
    if (r.viewOf !== buf && r.viewOf !== EMPTY_INPUT) {
      r.viewOf = EMPTY_INPUT;
      r.inputView = EMPTY_VIEW;
    }
    r.buf = buf;
    r.pos = offset;
    r.end = buf.length;
    return r;
  }

  // ---- errors ------------------------------------------------------------

  truncated(at: number = this.pos): DecodeError {
    return new DecodeError("TRUNCATED", "input ends inside a field", at);
  }

  /** For a known field whose tag carries the wrong wire type. */
  wireTypeError(tag: number): DecodeError {
    return new DecodeError(
      "WRONG_WIRE_TYPE",
      `field ${tag >>> 3} has wire type ${tag & 7}, which its declared type cannot have`,
      this.pos,
    );
  }

  /** For a proto2 required field (`path`: "pkg.Message.field") missing at a message's end. */
  missingField(path: string): DecodeError {
    return new DecodeError("MISSING_REQUIRED", `required field ${path} is missing`, this.pos);
  }

  /** Checks that a message (or packed run) ended exactly at `end`. */
  atEnd(end: number): void {
    if (this.pos !== end) {
      throw new DecodeError("LENGTH_OVERRUN", "a field runs past the end of its message", end);
    }
  }

  // ---- varints -----------------------------------------------------------

  /** A varint's low 32 bits, unsigned. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (this.end - pos < 5) return this.varint32Long();
    // At least 5 bytes left: the common lengths need no bounds checks.
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++]!;
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++]!;
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) return this.varint32Long();
        }
      }
    }
    this.pos = pos;
    return v;
  }

  private varint32Long(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= end) throw this.truncated(pos);
      const b = buf[pos++]!;
      // Bits past 32 fall off the shift, which is what int32/uint32 want.
      if (shift < 32) v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return v >>> 0;
      }
    }
    throw new DecodeError("VARINT_TOO_LONG", "varint longer than 10 bytes", this.pos);
  }

  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    // Any non-zero varint is true, including one with only high bits set.
    const pos = this.pos;
    if (pos < this.end) {
      const b = this.buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        return b !== 0;
      }
    }
    this.varint64();
    return (this.lo | this.hi) !== 0;
  }

  /** Reads a varint into lo/hi. */
  private varint64(): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b: number;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw this.truncated(pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set64(lo, 0, pos);
    }
    if (pos >= end) throw this.truncated(pos);
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b < 0x80) return this.set64(lo, hi, pos);
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= end) throw this.truncated(pos);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set64(lo, hi, pos);
    }
    throw new DecodeError("VARINT_TOO_LONG", "varint longer than 10 bytes", this.pos);
  }

  private set64(lo: number, hi: number, pos: number): void {
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    this.pos = pos;
  }

  /** lo/hi as an unsigned 64-bit value. */
  private unsigned64(): bigint {
    halves[0] = this.lo;
    halves[1] = this.hi;
    return u64[0]!;
  }

  /** lo/hi as a two's complement 64-bit value. */
  private signed64(): bigint {
    halves[0] = this.lo;
    halves[1] = this.hi;
    return i64[0]!;
  }

  uint64(): bigint {
    this.varint64();
    return this.unsigned64();
  }

  int64(): bigint {
    this.varint64();
    return this.signed64();
  }

  sint64(): bigint {
    this.zigzag64();
    return this.signed64();
  }

  /** Reads a ZigZag varint into lo/hi, decoded. */
  private zigzag64(): void {
    this.varint64();
    const lo = this.lo;
    const hi = this.hi;
    const mask = -(lo & 1);
    this.lo = (((lo >>> 1) | (hi << 31)) ^ mask) >>> 0;
    this.hi = ((hi >>> 1) ^ mask) >>> 0;
  }

  // ---- 64-bit map keys: a number where exact, else the decimal string ------

  int64Key(): number | string {
    this.varint64();
    return this.signedKey();
  }

  uint64Key(): number | string {
    this.varint64();
    return this.unsignedKey();
  }

  sint64Key(): number | string {
    this.zigzag64();
    return this.signedKey();
  }

  fixed64Key(): number | string {
    this.fixed64Halves();
    return this.unsignedKey();
  }

  sfixed64Key(): number | string {
    this.fixed64Halves();
    return this.signedKey();
  }

  /** lo/hi, unsigned, as a property key. */
  private unsignedKey(): number | string {
    const hi = this.hi;
    return hi < SAFE_HI ? hi * 0x100000000 + this.lo : String(this.unsigned64());
  }

  /** lo/hi, two's complement, as a property key. */
  private signedKey(): number | string {
    const hi = this.hi;
    if (hi < SAFE_HI) return hi * 0x100000000 + this.lo;
    if (hi >= NEGATIVE_SAFE_HI) return (hi - 0x100000000) * 0x100000000 + this.lo;
    return String(this.signed64());
  }

  // ---- fixed width -------------------------------------------------------

  private take(n: number): number {
    const pos = this.pos;
    if (n > this.end - pos) throw this.truncated(pos);
    this.pos = pos + n;
    return pos;
  }

  fixed32(): number {
    const p = this.take(4);
    const b = this.buf;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  sfixed32(): number {
    return this.fixed32() | 0;
  }

  private fixed64Halves(): void {
    const p = this.take(8);
    const b = this.buf;
    this.lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    this.hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
  }

  fixed64(): bigint {
    this.fixed64Halves();
    return this.unsigned64();
  }

  sfixed64(): bigint {
    this.fixed64Halves();
    return this.signed64();
  }

  float(): number {
    const p = this.take(4);
    const b = this.buf;
    f32bytes[0] = b[p]!;
    f32bytes[1] = b[p + 1]!;
    f32bytes[2] = b[p + 2]!;
    f32bytes[3] = b[p + 3]!;
    return f32[0]!;
  }

  double(): number {
    const p = this.take(8);
    const b = this.buf;
    f64bytes[0] = b[p]!;
    f64bytes[1] = b[p + 1]!;
    f64bytes[2] = b[p + 2]!;
    f64bytes[3] = b[p + 3]!;
    f64bytes[4] = b[p + 4]!;
    f64bytes[5] = b[p + 5]!;
    f64bytes[6] = b[p + 6]!;
    f64bytes[7] = b[p + 7]!;
    return f64[0]!;
  }

  /**
   * Appends the values of a packed float run that ends at `end`. A long run
   * is read through a DataView of the input (view()).
   */
  floats(end: number, into: number[]): void {
    this.packedRun(end, 4);
    const count = (end - this.pos) / 4;
    if (count < LONG_RUN) {
      while (this.pos < end) into.push(this.float());
      return;
    }
    const view = this.view();
    let k = grow(into, count);
    for (let p = this.pos; p < end; p += 4) into[k++] = view.getFloat32(p, true);
    this.pos = end;
  }

  /** Appends the values of a packed double run, as floats() does. */
  doubles(end: number, into: number[]): void {
    this.packedRun(end, 8);
    const count = (end - this.pos) / 8;
    if (count < LONG_RUN) {
      while (this.pos < end) into.push(this.double());
      return;
    }
    const view = this.view();
    let k = grow(into, count);
    for (let p = this.pos; p < end; p += 8) into[k++] = view.getFloat64(p, true);
    this.pos = end;
  }

  /**
   * A DataView of the input (offsets as in buf), made on first use and kept
   * while the input stays the same object: no copy, and a long run of
   * floats or doubles is read at about half the cost of copying it to an
   * aligned area and reading that.
   */
  private view(): DataView {
    const buf = this.buf;
    // (A view of a resizable buffer can change length: then a new view.)
    if (this.viewOf !== buf || this.inputView.byteLength !== buf.length) {
      this.viewOf = buf;
      this.inputView = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    return this.inputView;
  }

  /** Appends the values of a packed int32 (or enum) run that ends at `end`. */
  int32s(end: number, into: number[]): void {
    this.varintRun(end, into, INT32);
  }

  /** Appends the values of a packed uint32 run that ends at `end`. */
  uint32s(end: number, into: number[]): void {
    this.varintRun(end, into, UINT32);
  }

  /** Appends the values of a packed sint32 run that ends at `end`. */
  sint32s(end: number, into: number[]): void {
    this.varintRun(end, into, SINT32);
  }

  /**
   * A packed run of 32-bit varints in one loop over locals. The array is
   * grown once, to the most varints the run can hold (one per byte), and
   * cut to the number read at the end: cheaper than counting them first
   * (a second pass over the run). While 10 bytes remain in the run no
   * varint can leave it, so those reads skip the bounds checks; the last
   * few go through uint32().
   */
  private varintRun(end: number, into: number[], kind: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let k = grow(into, end - pos);
    const fastEnd = end - 10;
    while (pos < end) {
      let v: number;
      if (pos <= fastEnd) {
        let b = buf[pos++]!;
        v = b & 0x7f;
        if (b >= 0x80) {
          b = buf[pos++]!;
          v |= (b & 0x7f) << 7;
          if (b >= 0x80) {
            b = buf[pos++]!;
            v |= (b & 0x7f) << 14;
            if (b >= 0x80) {
              b = buf[pos++]!;
              v |= (b & 0x7f) << 21;
              if (b >= 0x80) {
                b = buf[pos++]!;
                v |= b << 28;
                // Bytes 6 to 10 only carry bits above 32.
                for (let extra = 0; b >= 0x80; extra++) {
                  if (extra === 5) {
                    throw new DecodeError("VARINT_TOO_LONG", "varint longer than 10 bytes", pos);
                  }
                  b = buf[pos++]!;
                }
              }
            }
          }
        }
      } else {
        this.pos = pos;
        v = this.uint32();
        pos = this.pos;
      }
      into[k++] = kind === INT32 ? v | 0 : kind === UINT32 ? v >>> 0 : (v >>> 1) ^ -(v & 1);
    }
    // Each varint took a byte or more: k is at most where grow() ended.
    if (into.length > k) into.length = k;
    this.pos = pos;
    this.atEnd(end);
  }

  /** A packed run of fixed-width values must hold whole values. */
  private packedRun(end: number, width: number): void {
    if ((end - this.pos) % width !== 0) {
      throw new DecodeError("LENGTH_OVERRUN", `packed run is not a whole number of ${width}-byte values`, this.pos);
    }
  }

  // ---- length-delimited --------------------------------------------------

  /** Reads a length prefix; returns the offset just past the content. */
  lenEnd(): number {
    const n = this.uint32();
    if (n > this.end - this.pos) {
      throw new DecodeError("LENGTH_OVERRUN", `declared length ${n} runs past the input`, this.pos);
    }
    return this.pos + n;
  }

  /**
   * Enters an embedded message found at nesting `depth` (the enclosing
   * message's): returns where it ends.
   */
  nested(depth: number): number {
    if (depth >= this.maxDepth) {
      throw new DecodeError("DEPTH_LIMIT", `messages nested deeper than ${this.maxDepth}`, this.pos);
    }
    return this.lenEnd();
  }

  string(): string {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    return utf8Read(this.buf, start, end);
  }

  /**
   * Appends the entries of a repeated string field from here on, while they
   * follow one another: the first one's tag (`tag`, one byte) has been read,
   * and the run ends at another field or at `end`, the enclosing message's.
   * A run of ASCII text with one-byte lengths becomes one string in one call
   * into the platform, cut into the entries: these share it, so a kept
   * entry keeps the run's text alive (as a bytes view keeps the input).
   * Anything else is read entry by entry.
   */
  strings(tag: number, end: number, into: string[]): void {
    const buf = this.buf;
    const first = this.pos;
    let runEnd = first;
    let count = 0;
    for (let p = first; p < end; p = runEnd + 1) {
      const n = buf[p]!;
      if (n >= 0x80 || p + 1 + n > end) break;
      count++;
      runEnd = p + 1 + n;
      if (runEnd >= end || buf[runEnd] !== tag) break;
    }
    if (count >= 2 && runEnd - first >= ASCII_RUN_MIN) {
      const text = asciiRun(buf, first, runEnd);
      if (text !== undefined) {
        // Each entry: its length, its text, the next entry's tag. Lengths
        // are read from the text, a copy: input in shared memory may change.
        for (let q = 0; q < text.length; ) {
          const n = text.charCodeAt(q);
          into.push(text.substring(q + 1, q + 1 + n));
          q += n + 2;
        }
        this.pos = runEnd;
        return;
      }
    }
    into.push(this.string());
    for (let k = 1; k < count; k++) {
      this.pos++;
      into.push(this.string());
    }
  }

  /** A string map key: see key-cache.ts. */
  stringKey(): string {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    return mapKey(this.buf, start, end);
  }

  /**
   * A view of the input, as protobufjs and @bufbuild/protobuf return: no
   * copy of a large blob. Always a plain Uint8Array, whatever the input's
   * class (a Buffer's subarray would be a Buffer). A copy when the value is
   * small enough to live on V8's heap (as cheap as a view, and it keeps no
   * large input alive), when the input is small enough to live there (a
   * view would first move it off), or when the input is shared memory,
   * which the other side can change (a ring).
   */
  bytes(): Uint8Array {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    const buf = this.buf;
    const n = end - start;
    if (n <= ON_HEAP_MAX) {
      // Filled faster by hand than through set() and a subarray.
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
      return out;
    }
    if (buf.length > ON_HEAP_MAX && !isShared(buf)) return new Uint8Array(buf.buffer, buf.byteOffset + start, n);
    const out = allocateBytes(n, buf.byteOffset + start);
    out.set(buf.subarray(start, end));
    return out;
  }

  // ---- unknown fields ----------------------------------------------------

  /** Skips the value of a field whose tag was just read. */
  skip(tag: number, depth: number): void {
    if (tag >>> 3 === 0) {
      throw new DecodeError("INVALID_TAG", "field number 0", this.pos);
    }
    switch (tag & 7) {
      case 0:
        this.varint64();
        return;
      case 1:
        this.take(8);
        return;
      case 2:
        this.pos = this.lenEnd();
        return;
      case 3:
        this.skipGroup(tag >>> 3, depth);
        return;
      case 4:
        throw new DecodeError("INVALID_TAG", "end-group tag without a start-group", this.pos);
      case 5:
        this.take(4);
        return;
      default:
        throw new DecodeError("INVALID_WIRE_TYPE", `wire type ${tag & 7} does not exist`, this.pos);
    }
  }

  /**
   * Skips a group's content and its end tag, after its start tag (field
   * `field`); returns where the end tag began.
   */
  private skipGroup(field: number, depth: number): number {
    if (depth >= this.maxDepth) {
      throw new DecodeError("DEPTH_LIMIT", `groups nested deeper than ${this.maxDepth}`, this.pos);
    }
    for (;;) {
      if (this.pos >= this.end) throw this.truncated();
      const at = this.pos;
      const tag = this.uint32();
      if ((tag & 7) === 4) {
        if (tag >>> 3 !== field) {
          throw new DecodeError("INVALID_TAG", "end-group tag does not match its start", this.pos);
        }
        return at;
      }
      this.skip(tag, depth + 1);
    }
  }

  /**
   * Enters a group field (proto2) whose start tag, of field `field`, was
   * just read at nesting `depth`: checks the group through its matching end
   * tag and returns where its content ends (where the end tag begins). The
   * content is then read up to there, and endGroup() steps past the end tag.
   */
  group(field: number, depth: number): number {
    const start = this.pos;
    const end = this.skipGroup(field, depth);
    this.pos = start;
    return end;
  }

  /** Steps past the end tag of a group read up to where group() said; returns `value`. */
  endGroup<T>(value: T): T {
    this.uint32();
    return value;
  }

  /**
   * Skips a field the schema does not know and remembers its bytes, tag
   * included: `start` is where its tag began. Returns the updated list of
   * [start, end) pairs for unknownBytes().
   */
  unknown(tag: number, start: number, depth: number, ranges: number[] | undefined): number[] {
    this.skip(tag, depth);
    const list = ranges ?? [];
    list.push(start, this.pos);
    return list;
  }

  /** Copies the remembered unknown fields after `previous` (if any). */
  unknownBytes(ranges: readonly number[], previous: Uint8Array | undefined): Uint8Array {
    let total = previous?.length ?? 0;
    for (let i = 0; i < ranges.length; i += 2) total += ranges[i + 1]! - ranges[i]!;
    const out = new Uint8Array(total);
    let pos = 0;
    if (previous !== undefined) {
      out.set(previous);
      pos = previous.length;
    }
    const buf = this.buf;
    for (let i = 0; i < ranges.length; i += 2) {
      const from = ranges[i]!;
      const to = ranges[i + 1]!;
      if (buf.length <= ON_HEAP_MAX) {
        // No subarray of a small input: see ON_HEAP_MAX.
        for (let j = from; j < to; j++) out[pos++] = buf[j]!;
      } else {
        out.set(buf.subarray(from, to), pos);
        pos += to - from;
      }
    }
    return out;
  }

  /**
   * Inside a map entry: skips a field other than key (1) and value (2);
   * those two with an unexpected wire type are an error.
   */
  skipEntryField(tag: number, depth: number): void {
    const field = tag >>> 3;
    if (field === 1 || field === 2) throw this.wireTypeError(tag);
    this.skip(tag, depth);
  }
}

const EMPTY_INPUT = new Uint8Array(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
const shared = new Reader(EMPTY_INPUT);

// Halves written here read back as one 64-bit integer (little-endian host).
const halves = new Uint32Array(2);
const u64 = new BigUint64Array(halves.buffer);
const i64 = new BigInt64Array(halves.buffer);

const f32 = new Float32Array(1);
const f32bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);

/** High halves below this (or, negative, from the second) make exact numbers. */
const SAFE_HI = 0x200000;
const NEGATIVE_SAFE_HI = 0x100000000 - SAFE_HI;

const INT32 = 0;
const UINT32 = 1;
const SINT32 = 2;

/**
 * Runs of repeated strings shorter than this are read entry by entry: a
 * few short strings cost less in JavaScript than one call into the platform.
 */
const ASCII_RUN_MIN = 32;

/** Packed float and double runs of at least this many values are read through a DataView. */
const LONG_RUN = 16;

/**
 * Makes room for `count` values at the end of `into` (stored next by the
 * caller, in order) and returns where they go. Setting the length once is
 * much cheaper than growing the array push by push.
 */
function grow(into: number[], count: number): number {
  const at = into.length;
  // For a few values, appending one by one is cheaper than the length change.
  if (count >= LONG_RUN) into.length = at + count;
  return at;
}
