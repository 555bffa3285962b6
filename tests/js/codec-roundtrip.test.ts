/**
 * Generated TypeScript codecs (tests/codegen/golden/ts, from tests/proto):
 * golden vectors from an independent encoder decode and re-encode byte for
 * byte; values survive TS -> TS and TS -> C (nanopb) -> TS; defaults,
 * presence, oneofs, maps, unknown fields and encodeInto behave.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { Empty } from "../codegen/golden/ts/google/protobuf/empty_pb.js";
import { Color, Money } from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import {
  Everything,
  Maps,
  Oneofs,
  Optionals,
  Outer_Level,
  Repeateds,
  Scalars,
} from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { findReencoder, reencodeInC } from "../codegen/support/c-peer.js";
import { repoRoot } from "../codegen/support/schema.js";

const VECTORS = join(repoRoot(), "tests", "vectors", "messages");

function vectors(): { name: string; bytes: Uint8Array }[] {
  return readdirSync(VECTORS)
    .filter((f) => f.endsWith(".bin"))
    .sort()
    .map((f) => ({ name: f.slice(0, -4), bytes: new Uint8Array(readFileSync(join(VECTORS, f))) }));
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("golden vectors (tests/vectors/messages)", () => {
  it("decode and re-encode byte for byte", () => {
    const all = vectors();
    assert.ok(all.length >= 13);
    for (const { name, bytes } of all) {
      const message = Everything.decode(bytes);
      assert.equal(hex(Everything.encode(message)), hex(bytes), name);
      assert.equal(Everything.encodedSize(message), bytes.length, name);
    }
  });

  it("decode to the values the generator wrote", () => {
    const full = Everything.decode(vectors().find((v) => v.name === "full")!.bytes);
    assert.equal(full.scalars?.fInt64, 9223372036854775807n);
    assert.equal(full.scalars?.fUint64, 18446744073709551615n);
    assert.equal(full.scalars?.fEnum, Color.COLOR_GREEN);
    assert.equal(full.optionals?.oString, "");
    assert.equal(full.optionals?.oInt64, 0n);
    assert.equal(full.optionals?.oSint32, -1);
    assert.deepEqual(full.repeateds?.rInt32, [0, -1, 127, 128, 16384, -2147483648]);
    assert.deepEqual(full.repeateds?.rDouble, [0.5, -0, Infinity, -Infinity]);
    assert.deepEqual(full.repeateds?.rEnum, [0, 1, 2, -1, 99]);
    assert.deepEqual(full.repeateds?.rString, ["", "a", "ünïcödé"]);
    assert.deepEqual(full.maps?.stringToString, { a: "alpha", b: "" });
    assert.deepEqual(full.maps?.boolToUint32, { false: 0, true: 1 });
    assert.equal(full.maps?.int32ToInt64["1"], -9223372036854775808n);
    assert.equal(full.maps?.int64ToMoney["5"]?.currency, "CHF");
    assert.equal(full.oneofs?.choice.case, "money");
    assert.equal(full.oneofs?.choice.value?.units, 12n);
    assert.deepEqual(full.oneofs?.other, { case: "ratio", value: 0.125 });
    assert.equal(full.outer?.inner?.deepest?.level, Outer_Level.LEVEL_HIGH);
    assert.equal(full.tree?.children[0]?.children[0]?.children[0]?.label, "a1x");
    assert.deepEqual(full.createdAt, { seconds: 1700000000n, nanos: 123456789, $unknown: undefined });
    assert.deepEqual(full.nothing, { $unknown: undefined });
    assert.equal(full.farAway, "far");
    assert.equal(full.farthest, 4294967295);

    const floats = Everything.decode(vectors().find((v) => v.name === "special_floats")!.bytes);
    assert.ok(Number.isNaN(floats.scalars?.fDouble));
    assert.ok(Object.is(floats.scalars?.fFloat, -0));
    assert.ok(Object.is(floats.optionals?.oDouble, -0));
  });

  it("oneof members set to their default are present", () => {
    const cases: [string, unknown][] = [
      ["oneof_number_zero", { case: "number", value: 0 }],
      ["oneof_text_empty", { case: "text", value: "" }],
      ["oneof_blob_empty", { case: "blob", value: new Uint8Array(0) }],
      ["oneof_color_zero", { case: "color", value: Color.COLOR_UNSPECIFIED }],
      ["oneof_big_min", { case: "big", value: -9223372036854775808n }],
      ["oneof_money_empty", { case: "money", value: Money.create() }],
    ];
    for (const [name, expected] of cases) {
      const m = Everything.decode(vectors().find((v) => v.name === name)!.bytes);
      assert.deepEqual(m.oneofs?.choice, expected, name);
      assert.deepEqual(m.oneofs?.other, { case: "flag", value: false }, name);
    }
  });

  it("survive nanopb: TS -> C -> TS gives the same values", () => {
    const program = findReencoder();
    const all = vectors();
    const back = reencodeInC(program, all.map((v) => v.bytes));
    all.forEach(({ name, bytes }, i) => {
      const result = back[i]!;
      assert.ok(result.ok, `${name}: nanopb rejected it`);
      assert.deepEqual(Everything.decode(result.bytes), Everything.decode(bytes), name);
    });
  });
});

describe("defaults and presence", () => {
  it("create() fills every field with its default", () => {
    assert.deepEqual(Scalars.create(), {
      fDouble: 0, fFloat: 0, fInt64: 0n, fUint64: 0n, fInt32: 0, fFixed64: 0n, fFixed32: 0,
      fBool: false, fString: "", fBytes: new Uint8Array(0), fUint32: 0, fSfixed32: 0,
      fSfixed64: 0n, fSint32: 0, fSint64: 0n, fEnum: Color.COLOR_UNSPECIFIED, $unknown: undefined,
    });
    const e = Everything.create();
    assert.equal(e.scalars, undefined);
    assert.deepEqual(Oneofs.create().choice, { case: undefined });
    assert.deepEqual(Repeateds.create().rInt32, []);
    assert.deepEqual(Maps.create().stringToString, {});
  });

  it("implicit-presence defaults are not written, -0 is", () => {
    assert.equal(Scalars.encode(Scalars.create()).length, 0);
    assert.equal(Scalars.encode({ fInt32: 0, fString: "", fBool: false, fInt64: 0n }).length, 0);
    assert.equal(hex(Scalars.encode({ fDouble: -0 })), "090000000000000080");
    const back = Scalars.decode(Scalars.encode({ fDouble: -0 }));
    assert.ok(Object.is(back.fDouble, -0));
  });

  it("proto3 optional keeps presence, including zero values", () => {
    const bytes = Optionals.encode({ oInt32: 0, oString: "", oBool: false });
    assert.equal(hex(bytes), "1800" + "2000" + "2a00");
    const back = Optionals.decode(bytes);
    assert.equal(back.oInt32, 0);
    assert.equal(back.oString, "");
    assert.equal(back.oBool, false);
    assert.equal(back.oDouble, undefined);
    assert.equal(back.oMoney, undefined);
    assert.equal(Optionals.decode(new Uint8Array(0)).oInt32, undefined);
  });

  it("MessageInit takes partial nested messages at any depth", () => {
    const m = Everything.create({
      oneofs: { choice: { case: "money", value: { units: 5n } } },
      maps: { int64ToMoney: { "7": { currency: "EUR" } } },
      repeateds: { rMoney: [{ nanos: 1 }] },
      outer: { inner: { deepest: { note: "x" } } },
    });
    assert.deepEqual(m.oneofs?.choice, { case: "money", value: Money.create({ units: 5n }) });
    assert.equal(m.maps?.int64ToMoney["7"]?.units, 0n);
    assert.equal(m.repeateds?.rMoney[0]?.currency, "");
    assert.equal(m.outer?.inner?.deepest?.level, 0);
    assert.deepEqual(Everything.decode(Everything.encode(m)), m);
  });
});

describe("wire details", () => {
  it("writes repeated scalars packed and reads both forms", () => {
    assert.equal(hex(Repeateds.encode({ rInt32: [1, 2, 300] })), "2a0401" + "02ac02");
    // The same values unpacked (tag 0x28 per element) decode the same.
    const unpacked = Uint8Array.from([0x28, 1, 0x28, 2, 0x28, 0xac, 2]);
    assert.deepEqual(Repeateds.decode(unpacked).rInt32, [1, 2, 300]);
    // [packed = false] fields are written one tag per element...
    assert.equal(hex(Repeateds.encode({ rInt32Unpacked: [1, 2] })), "90010190" + "0102");
    // ...and read packed too.
    assert.deepEqual(Repeateds.decode(Uint8Array.from([0x92, 1, 2, 7, 8])).rInt32Unpacked, [7, 8]);
  });

  it("writes negative int32 and enums as 10-byte varints", () => {
    assert.equal(hex(Scalars.encode({ fInt32: -1 })), "28ffffffffffffffffff01");
    assert.equal(hex(Scalars.encode({ fEnum: Color.COLOR_INFRARED })), "8001ffffffffffffffffff01");
  });

  it("merges a message field that occurs twice", () => {
    const a = Everything.encode({ scalars: { fInt32: 1, fString: "a" } });
    const b = Everything.encode({ scalars: { fString: "b", fBool: true } });
    const merged = Everything.decode(Uint8Array.from([...a, ...b]));
    assert.equal(merged.scalars?.fInt32, 1);
    assert.equal(merged.scalars?.fString, "b");
    assert.equal(merged.scalars?.fBool, true);
    // Repeated fields concatenate, the last scalar wins.
    const r = Repeateds.decode(Uint8Array.from([...Repeateds.encode({ rString: ["x"] }), ...Repeateds.encode({ rString: ["y"] })]));
    assert.deepEqual(r.rString, ["x", "y"]);
  });

  it("encodeInto writes at an offset and returns the end", () => {
    const m = { fString: "héllo", fSint64: -3n };
    const size = Scalars.encodedSize(m);
    const target = new Uint8Array(size + 10).fill(0xee);
    const end = Scalars.encodeInto(m, target, 7);
    assert.equal(end, 7 + size);
    assert.deepEqual(target.subarray(7, end), Scalars.encode(m));
    assert.equal(target[6], 0xee);
    assert.equal(target[end], 0xee);
    assert.throws(() => Scalars.encodeInto(m, new Uint8Array(size - 1), 0), RangeError);
  });

  it("decoded bytes are views of a large input, copies of a small one, always plain Uint8Arrays", () => {
    const blob = Uint8Array.from({ length: 100 }, (_, i) => i);
    const large = Buffer.from(Scalars.encode({ fBytes: blob }));
    const fromLarge = Scalars.decode(large).fBytes;
    assert.equal(fromLarge.constructor, Uint8Array);
    assert.equal(fromLarge.buffer, large.buffer, "no copy of a large blob");
    assert.deepEqual(fromLarge, blob);

    const small = Scalars.encode({ fBytes: Uint8Array.of(1, 2, 3) });
    const fromSmall = Scalars.decode(small).fBytes;
    small.fill(0); // a view would move this on-heap array off the heap first
    assert.deepEqual(fromSmall, Uint8Array.of(1, 2, 3));
  });

  it("encodeInto shared memory at any alignment writes what encode returns", () => {
    const m = { fBytes: Uint8Array.from({ length: 3000 }, (_, i) => i * 7), fString: "then a string" };
    const expected = Scalars.encode(m);
    const shared = new Uint8Array(new SharedArrayBuffer(expected.length + 16));
    for (let offset = 0; offset < 8; offset++) {
      shared.fill(0);
      assert.equal(Scalars.encodeInto(m, shared, offset), offset + expected.length);
      assert.deepEqual(shared.slice(offset, offset + expected.length), expected, `offset ${offset}`);
    }
  });

  it("decoding shared memory (a ring) copies bytes fields out of it", () => {
    const m = { fBytes: new Uint8Array(100).fill(5), fString: "from shared memory, long enough" };
    const body = Scalars.encode(m);
    const shared = new Uint8Array(new SharedArrayBuffer(body.length + 3), 3);
    shared.set(body);
    const decoded = Scalars.decode(shared);
    assert.ok(!(decoded.fBytes.buffer instanceof SharedArrayBuffer));
    shared.fill(0);
    assert.deepEqual(decoded.fBytes, m.fBytes);
    assert.equal(decoded.fString, m.fString);
  });

  it("decode from an offset equals decoding what follows it", () => {
    const m = { fString: "after a header", fInt64: -5n, fBytes: new Uint8Array(80).fill(7) };
    const body = Scalars.encode(m);
    const framed = new Uint8Array(28 + body.length).fill(0xff);
    framed.set(body, 28);
    assert.deepEqual(Scalars.decode(framed, 28), Scalars.decode(body));
    assert.deepEqual(Scalars.decode(framed, framed.length), Scalars.create());
    for (const bad of [-1, framed.length + 1, 1.5, NaN]) {
      assert.throws(() => Scalars.decode(framed, bad), RangeError, String(bad));
    }
  });
});

describe("unknown fields", () => {
  it("a message relayed through a schema that knows none of its fields loses nothing", () => {
    for (const { name, bytes } of vectors()) {
      const relayed = Empty.decode(bytes);
      assert.equal(hex(Empty.encode(relayed)), hex(bytes), name);
    }
  });

  it("are kept beside known fields and written after them", () => {
    // Money knows fields 1-3; 4 (varint), 5 (fixed64), 6 (string), 7 (fixed32)
    // and a group 8 are unknown.
    const unknown = "2001" + "290100000000000000" + "32026869" + "3d01000000" + "43" + "0801" + "44";
    const bytes = Buffer.from("0a03455552" + unknown, "hex");
    const m = Money.decode(bytes);
    assert.equal(m.currency, "EUR");
    assert.equal(hex(m.$unknown!), unknown);
    assert.equal(hex(Money.encode(m)), hex(bytes));
    assert.equal(hex(Money.encode({ ...m, currency: "USD" })), "0a03555344" + unknown);
  });

  it("survive inside nested messages and the largest field number", () => {
    // Field 536870911 (the maximum), varint 1, inside Everything.scalars.
    const inner = Buffer.from("f8ffffff0f01", "hex");
    const bytes = Uint8Array.from([0x0a, inner.length, ...inner]);
    const m = Everything.decode(bytes);
    assert.equal(hex(m.scalars!.$unknown!), hex(inner));
    assert.equal(hex(Everything.encode(m)), hex(bytes));
  });
});
