/**
 * Differential tests against implementations nobody here wrote:
 * @bufbuild/protobuf (reflection over protoc's FileDescriptorSet),
 * protobufjs (reflection over the .proto files) and protoc itself. Our
 * encodings must decode to the same values there, and theirs here, compared
 * field by field on a canonical projection (tests/codegen/support).
 */
import assert from "node:assert/strict";
import { isAbsolute, join } from "node:path";
import { describe, it } from "node:test";

import { ScalarType, create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";
import protobuf from "protobufjs";

import * as common from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import * as everything from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import type { MessageCodec, MessageInit } from "../../js/src/pb/index.js";
import {
  PROTOBUFJS_OBJECT,
  fromBufbuild,
  fromOurs,
  fromProtobufjs,
  toProtobufjsObject,
} from "../codegen/support/normalize.js";
import { Rng, randomMessage } from "../codegen/support/random.js";
import { PROTO_FILES, PROTO_ROOT, messageDesc, protoc } from "../codegen/support/schema.js";

const CODECS: MessageCodec<object>[] = [
  common.Money,
  everything.Scalars,
  everything.Optionals,
  everything.Repeateds,
  everything.Maps,
  everything.Oneofs,
  everything.Outer,
  everything.Tree,
  everything.Everything,
  everything.Awkward,
] as MessageCodec<object>[];

const CASES = 150;
const SEED = 777000;

function samples(codec: MessageCodec<object>, desc: DescMessage, seed: number, count: number): object[] {
  const out = [];
  for (let i = 0; i < count; i++) {
    const init = randomMessage(new Rng(seed + i), desc, 0, { maxDepth: 4, noNul: false });
    out.push(codec.create(init as MessageInit<object>));
  }
  return out;
}

function loadProtobufjs(): protobuf.Root {
  const root = new protobuf.Root();
  // Imports are relative to tests/proto; protobufjs has the well-known types.
  root.resolvePath = (_origin, target) =>
    isAbsolute(target) || target.startsWith("google/protobuf/") ? target : join(PROTO_ROOT, target);
  root.loadSync(PROTO_FILES.map((f) => join(PROTO_ROOT, f)));
  root.resolveAll();
  return root;
}

describe("@bufbuild/protobuf", () => {
  it("decodes our encodings to the same values", () => {
    for (const codec of CODECS) {
      const desc = messageDesc(codec.typeName);
      samples(codec, desc, SEED, CASES).forEach((ours, i) => {
        const theirs = fromBinary(desc, codec.encode(ours));
        assert.deepEqual(fromBufbuild(desc, theirs), fromOurs(desc, ours), `${codec.typeName} #${i}`);
      });
    }
  });

  it("encodes what we decode to the same values", () => {
    for (const codec of CODECS) {
      const desc = messageDesc(codec.typeName);
      samples(codec, desc, SEED + 5000, CASES).forEach((ours, i) => {
        const theirs = create(desc, ours as never);
        const decoded = codec.decode(toBinary(desc, theirs));
        assert.deepEqual(fromOurs(desc, decoded), fromBufbuild(desc, theirs), `${codec.typeName} #${i}`);
      });
    }
  });
});

/**
 * protobufjs writes a map key "false" as true (it passes the string to its
 * bool writer), so bool-keyed maps are left out when protobufjs encodes.
 */
function withoutBoolKeyedMaps(desc: DescMessage, message: object): object {
  const copy: { [key: string]: unknown } = { ...message };
  for (const field of desc.fields) {
    const value = copy[field.jsonName];
    if (field.fieldKind === "map" && field.mapKey === ScalarType.BOOL) {
      copy[field.jsonName] = {};
    } else if (field.fieldKind === "message" && value !== undefined) {
      copy[field.jsonName] = withoutBoolKeyedMaps(field.message, value as object);
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      copy[field.jsonName] = (value as object[]).map((item) => withoutBoolKeyedMaps(field.message, item));
    } else if (field.fieldKind === "map" && field.mapKind === "message") {
      const map: { [key: string]: object } = {};
      for (const [key, item] of Object.entries(value as { [key: string]: object })) {
        map[key] = withoutBoolKeyedMaps(field.message, item);
      }
      copy[field.jsonName] = map;
    }
  }
  for (const oneof of desc.oneofs) {
    const set = copy[oneof.localName] as { case?: string; value?: unknown };
    const member = oneof.fields.find((f) => f.jsonName === set.case);
    if (member?.fieldKind === "message") {
      copy[oneof.localName] = { case: set.case, value: withoutBoolKeyedMaps(member.message, set.value as object) };
    }
  }
  return copy;
}

describe("protobufjs", () => {
  const root = loadProtobufjs();

  it("decodes our encodings to the same values", () => {
    for (const codec of CODECS) {
      const desc = messageDesc(codec.typeName);
      const type = root.lookupType(codec.typeName);
      samples(codec, desc, SEED + 10000, CASES).forEach((ours, i) => {
        const theirs = type.toObject(type.decode(codec.encode(ours)), PROTOBUFJS_OBJECT);
        assert.deepEqual(fromProtobufjs(desc, theirs), fromOurs(desc, ours), `${codec.typeName} #${i}`);
      });
    }
  });

  it("encodes messages that we decode to the same values", () => {
    for (const codec of CODECS) {
      const desc = messageDesc(codec.typeName);
      const type = root.lookupType(codec.typeName);
      samples(codec, desc, SEED + 15000, CASES).forEach((sample, i) => {
        const ours = withoutBoolKeyedMaps(desc, sample);
        const theirs = type.fromObject(toProtobufjsObject(desc, ours as { [key: string]: unknown }));
        const decoded = codec.decode(type.encode(theirs).finish());
        assert.deepEqual(fromOurs(desc, decoded), fromOurs(desc, ours), `${codec.typeName} #${i}`);
      });
    }
  });
});

describe("protoc", () => {
  const TYPE = "shmrpc.test.Everything";
  const FILE = "shmrpc/test/everything.proto";

  it("--decode understands every field we write, and --encode round-trips it", () => {
    const codec = everything.Everything;
    const desc = messageDesc(TYPE);
    for (const [i, ours] of samples(codec as MessageCodec<object>, desc, SEED + 20000, 25).entries()) {
      const text = protoc([`--decode=${TYPE}`, FILE], codec.encode(ours as everything.Everything));
      // Fields protoc did not recognise would show up by number.
      assert.doesNotMatch(text.toString(), /^\s*\d+\s*[:{]/m, `#${i}`);
      const again = protoc([`--encode=${TYPE}`, FILE], text);
      assert.deepEqual(codec.decode(again), ours, `#${i}`);
    }
  });

  it("--encode output decodes here to the values of its text", () => {
    const text = [
      'scalars { f_int64: -9223372036854775808 f_uint64: 18446744073709551615 f_sint32: -2',
      '  f_string: "h\\303\\251" f_bytes: "\\000\\377" f_enum: COLOR_INFRARED f_double: -0 }',
      'optionals { o_int32: 0 o_money { } }',
      'repeateds { r_fixed32: [1, 4294967295] r_bool: [true, false] r_sint64: [-1, 1] }',
      'maps { sfixed64_to_string { key: -5 value: "minus five" } bool_to_uint32 { key: true value: 9 } }',
      'oneofs { big: 7 ratio: 0.5 }',
      "far_away: \"far\" farthest: 65535",
    ].join("\n");
    const m = everything.Everything.decode(protoc([`--encode=${TYPE}`, FILE], Buffer.from(text)));
    assert.equal(m.scalars?.fInt64, -9223372036854775808n);
    assert.equal(m.scalars?.fUint64, 18446744073709551615n);
    assert.equal(m.scalars?.fSint32, -2);
    assert.equal(m.scalars?.fString, "hé");
    assert.deepEqual(m.scalars?.fBytes, Uint8Array.of(0, 255));
    assert.equal(m.scalars?.fEnum, common.Color.COLOR_INFRARED);
    assert.ok(Object.is(m.scalars?.fDouble, -0));
    assert.equal(m.optionals?.oInt32, 0);
    assert.deepEqual(m.optionals?.oMoney, common.Money.create());
    assert.deepEqual(m.repeateds?.rFixed32, [1, 4294967295]);
    assert.deepEqual(m.repeateds?.rBool, [true, false]);
    assert.deepEqual(m.repeateds?.rSint64, [-1n, 1n]);
    assert.deepEqual(m.maps?.sfixed64ToString, { "-5": "minus five" });
    assert.deepEqual(m.maps?.boolToUint32, { true: 9 });
    assert.deepEqual(m.oneofs?.choice, { case: "big", value: 7n });
    assert.deepEqual(m.oneofs?.other, { case: "ratio", value: 0.5 });
    assert.equal(m.farAway, "far");
    assert.equal(m.farthest, 65535);
  });
});
