import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createSegment, isShmrpcError, segmentSize, validateSegment } from "../../js/src/index.js";
import { readVector, sharedCopyOfVector } from "./helpers/vectors.js";

const isCode = (code: string) => (error: unknown) => isShmrpcError(error) && error.code === code;

/** A valid 64/128 segment with `edit` applied to its header. */
function editedSegment(edit: (view: DataView) => void, extraBytes = 0): SharedArrayBuffer {
  const source = new Uint8Array(createSegment({ capacityC2S: 64, capacityS2C: 128 }));
  const sab = new SharedArrayBuffer(source.length + extraBytes);
  new Uint8Array(sab).set(source);
  edit(new DataView(sab));
  return sab;
}

describe("segmentSize", () => {
  test("is the 384-byte header plus both rings", () => {
    assert.equal(segmentSize(64, 128), 576);
    assert.equal(segmentSize(1 << 20, 1 << 30), 384 + (1 << 20) + (1 << 30));
  });

  test("refuses capacities that are not powers of two in [64, 2^30]", () => {
    for (const bad of [0, 32, 63, 65, 100, 2 ** 31, -64, 64.5, Number.NaN]) {
      assert.throws(() => segmentSize(bad, 64), isCode("EINVAL"), String(bad));
      assert.throws(() => segmentSize(64, bad), isCode("EINVAL"), String(bad));
    }
  });
});

describe("createSegment", () => {
  test("equals the golden freshly initialized 64/128 segment byte for byte", () => {
    const sab = createSegment({ capacityC2S: 64, capacityS2C: 128 });
    assert.ok(sab instanceof SharedArrayBuffer);
    assert.deepEqual(new Uint8Array(sab), readVector("channel/segment_init_64_128.bin"));
  });

  test("defaults to 1 MiB per ring", () => {
    const sab = createSegment();
    assert.equal(sab.byteLength, 384 + 2 * (1 << 20));
    assert.deepEqual(validateSegment(sab), {
      capacityC2S: 1 << 20,
      capacityS2C: 1 << 20,
      segmentBytes: 384 + 2 * (1 << 20),
    });
  });

  test("refuses a bad capacity", () => {
    assert.throws(() => createSegment({ capacityC2S: 1000 }), isCode("EINVAL"));
  });
});

describe("validateSegment", () => {
  test("accepts the golden segments", () => {
    assert.deepEqual(validateSegment(sharedCopyOfVector("channel/segment_64_wrapped.bin")), {
      capacityC2S: 64,
      capacityS2C: 64,
      segmentBytes: 512,
    });
    assert.equal(validateSegment(sharedCopyOfVector("channel/segment_init_64_128.bin")).capacityS2C, 128);
  });

  test("accepts any minor version", () => {
    assert.equal(validateSegment(editedSegment((v) => v.setUint16(6, 7, true))).capacityC2S, 64);
  });

  test("refuses another major version with EVERSION", () => {
    for (const major of [0, 2, 0xffff]) {
      assert.throws(() => validateSegment(editedSegment((v) => v.setUint16(4, major, true))), isCode("EVERSION"));
    }
  });

  test("refuses a damaged header with EPROTO", () => {
    const damages: Array<[string, (view: DataView) => void]> = [
      ["magic", (v) => v.setUint8(0, 0x58)],
      ["flags", (v) => v.setUint32(20, 1, true)],
      ["capacity not a power of two", (v) => v.setUint32(8, 96, true)],
      ["capacity too small", (v) => v.setUint32(12, 32, true)],
      ["capacity too large", (v) => v.setUint32(8, 2 ** 31, true)],
      ["segment_bytes", (v) => v.setUint32(16, 577, true)],
      ["capacities disagree with the size", (v) => v.setUint32(12, 64, true)],
    ];
    for (const [what, damage] of damages) {
      assert.throws(() => validateSegment(editedSegment(damage)), isCode("EPROTO"), what);
    }
  });

  test("refuses a buffer whose size differs from the header's", () => {
    assert.throws(() => validateSegment(editedSegment(() => {}, 64)), isCode("EPROTO"));
    assert.throws(() => validateSegment(new SharedArrayBuffer(100)), isCode("EPROTO"));
    assert.throws(() => validateSegment(new SharedArrayBuffer(576)), isCode("EPROTO")); // all zero: no magic
  });

  test("refuses what is not a SharedArrayBuffer with a TypeError", () => {
    for (const bad of [new ArrayBuffer(576), new Uint8Array(576), undefined, "segment"]) {
      assert.throws(() => validateSegment(bad as unknown as SharedArrayBuffer), TypeError);
    }
  });
});
