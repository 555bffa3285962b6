import assert from "node:assert/strict";
import { test } from "node:test";

import { copyFromShared, copyIntoShared, copyMovableIntoShared, setNativeCopy } from "../../js/src/shared-copy.js";
import { loadAddon } from "../../js/src/native/addon.js";

/** Deterministic bytes so a shifted or truncated copy shows. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

// Lengths around the bounce threshold and chunk size, every relative alignment.
const lengths = [0, 1, 1023, 1024, 4099, (256 << 10) - 3, (256 << 10) + 7, (600 << 10) + 5];

/**
 * Checks `copy` into shared memory at every length, source alignment and
 * target offset: exact bytes, nothing written around them. `copy` gets a
 * source whose `length` bytes start at `sourceSkew` in its buffer.
 */
function intoSharedAtEveryAlignment(copy: (shared: Uint8Array, offset: number, bytes: Uint8Array, sourceSkew: number) => void): void {
  const shared = new Uint8Array(new SharedArrayBuffer((1 << 20) + 64));
  for (const length of lengths) {
    for (let sourceSkew = 0; sourceSkew < 8; sourceSkew += 3) {
      for (let targetOffset = 0; targetOffset < 8; targetOffset++) {
        shared.fill(0xee);
        const bytes = pattern(length, length);
        copy(shared, 16 + targetOffset, bytes, sourceSkew);
        assert.deepEqual(shared.subarray(16 + targetOffset, 16 + targetOffset + length), bytes);
        assert.equal(shared[15 + targetOffset], 0xee, "byte before the copy untouched");
        assert.equal(shared[16 + targetOffset + length], 0xee, "byte after the copy untouched");
      }
    }
  }
}

test("copyIntoShared copies exactly, at every alignment and size", () => {
  intoSharedAtEveryAlignment((shared, offset, bytes, sourceSkew) => {
    const source = new Uint8Array(sourceSkew + bytes.length).subarray(sourceSkew);
    source.set(bytes);
    copyIntoShared(shared, offset, source);
  });
});

test("copyMovableIntoShared copies exactly, at every alignment and size, from a source it may move", () => {
  intoSharedAtEveryAlignment((shared, offset, bytes, sourceSkew) => {
    const area = new Uint8Array(sourceSkew + bytes.length + 7).subarray(sourceSkew);
    area.set(bytes);
    copyMovableIntoShared(shared, offset, area, bytes.length);
  });
});

test("copyFromShared copies exactly, at every alignment and size", () => {
  const shared = new Uint8Array(new SharedArrayBuffer((1 << 20) + 64));
  shared.set(pattern(shared.length, 7));
  for (const length of lengths) {
    for (let start = 0; start < 8; start++) {
      for (const targetOffset of [0, 3, 5]) {
        const target = new Uint8Array(length + 16).fill(0xee);
        copyFromShared(shared, 8 + start, length, target, targetOffset);
        assert.deepEqual(target.subarray(targetOffset, targetOffset + length), shared.subarray(8 + start, 8 + start + length));
        assert.equal(target[targetOffset + length], 0xee, "byte after the copy untouched");
      }
    }
  }
});

test("with the addon's native copy, large copies stay exact in both directions", () => {
  const { copyBytes } = loadAddon();
  setNativeCopy(copyBytes);
  const shared = new Uint8Array(new SharedArrayBuffer((1 << 20) + 64));
  for (const length of [(64 << 10) - 1, 64 << 10, (300 << 10) + 3]) {
    const source = pattern(length + 3, length).subarray(3);
    shared.fill(0xee);
    copyIntoShared(shared, 21, source);
    assert.deepEqual(shared.subarray(21, 21 + length), source);
    assert.equal(shared[20], 0xee);
    assert.equal(shared[21 + length], 0xee);
    const back = new Uint8Array(length + 2).fill(0xee);
    copyFromShared(shared, 21, length, back, 1);
    assert.deepEqual(back.subarray(1, 1 + length), source);
    assert.equal(back[length + 1], 0xee);
  }
});

test("the addon's copyBytes refuses bad arguments instead of writing out of bounds", () => {
  const { copyBytes } = loadAddon();
  const target = new Uint8Array(16);
  assert.throws(() => copyBytes(target, 10, new Uint8Array(7)), RangeError);
  assert.throws(() => copyBytes(target, -1, new Uint8Array(1)), RangeError);
  assert.throws(() => copyBytes(target, 0, [1, 2] as never), TypeError);
  assert.throws(() => copyBytes(new Int32Array(4) as never, 0, new Uint8Array(1)), TypeError);
  copyBytes(target, 9, new Uint8Array(7).fill(5));
  assert.deepEqual([...target.subarray(8)], [0, 5, 5, 5, 5, 5, 5, 5]);
});
