/**
 * UTF-8 for string fields. Short strings are converted in JavaScript, which
 * beats a TextEncoder/TextDecoder call; long ones go to the platform.
 * Encoding follows WHATWG (a lone surrogate becomes U+FFFD); decoding
 * rejects anything that is not valid UTF-8.
 */
import { DecodeError } from "./errors.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strings up to this many UTF-16 units / bytes are handled in JavaScript. */
const SHORT = 64;

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
    if (len > SHORT * 4) {
      encoder.encodeInto(s, buf.subarray(pos, pos + len));
      return;
    }
    for (let i = 0; i < len; i++) buf[pos + i] = s.charCodeAt(i);
    return;
  }
  if (len > SHORT) {
    encoder.encodeInto(s, buf.subarray(pos, pos + byteLength));
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

const units: number[] = [];

/** Decodes `buf[start, end)`; throws DecodeError("INVALID_UTF8"). */
export function utf8Read(buf: Uint8Array, start: number, end: number): string {
  if (end - start > SHORT) {
    try {
      return decoder.decode(buf.subarray(start, end));
    } catch {
      throw new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", start);
    }
  }
  let n = 0;
  for (let i = start; i < end; ) {
    const b = buf[i++]!;
    if (b < 0x80) {
      units[n++] = b;
      continue;
    }
    let cp: number;
    let min: number;
    let more: number;
    if (b >= 0xc2 && b < 0xe0) {
      cp = b & 0x1f;
      min = 0x80;
      more = 1;
    } else if (b >= 0xe0 && b < 0xf0) {
      cp = b & 0x0f;
      min = 0x800;
      more = 2;
    } else if (b >= 0xf0 && b < 0xf5) {
      cp = b & 0x07;
      min = 0x10000;
      more = 3;
    } else {
      throw new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", i - 1);
    }
    if (i + more > end) {
      throw new DecodeError("INVALID_UTF8", "string field ends inside a UTF-8 sequence", i - 1);
    }
    for (; more > 0; more--) {
      const c = buf[i++]!;
      if ((c & 0xc0) !== 0x80) {
        throw new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", i - 1);
      }
      cp = (cp << 6) | (c & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff) {
      throw new DecodeError("INVALID_UTF8", "string field is not valid UTF-8", i - 1);
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
    } else {
      units[n++] = cp;
    }
  }
  units.length = n;
  return String.fromCharCode.apply(null, units);
}
