/**
 * Writes protobuf wire format for generated encoders ($encode), in one
 * pass into the writer's own growing area: fields go in in order, and each
 * embedded message or packed run gets one byte for its length, filled in
 * after its content (the rare content of 128 bytes or more is moved up to
 * make room for a longer prefix). The result is then copied out
 * (copyArea) or into the caller's target, such as a ring (copyAreaInto).
 * Every value is checked by the generated code (or by the run methods
 * here) before it is written.
 */
import { isShared } from "../byte-pool.js";
import { BOUNCE_MIN_BYTES, copyIntoShared, copyMovableIntoShared } from "../shared-copy.js";
import { invalidValue } from "./errors.js";
import { nativeUtf8Length, nativeUtf8Write, utf8Encode, utf8Length } from "./utf8.js";

const EMPTY = new Uint8Array(0);
const NO_AREA = new ArrayBuffer(0);
const encoder = new TextEncoder();
/** Strings up to this many UTF-16 units take at most 126 bytes: a one-byte length. */
const ONE_BYTE_LENGTH_STRING = 42;
/** An area bigger than this is not kept after the encode that grew it. */
const MAX_KEPT_AREA = 1 << 20;
/** Copies of up to this many bytes go byte by byte: cheaper than a subarray and set(). */
const SMALL_COPY = 64;
/** First size of the area. */
const INITIAL_AREA = 4096;
/** Longest batch of repeated strings written in one call, in UTF-16 units. */
const BATCH_UNITS = 8192;
/**
 * Room the one-pass area keeps past every checked write: a tag and a scalar
 * value, or a map entry of scalars, fit without a check of their own.
 */
const SLACK = 48;

/**
 * Writes `batch` (see Writer.nextBatch) at `pos` if it is all ASCII: one
 * byte per unit, given room for any text (with less, text beyond ASCII
 * could stop the writer after exactly as many bytes as units). Says
 * whether it was.
 */
function asciiWrite(batch: string, target: Uint8Array, pos: number): boolean {
  return nativeUtf8Write!.call(target, batch, pos, 3 * batch.length) === batch.length;
}

/** What a Writer begun with beginInto throws when the encoding does not fit its range. */
export const NO_ROOM: Error = new Error("the encoding does not fit the range given to Writer.beginInto");

export class Writer {
  /** The area being written (the generated code writes through buf and pos). */
  buf: Uint8Array = EMPTY;
  pos = 0;
  private busy = false;
  /** The area, allocated on first use. */
  private area: Uint8Array = EMPTY;
  /** A DataView of the area. */
  private areaView: DataView = new DataView(NO_AREA);
  /** A DataView of buf, for runs of floats and doubles written in place. */
  private view: DataView = this.areaView;
  /** Writing into a target of the caller's (beginInto) rather than the area. */
  private inPlace = false;
  /** The last target of beginInto and a DataView of it (a ring: the same one each time). */
  private target: Uint8Array = EMPTY;
  private targetView: DataView = new DataView(NO_AREA);
  /** The area's length less SLACK. */
  private limit = 0;
  /** Where the batch nextBatch() returned ends. */
  private batchEnd = 0;

  /**
   * A writer for one encode call: a shared one when free, else a new one
   * (an encode started from inside another, e.g. by a getter). Give it back
   * with release().
   */
  static acquire(): Writer {
    const w = shared;
    if (w.busy) return new Writer();
    w.busy = true;
    return w;
  }

  release(): void {
    this.busy = false;
    this.inPlace = false;
    // Do not keep a huge message's encoding alive in the shared writer.
    if (this.area.length > MAX_KEPT_AREA) this.setArea(EMPTY);
    this.buf = EMPTY;
  }

  // ---- the area -------------------------------------------------------------

  /** Starts an encode into the writer's own area. */
  beginArea(): void {
    if (this.area.length === 0) this.setArea(new Uint8Array(INITIAL_AREA));
    this.buf = this.area;
    this.view = this.areaView;
    this.pos = 0;
    this.limit = this.area.length - SLACK;
  }

