/**
 * Writes protobuf wire format for generated encoders, in one of two ways.
 *
 * One pass ($encode, behind encode()): fields go into the writer's own
 * growing area in order. Each embedded message or packed run gets one byte
 * for its length, filled in after its content; the rare content of 128
 * bytes or more is moved up to make room for a longer prefix. The result is
 * copied out once, at the end.
 *
 * Two passes ($size then $write, behind encodedSize() and encodeInto()): a
 * size pass computes the exact encoded size and records, in pre-order, the
 * length of every embedded message, packed run and string; the write pass
 * then emits bytes straight into the caller's target, taking those lengths
 * in the same order. The caller knows the size before it reserves space
 * (e.g. in a ring), and nothing is copied.
 */
import { encodeIntoShared, isShared } from "../byte-pool.js";
import { BOUNCE_MIN_BYTES, copyIntoShared } from "../shared-copy.js";
import { invalidValue } from "./errors.js";
import { nativeUtf8Length, nativeUtf8Write, utf8Encode, utf8Length, utf8Write } from "./utf8.js";

const EMPTY = new Uint8Array(0);
const NO_KEYS: string[] = [];
const NO_AREA = new ArrayBuffer(0);
const encoder = new TextEncoder();
/** Strings up to this many UTF-16 units are measured and written in JS (two passes). */
const SHORT_STRING = 24;
/** Strings up to this many UTF-16 units take at most 126 bytes: a one-byte length. */
const ONE_BYTE_LENGTH_STRING = 42;
const MAX_KEPT_SCRATCH = 1 << 20;
/** First size of the one-pass area. */
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

function changedError(): Error {
  return new Error("message changed while it was being encoded");
}

