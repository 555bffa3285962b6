/**
 * UTF-8 for string fields. Short strings are converted in JavaScript, which
 * beats a call into TextEncoder/TextDecoder; long ones go to the platform
 * (Node's Buffer where present, else TextEncoder, which the writer calls
 * itself). Encoding follows WHATWG (a lone surrogate becomes U+FFFD);
 * decoding rejects anything that is not valid UTF-8.
 */
import { ON_HEAP_MAX, isShared } from "../byte-pool.js";
import { DecodeError } from "./errors.js";

interface NodeBuffer {
  byteLength(s: string): number;
  prototype: {
    utf8Slice?: (this: Uint8Array, start: number, end: number) => string;
    utf8Write?: (this: Uint8Array, s: string, offset: number, length: number) => number;
  };
}

/** Node's Buffer, whose methods work on any Uint8Array; absent in browsers. */
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer;

/**
 * Node's UTF-8 length of a string (lone surrogates count as U+FFFD, as in
 * utf8Length): a fast V8 API call, cheaper than the JavaScript loop for all
 * but the shortest strings. Undefined outside Node.
 */
export const nativeUtf8Length: ((s: string) => number) | undefined = nodeBuffer?.byteLength;

/**
 * Node's Buffer#utf8Write: encodes a string into any Uint8Array at an
 * offset, without the subarray TextEncoder#encodeInto needs, and returns the
 * bytes written. Undefined outside Node.
 */
export const nativeUtf8Write = nodeBuffer?.prototype.utf8Write;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Number of bytes `s` takes in UTF-8. */
export function utf8Length(s: string): number {
  const len = s.length;
  let n = len;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
      const d = s.charCodeAt(i + 1);
      // A surrogate pair is 2 units and 4 bytes; a lone one becomes U+FFFD.
      if (d >= 0xdc00 && d < 0xe000) i++;
      n += 2;
    } else {
      n += 2;
    }
  }
  return n;
}

/** Writes `s` (exactly `byteLength` bytes of UTF-8) at `pos`. */
export function utf8Write(s: string, byteLength: number, buf: Uint8Array, pos: number): void {
  const len = s.length;
  if (byteLength === len) {
    // Every unit is ASCII.
    for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
    return;
  }
  utf8Encode(s, buf, pos);
}

/**
 * Writes `s` as UTF-8 at `pos`, where `buf` has room for 3 bytes per UTF-16
 * unit; returns the offset just past it.
 */