  /**
   * Starts an encode straight into `target[start, end)` (a ring's free
   * space, say): when it would not fit, the write that would cross `end`
   * throws NO_ROOM instead of growing, and what was written is garbage.
   * The encoded bytes end at pos. release() returns to the area.
   */
  beginInto(target: Uint8Array, start: number, end: number): void {
    if (target !== this.target) {
      this.target = target;
      this.targetView = new DataView(target.buffer, target.byteOffset, target.length);
    }
    this.inPlace = true;
    this.buf = target;
    this.view = this.targetView;
    this.pos = start;
    // Every check leaves SLACK behind it: a write crosses `end` only after one fails.
    this.limit = end - SLACK;
  }

  /** The bytes encoded, in a new array of their own. */
  copyArea(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /**
   * Copies the bytes encoded into `target` at `offset`, which the caller
   * has checked they fit. Into shared memory (a ring), a long copy keeps
   * word alignment (copyMovableIntoShared).
   */
  copyAreaInto(target: Uint8Array, offset: number): void {
    const area = this.buf;
    const n = this.pos;
    if (n <= SMALL_COPY) {
      // A subarray and set() cost more than this loop (into shared memory,
      // set() is a call into the runtime): about 1,300 instructions.
      for (let i = 0; i < n; i++) target[offset + i] = area[i]!;
      return;
    }
    // The area has SLACK bytes to spare: it may be moved into alignment.
    if (n >= BOUNCE_MIN_BYTES && isShared(target)) copyMovableIntoShared(target, offset, area, n);
    else target.set(area.subarray(0, n), offset);
  }

  /** Makes room for `n` bytes, and SLACK more. */
  ensure(n: number): void {
    if (this.pos + n > this.limit) this.grow(n);
  }

  private grow(n: number): void {
    if (this.inPlace) throw NO_ROOM;
    const area = new Uint8Array(Math.max(this.area.length * 2, this.pos + n + SLACK));
    area.set(this.buf.subarray(0, this.pos));
    this.setArea(area);
    this.buf = area;
    this.limit = area.length - SLACK;
  }

  private setArea(area: Uint8Array): void {
    this.area = area;
    this.areaView = new DataView(area.buffer, area.byteOffset, area.length);
    this.view = this.areaView;
  }

  /** A field's tag, after a check that leaves SLACK behind it. */
  tag(tag: number): void {
    if (this.pos > this.limit) this.grow(0);
    if (tag < 0x80) this.buf[this.pos++] = tag;
    else this.uint32(tag);
  }

  /**
   * Reserves a byte for the length of the embedded message or
   * packed run that follows a tag; join() fills it in.
   */
  fork(): number {
    return this.pos++;
  }

  /** Writes the length of what was written since fork() returned `at`. */
  join(at: number): void {
    const len = this.pos - at - 1;
    if (len < 0x80) {
      this.buf[at] = len;
      return;
    }
    // The length needs more than its byte: move the content up to make room.
    const extra = sizeUint32(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    this.pos = at;
    this.uint32(len);
    this.pos += len;
  }

  /**
   * A string with its length. One short enough to need a one-byte
   * length whatever its characters is encoded first and its length written
   * after, which saves measuring it.
   */
  stringField(s: string): void {
    const n = s.length;
    if (n <= ONE_BYTE_LENGTH_STRING) {
      this.ensure(1 + 3 * n);
      const at = this.pos;
      const end = utf8Encode(s, this.buf, at + 1);
      this.buf[at] = end - at - 1;
      this.pos = end;
      return;
    }
    const len = nativeUtf8Length !== undefined ? nativeUtf8Length(s) : utf8Length(s);
    this.ensure(5 + len);
    this.uint32(len);
    if (nativeUtf8Write !== undefined) nativeUtf8Write.call(this.buf, s, this.pos, len);
    else encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }

  /**
   * The entries of a repeated string field whose tag is one byte,
   * in batches where Node's UTF-8 writer is present (see nextBatch()).
   */
  stringFields(tag: number, values: readonly string[], field: string): void {
    for (let i = 0; i < values.length; i = this.batchEnd) {
      const batch = this.nextBatch(tag, values, i);
      if (batch !== undefined && this.asciiToArea(batch)) continue;
      for (let k = i; k < this.batchEnd; k++) {
        this.tag(tag);
        this.stringField(stringAt(values, k, field));
      }
    }
  }

  /** Writes `batch` if it is all ASCII; says whether it did. */
  private asciiToArea(batch: string): boolean {
    this.ensure(3 * batch.length);
    if (!asciiWrite(batch, this.buf, this.pos)) return false;
    this.pos += batch.length;
    return true;
  }

  /**
   * The next batch of repeated string entries from `values[from]`: their
   * tags, lengths and text joined into one string (a rope, cheap to build),
   * for one call into Node's UTF-8 writer instead of a loop in JavaScript
   * over every character. Entries of up to 127 units qualify; batchEnd is
   * set past the entries taken. Undefined where there is nothing to gain:
   * no Node, fewer than two entries (batchEnd is then just past one entry).
   */
  private nextBatch(tag: number, values: readonly string[], from: number): string | undefined {
    let i = from;
    let batch = "";
    if (nativeUtf8Write !== undefined) {
      // Anything but a string ends the batch (and is refused entry by entry).
      while (i < values.length && typeof values[i] === "string" && values[i]!.length < 0x80 &&
             batch.length < BATCH_UNITS) {
        const v = values[i++]!;
        batch = batch + String.fromCharCode(tag, v.length) + v;
      }
    }
    if (i - from >= 2) {
      this.batchEnd = i;
      return batch;
    }
    this.batchEnd = from + 1;
    return undefined;
  }

  /**
   * The values of a packed int32 (or enum) run, each checked
   * first (`field` and `kind` name it in the error), in one loop over
   * locals. A negative value takes ten bytes.
   */
  int32Run(values: readonly number[], field: string, kind: string): void {
    const count = values.length;
    this.ensure(count * 10);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      let v: unknown = values[i];
      if (typeof v !== "number" || (v | 0) !== v) throw invalidValue(field, kind, v);
      if (v >= 0) {
        while (v > 0x7f) {
          buf[pos++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        buf[pos++] = v;
      } else {
        // Sign-extended to 64 bits: 28 bits of v, its top 4 with ones, then ones.
        let lo = v >>> 0;
        for (let k = 0; k < 4; k++) {
          buf[pos++] = (lo & 0x7f) | 0x80;
          lo >>>= 7;
        }
        buf[pos++] = lo | 0xf0;
        buf[pos++] = 0xff;
        buf[pos++] = 0xff;
        buf[pos++] = 0xff;
        buf[pos++] = 0xff;
        buf[pos++] = 0x01;
      }
    }
    this.pos = pos;
  }

  /** The values of a packed uint32 run, as int32Run() does. */
  uint32Run(values: readonly number[], field: string, kind: string): void {
    const count = values.length;
    this.ensure(count * 5);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      let v: unknown = values[i];
      if (typeof v !== "number" || (v >>> 0) !== v) throw invalidValue(field, kind, v);
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    }
    this.pos = pos;
  }

  /** The values of a packed sint32 run (ZigZag), as int32Run() does. */
  sint32Run(values: readonly number[], field: string, kind: string): void {
    const count = values.length;
    this.ensure(count * 5);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < count; i++) {
      const value: unknown = values[i];
      if (typeof value !== "number" || (value | 0) !== value) throw invalidValue(field, kind, value);
      let v = ((value << 1) ^ (value >> 31)) >>> 0;
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    }
    this.pos = pos;
  }

  /**
   * The values of a packed double run, each checked as it is
   * written (`field` names it in the error), through a DataView of the
   * area. The caller has written the run's length and made room.
   */
  doubleRun(values: readonly number[], field: string): void {
    const view = this.view;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++, pos += 8) {
      const v: unknown = values[i];
      if (typeof v !== "number") throw invalidValue(field, "double", v);
      view.setFloat64(pos, v, true);
    }
    this.pos = pos;
  }

