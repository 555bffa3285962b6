/**
 * Decoding packed runs, whichever path the reader takes: short runs value by
 * value, long runs of floats and doubles through a DataView of the input
 * (kept while the input stays the same object), runs of 32-bit varints into
 * an array grown to one value per byte and cut to the values read.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Repeateds } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";

/** `bytes` at `offset` in a bigger buffer, as a view with that byteOffset. */
function at(bytes: Uint8Array, offset: number, shared = false): Uint8Array {
  const buffer = shared ? new SharedArrayBuffer(bytes.length + offset + 5) : new ArrayBuffer(bytes.length + offset + 5);
  const view = new Uint8Array(buffer, offset, bytes.length);
  view.set(bytes);
  return view;
}

const doubles = (n: number) => Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -i : i) * 1.0625 + 1e-300 * i);
const floats = (n: number) => Array.from({ length: n }, (_, i) => Math.fround((i % 2 === 0 ? -i : i) * 0.75));
const int32s = (n: number) => Array.from({ length: n }, (_, i) => [0, 1, -1, 127, 128, 300, 16384, 2 ** 31 - 1, -(2 ** 31)][i % 9]! * (i + 1) | 0);

describe("packed runs", () => {
  for (const n of [1, 15, 16, 17, 100, 2000]) {
    it(`${n} doubles, floats and int32s decode to what was encoded, at any alignment, shared or not`, () => {
      const message = { rDouble: doubles(n), rFloat: floats(n), rInt32: int32s(n), rSint32: int32s(n), rUint32: int32s(n).map((v) => v >>> 0) };
      const bytes = Repeateds.encode(message);
      for (const offset of [0, 1, 3, 7]) {
        for (const shared of [false, true]) {
          const decoded = Repeateds.decode(at(bytes, offset, shared));
          assert.deepStrictEqual(decoded.rDouble, message.rDouble, `doubles at ${offset}`);
          assert.deepStrictEqual(decoded.rFloat, message.rFloat, `floats at ${offset}`);
          assert.deepStrictEqual(decoded.rInt32, message.rInt32, `int32s at ${offset}`);
          assert.deepStrictEqual(decoded.rSint32, message.rSint32, `sint32s at ${offset}`);
          assert.deepStrictEqual(decoded.rUint32, message.rUint32, `uint32s at ${offset}`);
          // Arrays exactly as long as their values: no room left over.
          assert.equal(decoded.rInt32.length, n);
          assert.equal(Object.keys(decoded.rInt32).length, n);
        }
      }
    });
  }

  it("read the input's current bytes when the same array is decoded again after a change", () => {
    const input = at(Repeateds.encode({ rDouble: doubles(40), rFloat: floats(40) }), 3);
    assert.deepStrictEqual(Repeateds.decode(input).rDouble, doubles(40));
    input.set(Repeateds.encode({ rDouble: doubles(40).map((v) => v * 2), rFloat: floats(40).map((v) => v * 2) }));
    const again = Repeateds.decode(input);
    assert.deepStrictEqual(again.rDouble, doubles(40).map((v) => v * 2));
    assert.deepStrictEqual(again.rFloat, floats(40).map((v) => v * 2));
    // Another input in between, then this one.
    Repeateds.decode(Repeateds.encode({ rDouble: doubles(30) }));
    assert.deepStrictEqual(Repeateds.decode(input).rDouble, doubles(40).map((v) => v * 2));
  });

  it("append a second run of a field to the first", () => {
    const first = Repeateds.encode({ rDouble: doubles(20), rInt32: int32s(20) });
    const second = Repeateds.encode({ rDouble: doubles(3), rInt32: int32s(50) });
    const both = new Uint8Array(first.length + second.length);
    both.set(first);
    both.set(second, first.length);
    const decoded = Repeateds.decode(both);
    assert.deepStrictEqual(decoded.rDouble, [...doubles(20), ...doubles(3)]);
    assert.deepStrictEqual(decoded.rInt32, [...int32s(20), ...int32s(50)]);
  });
});
