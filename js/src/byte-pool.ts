/**
 * Byte arrays for copies out of shared memory, carved from shared slabs;
 * and the test for whether an array is shared memory at all.
 *
 * V8 keeps typed arrays of up to 64 bytes on its heap; every larger one
 * gets a backing store of its own, allocated outside the heap and accounted
 * to the garbage collector: 0.25 µs for 65 bytes and over 1 µs for 1 KiB on
 * our development VM, several times the cost of copying the bytes. Node's
 * Buffer pool avoids this the same way: arrays of up to POOLED_MAX bytes are
 * views of a SLAB_BYTES ArrayBuffer shared with other arrays from the pool,
 * so `array.buffer` is larger than the array (use byteOffset and length).
 * A slab is freed once no array carved from it is reachable, so keeping one
 * small array alive keeps its whole slab (64 KiB): copy what you keep for
 * long if memory matters more than speed.
 */

/**
 * V8's typed_array_max_size_in_heap: arrays up to this many bytes live on
 * the JS heap, and the first subarray (or .buffer) of one moves its bytes
 * off it (hundreds of ns).
 */
export const ON_HEAP_MAX = 64;
/** A new slab costs about 2.6 µs (zeroed): under 0.2 µs for each array of up to 4 KiB. */
const SLAB_BYTES = 64 << 10;
/** Larger arrays get a buffer of their own: a slab holds at least sixteen. */
const POOLED_MAX = SLAB_BYTES >> 4;
const WORD = 8;

const SharedBuffer = globalThis.SharedArrayBuffer as SharedArrayBufferConstructor | undefined;

/** Whether `buf` is a view of a SharedArrayBuffer (a ring, say). */
export function isShared(buf: Uint8Array): boolean {
  return SharedBuffer !== undefined && buf.buffer instanceof SharedBuffer;
}

/**
 * Whether TextEncoder#encodeInto writes into a view of shared memory:
 * Node's does, browsers' throw a TypeError ("must not be shared").
 */
export const encodeIntoShared: boolean = (() => {
  if (SharedBuffer === undefined) return false;
  try {
    new TextEncoder().encodeInto("", new Uint8Array(new SharedBuffer(1)));
    return true;
  } catch {
    return false;
  }
})();

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/**
 * A new zero-filled Uint8Array of `length` bytes (no part of a slab is
 * handed out twice). A pooled one starts at a byte offset congruent to
 * `alignment` modulo 8, so that a copy from a source at that alignment
 * moves whole words.
 */
export function allocateBytes(length: number, alignment = 0): Uint8Array {
  if (length <= ON_HEAP_MAX || length > POOLED_MAX) return new Uint8Array(length);
  const skew = alignment & (WORD - 1);
  let start = ((used + WORD - 1) & ~(WORD - 1)) + skew;
  if (start + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    start = skew;
  }
  used = start + length;
  return new Uint8Array(slab, start, length);
}
