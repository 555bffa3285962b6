/**
 * Names that clash: fields named like what every object inherits
 * (constructor, toString, ...), types named like the globals generated code
 * uses (Object, Uint8Array, Array, Map, Promise: exported as Object$, ...),
 * a nested A.B beside a top-level A_B, and C keywords as field names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { A, A_B, A_B$ } from "../codegen/golden/ts/shmrpc/test/clash_pb.js";
import {
  Array$, Map$, Number$, Object$, Promise$, RangeError$, RangeError$Client, Uint8Array$,
} from "../codegen/golden/ts/shmrpc/test/names_pb.js";
import { protoc } from "../codegen/support/schema.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("fields named like inherited properties", () => {
  it("an init object without them encodes nothing for them (not the inherited functions)", () => {
    assert.equal(Object$.encode({}).length, 0);
    assert.equal(Object$.encodedSize({}), 0);
    const m = Object$.create({});
    assert.equal(m.constructor, 0);
    assert.equal(m.toString, "");
    assert.equal(m.hasOwnProperty, false);
    assert.equal(m.valueOf, 0n);
    assert.deepEqual(m.isPrototypeOf, []);
    assert.deepEqual(m.toLocaleString, { case: undefined });
  });

  it("encode and decode when set, as protoc reads them", () => {
    const init = { constructor: 5, toString: "s", hasOwnProperty: true, valueOf: 7n, isPrototypeOf: [1, 2],
      propertyIsEnumerable: { k: "v" }, toLocaleString: { case: "text" as const, value: "t" } };
    const bytes = Object$.encode(init);
    const text = protoc(["--decode=shmrpc.test.names.Object", "shmrpc/test/names.proto"], bytes).toString();
    assert.match(text, /constructor: 5\nto_string: "s"\nhas_own_property: true\nvalue_of: 7\n/);
    assert.deepEqual(Object$.decode(bytes), { ...Object$.create(init), $unknown: undefined });
    const into = new Uint8Array(Object$.encodedSize(init));
    Object$.encodeInto(init, into, 0);
    assert.equal(hex(into), hex(bytes));
  });
});

describe("types named like globals", () => {
  it("get a $ suffix and work", () => {
    // TypeScript gives every object literal the inherited toString etc., so a
    // literal for Object$ that leaves them out does not type-check: plain
    // JavaScript objects (as from JSON) are what this is about.
    const object = JSON.parse('{"constructor": 1}') as Object$;
    const promise = Promise$.create({
      map: { entries: { 3: { items: [{ data: Uint8Array.of(1, 2), object }] } } },
      number: Number$.NUMBER_ONE,
    });
    const back = Promise$.decode(Promise$.encode(promise));
    assert.deepEqual(back, promise);
    assert.ok(back.map?.entries[3]?.items[0]?.data instanceof Uint8Array);
    assert.equal(Array$.typeName, "shmrpc.test.names.Array");
    assert.equal(Map$.typeName, "shmrpc.test.names.Map");
    assert.equal(RangeError$.name, "shmrpc.test.names.RangeError");
    assert.equal(typeof RangeError$Client, "function");
  });
});

describe("a nested A.B beside a top-level A_B", () => {
  it("become A_B$ and A_B, each with its own codec; C keywords are fine as TypeScript fields", () => {
    assert.equal(A_B$.typeName, "shmrpc.test.clash.A.B");
    assert.equal(A_B.typeName, "shmrpc.test.clash.A_B");
    const ab = A_B.create({ case: 1, typeof: "t", switch: true, nested: { default: 2 } });
    assert.deepEqual(A_B.decode(A_B.encode(ab)), ab);
    assert.deepEqual(A.decode(A.encode({ b: { default: 3 } })).b, A_B$.create({ default: 3 }));
  });
});