  /** The values of a packed float run, as doubleRun() does. */
  floatRun(values: readonly number[], field: string): void {
    const view = this.view;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++, pos += 4) {
      const v: unknown = values[i];
      if (typeof v !== "number") throw invalidValue(field, "float", v);
      view.setFloat32(pos, v, true);
    }
    this.pos = pos;
  }

  /** A bytes field's length and content. */
  bytesField(value: Uint8Array): void {
    const n = value.length;
    this.ensure(5 + n);
    this.uint32(n);
    const buf = this.buf;
    const pos = this.pos;
    if (n <= SMALL_COPY) {
      // Cheaper by hand than set(), whose fixed cost dominates a short copy.
      for (let i = 0; i < n; i++) buf[pos + i] = value[i]!;
    } else if (this.inPlace) {
      // Into a ring: a misaligned set() into shared memory goes byte by byte.
      copyIntoShared(buf, pos, value);
    } else {
      buf.set(value, pos);
    }
    this.pos = pos + n;
  }

  /** Already-encoded fields (unknown fields kept from decoding). */
  rawField(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  // ---- values, where tag() or ensure() made room ---------------------------

  uint32(value: number): void {
    let v = value >>> 0;
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  int32(value: number): void {
    const v = value | 0;
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  sint32(value: number): void {
    const v = value | 0;
    this.uint32(((v << 1) ^ (v >> 31)) >>> 0);
  }

  bool(value: boolean): void {
    this.buf[this.pos++] = value ? 1 : 0;
  }

  private varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.uint32(lo);
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    // 28 bits of lo, then 4 of lo with 3 of hi, then the rest of hi.
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    let h = hi >>> 0;
    let b = lo | ((h & 0x07) << 4);
    h >>>= 3;
    while (h !== 0) {
      buf[pos++] = b | 0x80;
      b = h & 0x7f;
      h >>>= 7;
    }
    buf[pos++] = b;
    this.pos = pos;
  }

  int64(value: bigint): void {
    split64(value);
    this.varint64(lo64, hi64);
  }

  uint64(value: bigint): void {
    split64(value);
    this.varint64(lo64, hi64);
  }

  sint64(value: bigint): void {
    zigzag64(value);
    this.varint64(lo64, hi64);
  }

  fixed32(value: number): void {
    const v = value >>> 0;
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = v;
    buf[pos + 1] = v >>> 8;
    buf[pos + 2] = v >>> 16;
    buf[pos + 3] = v >>> 24;
    this.pos = pos + 4;
  }

  sfixed32(value: number): void {
    this.fixed32(value);
  }

  fixed64(value: bigint): void {
    split64(value);
    this.fixed32(lo64);
    this.fixed32(hi64);
  }

  sfixed64(value: bigint): void {
    this.fixed64(value);
  }

  float(value: number): void {
    f32[0] = value;
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = f32bytes[0]!;
    buf[pos + 1] = f32bytes[1]!;
    buf[pos + 2] = f32bytes[2]!;
    buf[pos + 3] = f32bytes[3]!;
    this.pos = pos + 4;
  }

  double(value: number): void {
    f64[0] = value;
    const buf = this.buf;
    const pos = this.pos;
    buf[pos] = f64bytes[0]!;
    buf[pos + 1] = f64bytes[1]!;
    buf[pos + 2] = f64bytes[2]!;
    buf[pos + 3] = f64bytes[3]!;
    buf[pos + 4] = f64bytes[4]!;
    buf[pos + 5] = f64bytes[5]!;
    buf[pos + 6] = f64bytes[6]!;
    buf[pos + 7] = f64bytes[7]!;
    this.pos = pos + 8;
  }
}

const shared = new Writer();

// ---- sizes -----------------------------------------------------------------

/** The bytes a varint of `value` (unsigned 32-bit) takes. */
function sizeUint32(value: number): number {
  const v = value >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

// ---- 64-bit helpers: results in lo64/hi64, unsigned 32-bit halves ---------

let lo64 = 0;
let hi64 = 0;

// A BigInt64Array store wraps any bigint modulo 2^64 in one step; the
// Uint32Array over the same bytes reads its halves (little-endian host).
const i64 = new BigInt64Array(1);
const u32 = new Uint32Array(i64.buffer);

/** Splits a value into two's complement halves (wrapping modulo 2^64). */
function split64(value: bigint): void {
  i64[0] = value;
  lo64 = u32[0]!;
  hi64 = u32[1]!;
}

/** ZigZag of a 64-bit value, on its halves: (v << 1) ^ (v >> 63). */
function zigzag64(value: bigint): void {
  split64(value);
  const sign = hi64 >> 31;
  const lo = lo64;
  lo64 = ((lo << 1) ^ sign) >>> 0;
  hi64 = (((hi64 << 1) | (lo >>> 31)) ^ sign) >>> 0;
}

/** values[k], which must be a string (plain JavaScript may hand over anything). */
function stringAt(values: readonly string[], k: number, field: string): string {
  const v: unknown = values[k];
  if (typeof v !== "string") throw invalidValue(field, "string", v);
  return v;
}

const f32 = new Float32Array(1);
const f32bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
