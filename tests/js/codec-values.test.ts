/**
 * Values of the wrong type from plain JavaScript: every encoder (encode,
 * encodedSize, encodeInto) refuses them with a FieldTypeError (wrong
 * JavaScript type) or FieldRangeError (a number or bigint the field cannot
 * hold), naming the message and field; nothing is written silently wrong.
 * What is accepted follows protobuf-es and protobufjs's verify (see
 * codegen/README.md).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Maps, Oneofs, Optionals, Repeateds, Scalars } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { Record } from "../codegen/golden/ts/shmrpc/test/legacy_pb.js";
import { Color } from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import { FieldRangeError, FieldTypeError } from "../../js/src/pb/index.js";
import type { MessageCodec, MessageInit } from "../../js/src/pb/index.js";

type ErrorClass = typeof FieldTypeError | typeof FieldRangeError;

/** Every way of encoding `value` throws `kind` naming `field`. */
function refuses(codec: MessageCodec<object>, value: object, kind: ErrorClass, field: string, text?: RegExp): void {
  const init = value as MessageInit<object>;
  for (const encode of [
    () => codec.encode(init),
    () => codec.encodedSize(init),
    () => codec.encodeInto(init, new Uint8Array(1024), 0),
  ]) {
    assert.throws(encode, (error: unknown) => {
      assert.ok(error instanceof kind, `${String(error)} is a ${kind.name}`);
      assert.equal(error.field, field);
      assert.ok(error.message.startsWith(`${field}: `), error.message);
      if (text !== undefined) assert.match(error.message, text);
      return true;
    });
  }
}

const S = Scalars as MessageCodec<object>;
const P = "shmrpc.test.Scalars.";