export class Writer {
  buf: Uint8Array = EMPTY;
  pos = 0;
  /** Lengths recorded by the size pass, in pre-order. */
  private readonly lens: number[] = [];
  /** Lengths recorded so far (size pass). */
  private count = 0;
  /** Next length to use (write pass). */
  private next = 0;
  /** Keys of the maps the size pass met, in pre-order, for the write pass. */
  private readonly keyLists: string[][] = [];
  private keyCount = 0;
  private nextKeyList = 0;
  private busy = false;
  /** UTF-8 of the long strings of the message being encoded. */
  private scratch: Uint8Array = new Uint8Array(1024);
  private scratchUsed = 0;
  /** Aligned area where long float and double runs are converted. */
  private runScratch = NO_AREA;
  /** The one-pass area, allocated on first use. */
  private area: Uint8Array = EMPTY;
  /** A DataView of the area, for runs of floats and doubles written in place. */
  private areaView: DataView = new DataView(NO_AREA);
  /** One pass: the area's length less SLACK. */
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
    w.count = 0;
    w.next = 0;
    w.keyCount = 0;
    w.scratchUsed = 0;
    return w;
  }

  release(): void {
    this.busy = false;
    // Do not keep the message's maps' keys alive either.
    for (let i = 0; i < this.keyCount; i++) this.keyLists[i] = NO_KEYS;
    // Do not keep a huge message's strings or encoding alive in the shared writer.
    if (this.scratch.length > MAX_KEPT_SCRATCH) this.scratch = new Uint8Array(1024);
    if (this.area.length > MAX_KEPT_SCRATCH) this.setArea(EMPTY);
    this.buf = EMPTY;
  }

  /** Starts the write pass into `target` at `offset`. */
  begin(target: Uint8Array, offset: number): void {
    this.buf = target;
    this.pos = offset;
    this.next = 0;
    this.nextKeyList = 0;
  }

  /**
   * Ends the write pass; `expectedEnd` is offset + size from the size pass.
   * A mismatch means the message changed between the passes.
   */
  finish(expectedEnd: number): number {
    if (this.pos !== expectedEnd || this.next !== this.count || this.nextKeyList !== this.keyCount) {
      throw changedError();
    }
    return this.pos;
  }

  // ---- size pass -----------------------------------------------------------

  /** Reserves the length of an embedded message whose size comes next. */
  slot(): number {
    const i = this.count++;
    this.lens[i] = 0;
    return i;
  }

  /**
   * Keeps the keys of a map field (listed once per encode: Object.keys is
   * costly for integer keys) for the write pass, which takes them back with
   * nextMapKeys().
   */
  keepKeys(keys: string[]): string[] {
    this.keyLists[this.keyCount++] = keys;
    return keys;
  }

  /** Fills a slot; returns the bytes the length prefix and content take. */
  fill(slot: number, len: number): number {
    this.lens[slot] = len;
    return sizeUint32(len) + len;
  }

  /** Records a packed run's content length; returns prefix + content. */
  run(len: number): number {
    this.lens[this.count++] = len;
    return sizeUint32(len) + len;
  }

  /**
   * Records a string's UTF-8 length; returns prefix + content. A long string
   * is encoded here, once, into the writer's scratch area (its offset
   * recorded after the length) and copied by the write pass: cheaper than
   * measuring it in JavaScript and encoding it later.
   */
  stringSize(s: string): number {
    let len: number;
    if (s.length <= SHORT_STRING) {
      len = utf8Length(s);
      this.lens[this.count++] = len;
    } else {
      const need = s.length * 3;
      if (this.scratch.length - this.scratchUsed < need) this.growScratch(need);
      len =
        nativeUtf8Write !== undefined
          ? nativeUtf8Write.call(this.scratch, s, this.scratchUsed, need)
          : encoder.encodeInto(s, this.scratch.subarray(this.scratchUsed)).written;
      this.lens[this.count++] = len;
      this.lens[this.count++] = this.scratchUsed;
      this.scratchUsed += len;
    }
    return sizeUint32(len) + len;
  }

  /**
   * Size pass: the entries of a repeated string field whose tag is one
   * byte, tags included. A batch of ASCII entries (nextBatch()) is encoded
   * here, once, into the scratch area, recorded as its length, offset and
   * entry count; the entries of any other batch are recorded one by one
   * after the negated count.
   */
  stringFieldsSize(tag: number, values: readonly string[], field: string): number {
    let n = 0;
    for (let i = 0; i < values.length; i = this.batchEnd) {
      const batch = this.nextBatch(tag, values, i);
      const end = this.batchEnd;
      const offset = this.scratchUsed;
      if (batch !== undefined && this.asciiToScratch(batch)) {
        this.lens[this.count++] = batch.length;
        this.lens[this.count++] = offset;
        this.lens[this.count++] = end - i;
        n += batch.length;
        continue;
      }
      this.lens[this.count++] = i - end;
      for (let k = i; k < end; k++) n += 1 + this.stringSize(stringAt(values, k, field));
    }
    return n;
  }

  /** Size pass: writes `batch` into the scratch area if it is all ASCII; says whether it did. */
  private asciiToScratch(batch: string): boolean {
    const room = 3 * batch.length;
    if (this.scratch.length - this.scratchUsed < room) this.growScratch(room);
    if (!asciiWrite(batch, this.scratch, this.scratchUsed)) return false;
    this.scratchUsed += batch.length;
    return true;
  }

  private growScratch(need: number): void {
    const grown = new Uint8Array(Math.max(this.scratch.length * 2, this.scratchUsed + need));
    grown.set(this.scratch.subarray(0, this.scratchUsed));
    this.scratch = grown;
  }

  // ---- write pass ----------------------------------------------------------

  /** The keys the size pass listed for the next map field. */
  nextMapKeys(): string[] {
    return this.keyLists[this.nextKeyList++] ?? NO_KEYS;
  }

  /** Writes the next recorded length (of an embedded message or packed run). */
  len(): void {
    this.uint32(this.lens[this.next++]!);
  }

  /** Writes a string as the size pass measured (or encoded) it. */
  string(value: string): void {
    const len = this.lens[this.next++]!;
    this.uint32(len);
    if (value.length <= SHORT_STRING) {
      utf8Write(value, len, this.buf, this.pos);
    } else {
      const offset = this.lens[this.next++]!;
      this.buf.set(this.scratch.subarray(offset, offset + len), this.pos);
    }
    this.pos += len;
  }

  /** Writes the entries of a repeated string field as stringFieldsSize() recorded them. */
  stringFieldsAsMeasured(tag: number, values: readonly string[]): void {
    for (let i = 0; i < values.length; ) {
      // More entries than the size pass saw would run past its records.
      if (this.next >= this.count) throw changedError();
      const mark = this.lens[this.next++]!;
      if (mark >= 0) {
        const offset = this.lens[this.next++]!;
        i += this.lens[this.next++]!;
        this.buf.set(this.scratch.subarray(offset, offset + mark), this.pos);
        this.pos += mark;
        continue;
      }
      for (let k = 0; k < -mark && i < values.length; k++) {
        this.byte(tag);
        this.string(values[i++]!);
      }
    }
  }

  // ---- one pass -------------------------------------------------------------

  /** Starts a one-pass encode into the writer's own area. */
  beginArea(): void {
    if (this.area.length === 0) this.setArea(new Uint8Array(INITIAL_AREA));
    this.buf = this.area;
    this.pos = 0;
    this.limit = this.area.length - SLACK;
  }

  /** The bytes of a one-pass encode, in a new array of their own. */
  copyArea(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** One pass: makes room for `n` bytes, and SLACK more. */
  ensure(n: number): void {
    if (this.pos + n > this.limit) this.grow(n);
  }

  private grow(n: number): void {
    const area = new Uint8Array(Math.max(this.area.length * 2, this.pos + n + SLACK));
    area.set(this.buf.subarray(0, this.pos));
    this.setArea(area);
    this.buf = area;
    this.limit = area.length - SLACK;
  }

  private setArea(area: Uint8Array): void {
    this.area = area;
    this.areaView = new DataView(area.buffer, area.byteOffset, area.length);
  }

  /** One pass: a field's tag, after a check that leaves SLACK behind it. */
  tag(tag: number): void {
    if (this.pos > this.limit) this.grow(0);
    if (tag < 0x80) this.buf[this.pos++] = tag;
    else this.uint32(tag);
  }

  /**
   * One pass: reserves a byte for the length of the embedded message or
   * packed run that follows a tag; join() fills it in.
   */
  fork(): number {
    return this.pos++;
  }

  /** One pass: writes the length of what was written since fork() returned `at`. */
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
   * One pass: a string with its length. One short enough to need a one-byte
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
    else if (!encodeIntoShared && isShared(this.buf)) utf8Write(s, len, this.buf, this.pos);
    else encoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }

  /**
   * One pass: the entries of a repeated string field whose tag is one byte,
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

  /** One pass: writes `batch` if it is all ASCII; says whether it did. */
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
   * One pass: the values of a packed int32 (or enum) run, each checked
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

  /** One pass: the values of a packed uint32 run, as int32Run() does. */
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

  /** One pass: the values of a packed sint32 run (ZigZag), as int32Run() does. */
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
   * One pass: the values of a packed double run, each checked as it is
   * written (`field` names it in the error), through a DataView of the
   * area. The caller has written the run's length and made room.
   */
  doubleRun(values: readonly number[], field: string): void {
    const view = this.areaView;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++, pos += 8) {
      const v: unknown = values[i];
      if (typeof v !== "number") throw invalidValue(field, "double", v);
      view.setFloat64(pos, v, true);
    }
    this.pos = pos;
  }

  /** One pass: the values of a packed float run, as doubleRun() does. */
  floatRun(values: readonly number[], field: string): void {
    const view = this.areaView;
    let pos = this.pos;
    for (let i = 0; i < values.length; i++, pos += 4) {
      const v: unknown = values[i];
      if (typeof v !== "number") throw invalidValue(field, "float", v);
      view.setFloat32(pos, v, true);
    }
    this.pos = pos;
  }

  /** One pass: a bytes field's length and content. */
  bytesField(value: Uint8Array): void {
    const n = value.length;
    this.ensure(5 + n);
    this.uint32(n);
    this.buf.set(value, this.pos);
    this.pos += n;
  }

  /** One pass: already-encoded fields (unknown fields kept from decoding). */
  rawField(value: Uint8Array): void {
    this.ensure(value.length);
    this.raw(value);
  }

  // ---- values (either way) ----------------------------------------------------

  /** One byte below 0x80: a one-byte tag, or a one-byte varint. */
  byte(value: number): void {
    this.buf[this.pos++] = value;
  }

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

  /**
   * The values of a packed float run (write pass). A long run is converted
   * whole by a Float32Array and its bytes copied in one go.
   */
  floats(values: readonly number[]): void {
    const count = values.length;
    if (count < LONG_RUN) {
      for (const v of values) this.float(v);
      return;
    }
    const area = this.runArea(count * 4);
    new Float32Array(area, 0, count).set(values);
    this.buf.set(new Uint8Array(area, 0, count * 4), this.pos);
    this.pos += count * 4;
  }

  /** The values of a packed double run, as floats() does. */
  doubles(values: readonly number[]): void {
    const count = values.length;
    if (count < LONG_RUN) {
      for (const v of values) this.double(v);
      return;
    }
    const area = this.runArea(count * 8);
    new Float64Array(area, 0, count).set(values);
    this.buf.set(new Uint8Array(area, 0, count * 8), this.pos);
    this.pos += count * 8;
  }

  /** The run area, grown to `bytes` (kept grown up to MAX_KEPT_SCRATCH). */
  private runArea(bytes: number): ArrayBuffer {
    if (this.runScratch.byteLength >= bytes) return this.runScratch;
    const area = new ArrayBuffer(bytes);
    if (bytes <= MAX_KEPT_SCRATCH) this.runScratch = area;
    return area;
  }

  /** A bytes field's length and content, where there is room. */
  bytes(value: Uint8Array): void {
    this.uint32(value.length);
    this.raw(value);
  }

  /** Copies already-encoded fields (unknown fields kept from decoding), where there is room. */
  raw(value: Uint8Array): void {
    // Into shared memory (a ring), a long copy must keep word alignment.
    if (value.length >= BOUNCE_MIN_BYTES && isShared(this.buf)) copyIntoShared(this.buf, this.pos, value);
    else this.buf.set(value, this.pos);
    this.pos += value.length;
  }
}

const shared = new Writer();

// ---- sizes -----------------------------------------------------------------

export function sizeUint32(value: number): number {
  const v = value >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export function sizeInt32(value: number): number {
  const v = value | 0;
  return v < 0 ? 10 : sizeUint32(v);
}

export function sizeSint32(value: number): number {
  const v = value | 0;
  return sizeUint32(((v << 1) ^ (v >> 31)) >>> 0);
}

function sizeVarint64(lo: number, hi: number): number {
  if (hi === 0) return sizeUint32(lo);
  return hi < 0x8 ? 5 : hi < 0x400 ? 6 : hi < 0x20000 ? 7 : hi < 0x1000000 ? 8 : hi < 0x80000000 ? 9 : 10;
}

export function sizeInt64(value: bigint): number {
  split64(value);
  return sizeVarint64(lo64, hi64);
}

export const sizeUint64 = sizeInt64;

export function sizeSint64(value: bigint): number {
  zigzag64(value);
  return sizeVarint64(lo64, hi64);
}

/** Length prefix plus content of a bytes field. */
export function sizeBytes(value: Uint8Array): number {
  return sizeUint32(value.length) + value.length;
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

/** Packed float and double runs at least this long are converted whole. */
const LONG_RUN = 16;
