/**
 * Decoded maps with integer keys: the first entry of such a map in a new
 * message swaps its empty object for one with room for elements
 * (pb.indexedMap). Every later entry, of the same occurrence or another,
 * and every entry merged into an existing message must land in the same
 * object, and the object must look exactly like a {} filled by hand.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Everything, Maps } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";

/** Two encodings joined: protobuf merges the second into the first. */
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

describe("maps with integer keys", () => {
  it("keep every entry, whatever the key: inside the room, past it, negative, not an index", () => {
    const keys = [0, 1, 15, 16, 17, 300, 100000, -1, -2147483648, 2147483647];
    const int32ToInt64 = Object.fromEntries(keys.map((k) => [k, BigInt(k) * 3n]));
    const uint32ToBytes = { 4294967295: new Uint8Array([1]), 4294967294: new Uint8Array([2]), 3: new Uint8Array([3]) };
    const uint64ToDouble = { "18446744073709551615": 0.5, "9007199254740993": 1.5, 2: 2.5 };
    const decoded = Maps.decode(Maps.encode({ int32ToInt64, uint32ToBytes, uint64ToDouble }));
    assert.deepStrictEqual(decoded.int32ToInt64, int32ToInt64);
    assert.deepStrictEqual(decoded.uint32ToBytes, uint32ToBytes);
    assert.deepStrictEqual(decoded.uint64ToDouble, uint64ToDouble);
  });

  it("are plain objects like {}: same prototype, own keys in the same order, nothing else", () => {
    const decoded = Maps.decode(Maps.encode({ sint32ToBool: { 7: true, 2: false, 40: true, [-3]: true } }));
    const byHand: { [key: string]: boolean } = {};
    byHand[7] = true;
    byHand[2] = false;
    byHand[40] = true;
    byHand[-3] = true;
    for (const map of [decoded.sint32ToBool, decoded.int32ToInt64]) {
      assert.equal(Object.getPrototypeOf(map), Object.prototype);
      assert.ok(Object.isExtensible(map));
    }
    assert.deepStrictEqual(Object.keys(decoded.sint32ToBool), Object.keys(byHand));
    assert.deepStrictEqual(Object.getOwnPropertyNames(decoded.sint32ToBool), Object.getOwnPropertyNames(byHand));
    assert.equal(JSON.stringify(decoded.sint32ToBool), JSON.stringify(byHand));
    // Untouched maps stay the empty objects create() made, distinct per message.
    assert.deepStrictEqual(decoded.fixed32ToColor, {});
    assert.notEqual(decoded.fixed32ToColor, Maps.decode(new Uint8Array(0)).fixed32ToColor);
  });

  it("gather entries of one map from occurrences apart, with other maps in between", () => {
    const first = Maps.encode({ int32ToInt64: { 1: 10n }, fixed32ToColor: { 5: 1 } });
    const second = Maps.encode({ int32ToInt64: { 2: 20n }, sint64ToFloat: { 9: 1.5 } });
    const decoded = Maps.decode(concat(first, second));
    assert.deepStrictEqual(decoded.int32ToInt64, { 1: 10n, 2: 20n });
    assert.deepStrictEqual(decoded.fixed32ToColor, { 5: 1 });
    assert.deepStrictEqual(decoded.sint64ToFloat, { 9: 1.5 });
  });

  it("merge into the maps of a message decoded before (a message field that occurs twice)", () => {
    const first = Everything.encode({ maps: { int32ToInt64: { 1: 10n, 3: 30n }, int64ToMoney: { 4: { units: 4n } } } });
    const second = Everything.encode({ maps: { int32ToInt64: { 2: 20n, 3: 33n }, int64ToMoney: { 5: { units: 5n } } } });
    const decoded = Everything.decode(concat(first, second));
    assert.deepStrictEqual(decoded.maps?.int32ToInt64, { 1: 10n, 2: 20n, 3: 33n });
    assert.deepStrictEqual(Object.keys(decoded.maps?.int64ToMoney ?? {}), ["4", "5"]);
  });
});