describe("values of the wrong type", () => {
  it("a string for bytes (which once wrote zero bytes)", () => {
    refuses(S, { fBytes: "hello" }, FieldTypeError, `${P}f_bytes`, /expected a Uint8Array \(bytes\), got string "hello"/);
  });

  it("uint32: 2**40, -1, 1.5, NaN, a string", () => {
    for (const bad of [2 ** 40, -1, 1.5, NaN, Infinity]) {
      refuses(S, { fUint32: bad }, FieldRangeError, `${P}f_uint32`, /out of range for uint32/);
    }
    refuses(S, { fUint32: "5" }, FieldTypeError, `${P}f_uint32`, /expected a number \(uint32\), got string "5"/);
    refuses(S, { fFixed32: -1 }, FieldRangeError, `${P}f_fixed32`);
  });

  it("int32 family: out of range, fractions, NaN, strings, booleans, bigints", () => {
    for (const field of ["fInt32", "fSint32", "fSfixed32"]) {
      const name = `${P}f_${field.slice(1).toLowerCase()}`;
      for (const bad of [2 ** 31, -(2 ** 31) - 1, 0.5, NaN]) refuses(S, { [field]: bad }, FieldRangeError, name);
      for (const bad of ["1", true, 1n]) refuses(S, { [field]: bad }, FieldTypeError, name);
    }
  });

  it("64-bit integers must be bigints in range", () => {
    refuses(S, { fInt64: 5 }, FieldTypeError, `${P}f_int64`, /expected a bigint \(int64\), got number 5/);
    refuses(S, { fInt64: 2n ** 63n }, FieldRangeError, `${P}f_int64`);
    refuses(S, { fSint64: -(2n ** 63n) - 1n }, FieldRangeError, `${P}f_sint64`);
    refuses(S, { fUint64: -1n }, FieldRangeError, `${P}f_uint64`);
    refuses(S, { fFixed64: 2n ** 64n }, FieldRangeError, `${P}f_fixed64`);
    refuses(S, { fSfixed64: "1" }, FieldTypeError, `${P}f_sfixed64`);
  });

  it("floating point, bool and string fields take only their own types", () => {
    refuses(S, { fDouble: "1.5" }, FieldTypeError, `${P}f_double`);
    refuses(S, { fFloat: 1n }, FieldTypeError, `${P}f_float`);
    refuses(S, { fBool: "true" }, FieldTypeError, `${P}f_bool`, /expected a boolean \(bool\)/);
    refuses(S, { fBool: 1 }, FieldTypeError, `${P}f_bool`);
    refuses(S, { fString: 5 }, FieldTypeError, `${P}f_string`);
    refuses(S, { fString: new Uint8Array(1) }, FieldTypeError, `${P}f_string`);
  });

  it("an enum name instead of its number, or a number out of int32", () => {
    refuses(S, { fEnum: "COLOR_RED" }, FieldTypeError, `${P}f_enum`,
      /expected a number \(enum shmrpc\.test\.common\.Color\), got string "COLOR_RED": enum fields hold numbers/);
    refuses(S, { fEnum: 1.5 }, FieldRangeError, `${P}f_enum`);
    // Open enums: an unknown number is fine.
    assert.ok(Scalars.encode({ fEnum: 99 as Color }).length > 0);
  });

  it("optional fields, messages, repeated fields, maps and oneofs", () => {
    const O = Optionals as MessageCodec<object>;
    refuses(O, { oInt32: "0" }, FieldTypeError, "shmrpc.test.Optionals.o_int32");
    refuses(O, { oMoney: 5 }, FieldTypeError, "shmrpc.test.Optionals.o_money", /expected a object \(message shmrpc\.test\.common\.Money\)/);
    refuses(O, { oMoney: null }, FieldTypeError, "shmrpc.test.Optionals.o_money");
    const R = Repeateds as MessageCodec<object>;
    refuses(R, { rInt32: "123" }, FieldTypeError, "shmrpc.test.Repeateds.r_int32", /expected a array \(repeated\)/);
    refuses(R, { rInt32: [1, 2.5] }, FieldRangeError, "shmrpc.test.Repeateds.r_int32");
    refuses(R, { rDouble: [1, "2"] }, FieldTypeError, "shmrpc.test.Repeateds.r_double");
    refuses(R, { rFixed32: [1, -1] }, FieldRangeError, "shmrpc.test.Repeateds.r_fixed32");
    // Packed runs the writer checks and writes in one loop (Writer.int32Run and the like).
    refuses(R, { rUint32: [1, -1] }, FieldRangeError, "shmrpc.test.Repeateds.r_uint32");
    refuses(R, { rSint32: [1, 2 ** 31] }, FieldRangeError, "shmrpc.test.Repeateds.r_sint32");
    refuses(R, { rEnum: [1, "COLOR_RED"] }, FieldTypeError, "shmrpc.test.Repeateds.r_enum", /enum shmrpc\.test\.common\.Color/);
    refuses(R, { rFloat: [1, 2n] }, FieldTypeError, "shmrpc.test.Repeateds.r_float");
    // A hole in a sparse array reads as undefined.
    // eslint-disable-next-line no-sparse-arrays
    refuses(R, { rDouble: [1, , 3] }, FieldTypeError, "shmrpc.test.Repeateds.r_double");
    refuses(R, { rInt32: Array.from({ length: 40 }, (_, i) => (i === 39 ? 0.5 : -i)) }, FieldRangeError, "shmrpc.test.Repeateds.r_int32");
    refuses(R, { rInt64: [1n, 2] }, FieldTypeError, "shmrpc.test.Repeateds.r_int64");
    refuses(R, { rString: ["a", 5] }, FieldTypeError, "shmrpc.test.Repeateds.r_string");
    refuses(R, { rString: ["a", "b", "c", ["d"]] }, FieldTypeError, "shmrpc.test.Repeateds.r_string");
    refuses(R, { rBytes: ["ab"] }, FieldTypeError, "shmrpc.test.Repeateds.r_bytes");
    refuses(R, { rMoney: [{}, 7] }, FieldTypeError, "shmrpc.test.Repeateds.r_money");
    const M = Maps as MessageCodec<object>;
    refuses(M, { int32ToInt64: { 1: 5 } }, FieldTypeError, "shmrpc.test.Maps.Int32ToInt64Entry.value");
    refuses(M, { int32ToInt64: { abc: 5n } }, FieldRangeError, "shmrpc.test.Maps.Int32ToInt64Entry.key");
    refuses(M, { stringToString: "x" }, FieldTypeError, "shmrpc.test.Maps.string_to_string", /\(map\)/);
    const N = Oneofs as MessageCodec<object>;
    refuses(N, { choice: { case: "nope", value: 1 } }, FieldTypeError, "shmrpc.test.Oneofs.choice", /unknown oneof case/);
  });

  it("64-bit map keys outside their type's range, or no integer at all (they once wrapped silently)", () => {
    const M = Maps as MessageCodec<object>;
    const entry = "shmrpc.test.Maps.";
    refuses(M, { uint64ToDouble: { "18446744073709551616": 0.5 } }, FieldRangeError, `${entry}Uint64ToDoubleEntry.key`, /out of range for uint64/);
    refuses(M, { uint64ToDouble: { "-1": 0.5 } }, FieldRangeError, `${entry}Uint64ToDoubleEntry.key`);
    refuses(M, { sfixed64ToString: { "-9223372036854775809": "x" } }, FieldRangeError, `${entry}Sfixed64ToStringEntry.key`, /out of range for sfixed64/);
    refuses(M, { int64ToMoney: { "9223372036854775808": {} } }, FieldRangeError, `${entry}Int64ToMoneyEntry.key`);
    refuses(M, { fixed64ToSint32: { abc: 1 } }, FieldTypeError, `${entry}Fixed64ToSint32Entry.key`, /got string "abc"/);
    refuses(M, { sint64ToFloat: { "1.5": 1 } }, FieldTypeError, `${entry}Sint64ToFloatEntry.key`);
    // The extremes themselves encode and come back.
    const extremes = { uint64ToDouble: { "18446744073709551615": 0.5 }, sfixed64ToString: { "-9223372036854775808": "min" } };
    const decoded = Maps.decode(Maps.encode(extremes));
    assert.deepEqual([decoded.uint64ToDouble, decoded.sfixed64ToString], [extremes.uint64ToDouble, extremes.sfixed64ToString]);
  });

  it("a missing required field (proto2)", () => {
    refuses(Record as MessageCodec<object>, { name: "x" }, FieldTypeError, "shmrpc.test.legacy.Record.id", /required field is missing/);
  });

  it("accepts what it should: integral numbers, -0, NaN and Infinity for floats, Buffers for bytes", () => {
    const value = { fDouble: NaN, fFloat: -Infinity, fInt32: -0, fUint32: 2 ** 32 - 1, fInt64: -(2n ** 63n),
      fUint64: 2n ** 64n - 1n, fBytes: Buffer.from("ab"), fEnum: -1, fSint32: -(2 ** 31) };
    const bytes = Scalars.encode(value);
    assert.equal(Scalars.encodedSize(value), bytes.length);
    const back = Scalars.decode(bytes);
    assert.equal(back.fUint32, 2 ** 32 - 1);
    assert.equal(back.fUint64, 2n ** 64n - 1n);
    assert.ok(Number.isNaN(back.fDouble));
  });
});