export function utf8Encode(s: string, buf: Uint8Array, pos: number): number {
  const len = s.length;
  // Leading ASCII, the common case, in a loop of its own.
  let i = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    buf[pos + i] = c;
  }
  pos += i;
  for (; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xe000) {
        const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
          i++;
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          buf[pos++] = 0xf0 | (cp >> 18);
          buf[pos++] = 0x80 | ((cp >> 12) & 0x3f);
          buf[pos++] = 0x80 | ((cp >> 6) & 0x3f);
          buf[pos++] = 0x80 | (cp & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/**
 * Decodes `buf[start, end)`; throws DecodeError("INVALID_UTF8"). Short
 * strings, and any in an input small enough to live on V8's heap, are
 * decoded in JavaScript; longer ones, in Node, by Buffer's UTF-8 slice,
 * which needs neither a subarray nor a pass in JavaScript; the platform's
 * strict decoder takes everything else.
 */
export function utf8Read(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  // A subarray would move so small an input off the heap: decode it here.
  const small = buf.length <= ON_HEAP_MAX;
  if (n > SHORT_ASCII && !small) {
    if (utf8Slice === undefined) return platformDecode(buf, start, end);
    // Node's decoder replaces what is not UTF-8 by U+FFFD. The strict one
    // tells such input from a real U+FFFD (which a string of one-byte
    // characters cannot hold: no search needed).
    const s = utf8Slice.call(buf, start, end);
    return s.includes("\ufffd") ? platformDecode(buf, start, end) : s;
  }
  return asciiString(buf, start, n) ?? shortUtf8(buf, start, end);
}

/**
 * The text of `buf[start, end)` if every byte is ASCII, else undefined
 * (also for an input small enough to live on V8's heap, which a native
 * call would first move off it). One call into the platform for a run of
 * many short strings, which the caller cuts out of it.
 */
export function asciiRun(buf: Uint8Array, start: number, end: number): string | undefined {
  if (buf.length <= ON_HEAP_MAX) return undefined;
  let text: string;
  if (utf8Slice !== undefined) {
    text = utf8Slice.call(buf, start, end);
  } else {
    try {
      text = platformDecode(buf, start, end);
    } catch {
      return undefined;
    }
  }
  // Node writes U+FFFD for bytes that are not UTF-8, and every other byte
  // beyond ASCII belongs to a sequence that makes fewer units than bytes.
  return text.length === end - start && !text.includes("\ufffd") ? text : undefined;
}

/** UTF-16 units of the short string being decoded. */
const units: number[] = [];

/**
 * Decodes and validates a short string in JavaScript, as the platform
 * decoder would (WHATWG, fatal): no overlong forms, surrogates or values
 * past U+10FFFF. Spares the decoder call, and the subarray it needs.
 */
function shortUtf8(b: Uint8Array, start: number, end: number): string {
  let n = 0;
  let i = start;
  while (i < end) {
    const c = b[i++]!;
    if (c < 0x80) {
      units[n++] = c;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the first one's range.
    let need: number;
    let lower = 0x80;
    let upper = 0xbf;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      cp = c & 0x0f;
      if (c === 0xe0) lower = 0xa0;
      else if (c === 0xed) upper = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      cp = c & 0x07;
      if (c === 0xf0) lower = 0x90;
      else if (c === 0xf4) upper = 0x8f;
    } else {
      throw invalidUtf8(start);
    }
    if (end - i < need) throw invalidUtf8(start);
    const first = b[i++]!;
    if (first < lower || first > upper) throw invalidUtf8(start);
    cp = (cp << 6) | (first & 0x3f);
    for (let k = 1; k < need; k++) {
      const d = b[i++]!;
      if (d < 0x80 || d > 0xbf) throw invalidUtf8(start);
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < 0x10000) {
      units[n++] = cp;
    } else {
      cp -= 0x10000;
      units[n++] = 0xd800 | (cp >> 10);
      units[n++] = 0xdc00 | (cp & 0x3ff);
    }
  }
  units.length = n;
  return chars.apply(null, units);
}

function invalidUtf8(at: number): DecodeError {
  return new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", at);
}

const SHORT_ASCII = 16;
const chars = String.fromCharCode;

/** Node's Buffer#utf8Slice; absent elsewhere. */
const utf8Slice = nodeBuffer?.prototype.utf8Slice;

/**
 * `n` bytes at `s` as a string if all are ASCII, else undefined. Up to 16
 * are loaded once each into locals, tested together and passed to one call
 * with exactly as many arguments, which makes the string flat in one step;
 * longer runs are joined from such pieces.
 */
export function asciiString(b: Uint8Array, s: number, n: number): string | undefined {
  switch (n) {
    case 0:
      return "";
    case 1: {
      const c0 = b[s]!;
      return c0 < 0x80 ? chars(c0) : undefined;
    }
    case 2: {
      const c0 = b[s]!, c1 = b[s + 1]!;
      return (c0 | c1) < 0x80 ? chars(c0, c1) : undefined;
    }
    case 3: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!;
      return (c0 | c1 | c2) < 0x80 ? chars(c0, c1, c2) : undefined;
    }
    case 4: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!;
      return (c0 | c1 | c2 | c3) < 0x80 ? chars(c0, c1, c2, c3) : undefined;
    }
    case 5: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!;
      return (c0 | c1 | c2 | c3 | c4) < 0x80 ? chars(c0, c1, c2, c3, c4) : undefined;
    }
    case 6: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!;
      return (c0 | c1 | c2 | c3 | c4 | c5) < 0x80 ? chars(c0, c1, c2, c3, c4, c5) : undefined;
    }
    case 7: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6) < 0x80 ? chars(c0, c1, c2, c3, c4, c5, c6) : undefined;
    }
    case 8: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7)
        : undefined;
    }
    case 9: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8)
        : undefined;
    }
    case 10: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9)
        : undefined;
    }
    case 11: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)
        : undefined;
    }
    case 12: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!, c11 = b[s + 11]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11)
        : undefined;
    }
    case 13: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!, c11 = b[s + 11]!,
        c12 = b[s + 12]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11 | c12) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12)
        : undefined;
    }
    case 14: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!, c11 = b[s + 11]!,
        c12 = b[s + 12]!, c13 = b[s + 13]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11 | c12 | c13) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13)
        : undefined;
    }
    case 15: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!, c11 = b[s + 11]!,
        c12 = b[s + 12]!, c13 = b[s + 13]!, c14 = b[s + 14]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11 | c12 | c13 | c14) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14)
        : undefined;
    }
    case 16: {
      const c0 = b[s]!, c1 = b[s + 1]!, c2 = b[s + 2]!, c3 = b[s + 3]!, c4 = b[s + 4]!, c5 = b[s + 5]!,
        c6 = b[s + 6]!, c7 = b[s + 7]!, c8 = b[s + 8]!, c9 = b[s + 9]!, c10 = b[s + 10]!, c11 = b[s + 11]!,
        c12 = b[s + 12]!, c13 = b[s + 13]!, c14 = b[s + 14]!, c15 = b[s + 15]!;
      return (c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7 | c8 | c9 | c10 | c11 | c12 | c13 | c14 | c15) < 0x80
        ? chars(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15)
        : undefined;
    }
    default: {
      const head = asciiString(b, s, 16);
      const tail = asciiString(b, s + 16, n - 16);
      return head === undefined || tail === undefined ? undefined : head + tail;
    }
  }
}

function platformDecode(buf: Uint8Array, start: number, end: number): string {
  // Browsers' TextDecoder refuses views of shared memory: decode a copy.
  const bytes = isShared(buf) ? buf.slice(start, end) : buf.subarray(start, end);
  try {
    return decoder.decode(bytes);
  } catch {
    throw invalidUtf8(start);
  }
}
