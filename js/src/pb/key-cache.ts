/**
 * String map keys, decoded through a small cache. A map's keys are names
 * (labels, headers, ids) that recur from message to message, and a fresh
 * string costs twice over as a key: once to make, once more when the object
 * looks it up among V8's internalized strings. A cached key is a string V8
 * has already internalized, so a hit costs a hash and a compare. Bounded:
 * a fixed number of slots, keys up to KEY_MAX bytes, last one in wins.
 */
import { asciiString, utf8Read } from "./utf8.js";

const SLOTS = 1024;
const KEY_MAX = 32;
const cache: string[] = new Array<string>(SLOTS).fill("");

/** The string key at `buf[start, end)`; validated as utf8Read does. */
export function mapKey(buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > KEY_MAX) return utf8Read(buf, start, end);
  let hash = n;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + buf[i]!) | 0;
  const slot = (hash ^ (hash >>> 10)) & (SLOTS - 1);
  const cached = cache[slot]!;
  if (cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return cached;
  }
  const key = asciiString(buf, start, n);
  // Keys beyond ASCII are rare: decoded (and validated) every time.
  if (key === undefined) return utf8Read(buf, start, end);
  cache[slot] = key;
  return key;
}
