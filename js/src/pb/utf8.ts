/**
 * UTF-8 for string fields. Short strings are converted in JavaScript, which
 * beats a call into TextEncoder/TextDecoder; long ones go to the platform
 * (the writer encodes those with TextEncoder itself). Encoding follows WHATWG
 * (a lone surrogate becomes U+FFFD); decoding rejects anything that is not
 * valid UTF-8.
 */
import { DecodeError } from "./errors.js";

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
  for (let i = 0; i < len; i++) {
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
}

/**
 * Decodes `buf[start, end)`; throws DecodeError("INVALID_UTF8"). ASCII
 * strings are built with String.fromCharCode when short and, in Node, by
 * Buffer's latin1 slice (the same characters for ASCII bytes) up to a few
 * hundred bytes: both beat the platform's decoder, which also validates and
 * takes everything else.
 */
export function utf8Read(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > LONG_ASCII || (n > SHORT_ASCII && latin1Slice === undefined)) return platformDecode(buf, start, end);
  let bits = 0;
  for (let i = start; i < end; i++) bits |= buf[i]!;
  if (bits >= 0x80) return platformDecode(buf, start, end);
  if (n <= SHORT_ASCII) return asciiString(buf, start, n);
  return latin1Slice!.call(buf, start, end);
}

const SHORT_ASCII = 16;
const LONG_ASCII = 256;
const chars = String.fromCharCode;

/** Node's Buffer#latin1Slice, which works on any Uint8Array; absent elsewhere. */
const latin1Slice = (
  globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }
).Buffer?.prototype.latin1Slice;

/** `n` ASCII bytes at `s` as a string, eight characters per call. */
function asciiString(b: Uint8Array, s: number, n: number): string {
  let out = "";
  for (; n >= 8; s += 8, n -= 8) {
    out += chars(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
  }
  switch (n) {
    case 1:
      return out + chars(b[s]!);
    case 2:
      return out + chars(b[s]!, b[s + 1]!);
    case 3:
      return out + chars(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return out + chars(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return out + chars(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return out + chars(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return out + chars(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    default:
      return out;
  }
}

function platformDecode(buf: Uint8Array, start: number, end: number): string {
  try {
    return decoder.decode(buf.subarray(start, end));
  } catch {
    throw new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", start);
  }
}
