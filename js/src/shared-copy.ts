/**
 * Copies between the shared ring and ordinary memory at memcpy speed.
 *
 * V8 moves bytes into and out of a SharedArrayBuffer with relaxed atomic
 * word copies, and falls back to single bytes when the source and target
 * addresses differ modulo 8: on Node 20 a 1 MiB copy runs at 3.8 GB/s
 * instead of 28 GB/s. The 5-byte frame header puts most payloads at such an
 * offset. Large misaligned copies therefore bounce through an ordinary
 * buffer placed at the ring's alignment: the ordinary-to-ordinary half is a
 * plain memmove whatever the alignment, and the shared half is aligned.
 * Backing stores are at least 8-byte aligned, so byte offsets decide.
 *
 * A transport with native code can do better still: setNativeCopy() hands
 * large copies to a plain memcpy (the in-process transport uses the addon's).
 */

/** target.set(source, targetOffset) done natively. */
export type NativeCopy = (target: Uint8Array, targetOffset: number, source: Uint8Array) => void;

/** From this size a native copy's call overhead (~0.1 µs) is noise. */
const NATIVE_MIN_BYTES = 64 << 10;
let nativeCopy: NativeCopy | undefined;

/** Routes copies of NATIVE_MIN_BYTES or more through `copy`. */
export function setNativeCopy(copy: NativeCopy): void {
  nativeCopy = copy;
}

/** Below this, the misaligned copy is cheaper than two copies. */
export const BOUNCE_MIN_BYTES = 1024;
/** Copies go through the bounce buffer in chunks this size (it stays in cache). */
const CHUNK_BYTES = 256 << 10;
const WORD = 8;
const bounce = new ArrayBuffer(CHUNK_BYTES + WORD);

const alignment = (view: Uint8Array, offset: number) => (view.byteOffset + offset) & (WORD - 1);

/** target.set(source, targetOffset), where `target` is a view of shared memory. */
export function copyIntoShared(target: Uint8Array, targetOffset: number, source: Uint8Array): void {
  if (source.length < BOUNCE_MIN_BYTES) {
    target.set(source, targetOffset);
    return;
  }
  if (nativeCopy && source.length >= NATIVE_MIN_BYTES) {
    nativeCopy(target, targetOffset, source);
    return;
  }
  const skew = alignment(target, targetOffset);
  if (skew === alignment(source, 0)) {
    target.set(source, targetOffset);
    return;
  }
  for (let done = 0; done < source.length; done += CHUNK_BYTES) {
    const length = Math.min(CHUNK_BYTES, source.length - done);
    // CHUNK_BYTES is a multiple of WORD, so every chunk keeps the same skew.
    const staged = new Uint8Array(bounce, skew, length);
    staged.set(source.subarray(done, done + length));
    target.set(staged, targetOffset + done);
  }
}

/**
 * target.set(source.subarray(0, length), targetOffset), where `target` is
 * shared and `source` is ordinary memory of the caller's, with at least
 * WORD - 1 bytes to spare after `length`, that may be overwritten: its
 * bytes are moved into the target's alignment in place (a plain memmove)
 * rather than through the bounce buffer.
 */
export function copyMovableIntoShared(target: Uint8Array, targetOffset: number, source: Uint8Array, length: number): void {
  if (length < BOUNCE_MIN_BYTES || (nativeCopy && length >= NATIVE_MIN_BYTES)) {
    copyIntoShared(target, targetOffset, source.subarray(0, length));
    return;
  }
  const shift = (alignment(target, targetOffset) - alignment(source, 0)) & (WORD - 1);
  if (shift !== 0) source.copyWithin(shift, 0, length);
  target.set(source.subarray(shift, shift + length), targetOffset);
}

/** target.set(source.subarray(start, start + length), targetOffset), where `source` is shared. */
export function copyFromShared(source: Uint8Array, start: number, length: number, target: Uint8Array, targetOffset: number): void {
  if (length < BOUNCE_MIN_BYTES) {
    target.set(source.subarray(start, start + length), targetOffset);
    return;
  }
  if (nativeCopy && length >= NATIVE_MIN_BYTES) {
    nativeCopy(target, targetOffset, source.subarray(start, start + length));
    return;
  }
  const skew = alignment(source, start);
  if (skew === alignment(target, targetOffset)) {
    target.set(source.subarray(start, start + length), targetOffset);
    return;
  }
  for (let done = 0; done < length; done += CHUNK_BYTES) {
    const chunk = Math.min(CHUNK_BYTES, length - done);
    const staged = new Uint8Array(bounce, skew, chunk);
    staged.set(source.subarray(start + done, start + done + chunk));
    target.set(staged, targetOffset + done);
  }
}
