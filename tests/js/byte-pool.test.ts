/** allocateBytes: arrays of 65 to 4096 bytes carved from shared slabs, others on their own. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { allocateBytes } from "../../js/src/byte-pool.js";

test("small and large arrays have buffers of their own", () => {
  for (const length of [0, 1, 64, 4097, 100_000]) {
    const array = allocateBytes(length);
    assert.equal(array.length, length);
    assert.equal(array.buffer.byteLength, length, `length ${length}`);
  }
});

test("mid-sized arrays share a slab without overlapping, zero-filled, at the alignment asked for", () => {
  const arrays = Array.from({ length: 6 }, (_, i) => allocateBytes(65 + i * 100, i));
  // 1.9 KB in all: at most one slab change among the six.
  const sharing = arrays.filter((a) => a.buffer === arrays[5]!.buffer);
  assert.ok(sharing.length >= 3, "carved from one slab");
  for (const a of sharing) {
    for (const b of sharing) {
      if (a !== b) assert.ok(a.byteOffset + a.length <= b.byteOffset || b.byteOffset + b.length <= a.byteOffset, "no overlap");
    }
  }
  arrays.forEach((array, i) => {
    assert.equal(array.length, 65 + i * 100);
    assert.equal(array.byteOffset % 8, i % 8, `alignment of array ${i}`);
    assert.ok(array.every((b) => b === 0), `array ${i} is zero-filled`);
  });
  arrays.forEach((array, i) => array.fill(i + 1));
  arrays.forEach((array, i) => assert.ok(array.every((b) => b === i + 1), `array ${i} kept its bytes`));
});

test("a full slab is replaced, not reused", () => {
  const first = allocateBytes(4096);
  first.fill(7);
  const later = Array.from({ length: 20 }, () => allocateBytes(4096)); // more than a 64 KiB slab holds
  assert.ok(later.some((a) => a.buffer !== first.buffer));
  assert.ok(first.every((b) => b === 7));
  assert.ok(later.every((a) => a.every((b) => b === 0)));
});
