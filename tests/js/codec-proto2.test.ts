/**
 * proto2 in the generated TypeScript: presence, required fields, unpacked
 * repeated scalars, extensions carried as unknown fields, groups; checked
 * against protoc's own encoder (`protoc --encode`), through nanopb
 * (TS -> C -> TS), and on protobuf's own proto2 schemas (descriptor.proto,
 * plugin.proto) by round-tripping a real FileDescriptorSet.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import { CodeGeneratorRequest } from "../codegen/golden/ts/google/protobuf/compiler/plugin_pb.js";
import { FileDescriptorSet } from "../codegen/golden/ts/google/protobuf/descriptor_pb.js";
import { Grouped } from "../codegen/golden/ts/shmrpc/test/groups_pb.js";
import { Batch, Mode, Record } from "../codegen/golden/ts/shmrpc/test/legacy_pb.js";
import { DecodeError, FieldTypeError } from "../../js/src/pb/index.js";
import { findReencoder, reencodeInC } from "../codegen/support/c-peer.js";
import { protoc } from "../codegen/support/schema.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** protoc's encoding of a text-format message. */
function protocEncode(type: string, file: string, text: string): Uint8Array {
  return new Uint8Array(protoc([`--encode=${type}`, file], Buffer.from(text)));
}

function decodeError(run: () => unknown, code: string): void {
  assert.throws(run, (error: unknown) => error instanceof DecodeError && error.code === code);
}

const RECORD_TEXT = `
  id: 7 name: "seven" count: 0 ratio: 0.25 label: "" blob: "" mode: MODE_FAST flag: false
  big: -9007199254740993 huge: 18446744073709551615 level: -inf offset: -3
  samples: 1 samples: 300 deltas: -1 deltas: 2 modes: MODE_SAFE modes: MODE_FAST
  extra { x: 0 note: "n" }
  entries { key: "a" child { id: 1 name: "c" } } entries { key: "b" }
  pick_text: ""
  tallies { key: "k" value: 3 }
  [shmrpc.test.legacy.tag_number]: 5
  [shmrpc.test.legacy.tag_names]: "x"
  [shmrpc.test.legacy.Batch.parent] { records { id: 2 name: "p" } }
`;

describe("proto2 fields", () => {
  it("decode and re-encode protoc's encoding byte for byte, extensions kept as unknown fields", () => {
    const wire = protocEncode("shmrpc.test.legacy.Record", "shmrpc/test/legacy.proto", RECORD_TEXT);
    const record = Record.decode(wire);
    assert.equal(record.id, 7);
    assert.equal(record.count, 0);
    assert.equal(record.label, "");
    assert.equal(record.mode, Mode.MODE_FAST);
    assert.equal(record.flag, false);
    assert.equal(record.big, -9007199254740993n);
    assert.equal(record.huge, 18446744073709551615n);
    assert.equal(record.level, -Infinity);
    assert.deepEqual(record.samples, [1, 300]);
    assert.deepEqual(record.deltas, [-1n, 2n]);
    assert.equal(record.entries[0]?.child?.name, "c");
    assert.deepEqual(record.choice, { case: "pickText", value: "" });
    assert.ok(record.$unknown !== undefined && record.$unknown.length > 0, "extensions are unknown fields");
    assert.equal(hex(Record.encode(record)), hex(wire));
    const into = new Uint8Array(Record.encodedSize(record) + 3);
    assert.equal(Record.encodeInto(record, into, 3), into.length);
    assert.equal(hex(into.subarray(3)), hex(wire));
  });

  it("write a set optional field even at its zero value, and leave an unset one out", () => {
    assert.equal(hex(Record.encode({ id: 1, name: "", count: 0 })), "0801" + "1200" + "1800");
    assert.equal(hex(Record.encode({ id: 1, name: "" })), "0801" + "1200");
    assert.equal(Record.decode(Record.encode({ id: 1, name: "" })).count, undefined);
  });

  it("write repeated scalars unpacked unless [packed = true], and read either form", () => {
    const bytes = Record.encode({ id: 1, name: "", samples: [1, 2], deltas: [1n, -1n] });
    // samples (12): one tag per value; deltas (13): one length-delimited run.
    assert.equal(hex(bytes), "0801" + "1200" + "6001" + "6002" + "6a02" + "0201");
    const packedSamples = Uint8Array.from([0x08, 1, 0x12, 0, 0x62, 2, 1, 2, 0x68, 2, 0x68, 1]);
    const read = Record.decode(packedSamples);
    assert.deepEqual(read.samples, [1, 2]);
    assert.deepEqual(read.deltas, [1n, -1n]);
  });

  it("refuse to encode a message whose required field is missing, naming the field", () => {
    for (const encode of [
      () => Record.encode({ name: "x" }),
      () => Record.encodedSize({ name: "x" }),
      () => Record.encodeInto({ name: "x" }, new Uint8Array(64), 0),
    ]) {
      assert.throws(encode, (error: unknown) => error instanceof FieldTypeError && error instanceof TypeError &&
        error.field === "shmrpc.test.legacy.Record.id" && /required field is missing/.test(error.message));
    }
    assert.throws(() => Batch.encode({ records: [{ id: 1, name: "", entries: [{}] }] }),
      (error: unknown) => error instanceof FieldTypeError && error.field === "shmrpc.test.legacy.Record.Entry.key");
  });

  it("refuse to decode a message whose required field is missing", () => {
    decodeError(() => Record.decode(Uint8Array.from([0x08, 1])), "MISSING_REQUIRED");
    decodeError(() => Record.decode(new Uint8Array(0)), "MISSING_REQUIRED");
    assert.throws(() => Record.decode(Uint8Array.from([0x12, 0])), /required field shmrpc\.test\.legacy\.Record\.id is missing/);
  });

  it("survive a round trip through nanopb (C)", () => {
    const wire = protocEncode("shmrpc.test.legacy.Record", "shmrpc/test/legacy.proto", RECORD_TEXT);
    const record = Record.decode(wire);
    const [back] = reencodeInC(findReencoder(), [Record.encode(record)], "Record");
    assert.ok(back?.ok, back?.ok === false ? back.error : "");
    // nanopb keeps no unknown fields (the extensions); everything else returns.
    assert.deepEqual(Record.decode(back.bytes), { ...record, $unknown: undefined });
  });
});

describe("proto2 groups", () => {
  const text = `before: 1 Point { x: 2 y: 0 Label { text: "t" } } Item { name: "a" } Item { name: "b" }
    Chosen { value: 9 } after: 3`;

  it("decode and re-encode protoc's encoding byte for byte", () => {
    const wire = protocEncode("shmrpc.test.groups.Grouped", "shmrpc/test/groups.proto", text);
    const grouped = Grouped.decode(wire);
    assert.equal(grouped.point?.label?.text, "t");
    assert.deepEqual(grouped.item.map((i) => i.name), ["a", "b"]);
    assert.equal(grouped.pick.case === "chosen" && grouped.pick.value.value, 9);
    assert.equal(grouped.after, 3);
    assert.equal(hex(Grouped.encode(grouped)), hex(wire));
    const into = new Uint8Array(Grouped.encodedSize(grouped));
    Grouped.encodeInto(grouped, into, 0);
    assert.equal(hex(into), hex(wire));
  });

  it("reject a group whose end tag is missing, wrong or misplaced", () => {
    // Point (2) starts with 0x13 and ends with 0x14.
    decodeError(() => Grouped.decode(Uint8Array.from([0x13, 0x18, 1])), "TRUNCATED");
    decodeError(() => Grouped.decode(Uint8Array.from([0x13, 0x18, 1, 0x3c])), "INVALID_TAG");
    decodeError(() => Grouped.decode(Uint8Array.from([0xf4, 0x01])), "INVALID_TAG");
    decodeError(() => Grouped.decode(Uint8Array.from([0x14])), "WRONG_WIRE_TYPE");
  });

  it("stop at the reader's depth limit", () => {
    const deep: number[] = [];
    for (let i = 0; i < 101; i++) deep.push(0x13);
    decodeError(() => Grouped.decode(Uint8Array.from(deep)), "DEPTH_LIMIT");
  });
});

describe("protobuf's own proto2 schemas", () => {
  it("descriptor.proto: a real FileDescriptorSet (with source info) decodes and re-encodes byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "shmrpc-fds-"));
    try {
      const out = join(dir, "set.pb");
      protoc(["--include_imports", "--include_source_info", `--descriptor_set_out=${out}`,
        "shmrpc/test/legacy.proto", "shmrpc/test/groups.proto", "shmrpc/test/service.proto",
        "google/protobuf/compiler/plugin.proto"]);
      const wire = new Uint8Array(readFileSync(out));
      const set = FileDescriptorSet.decode(wire);
      const legacy = set.file.find((f) => f.name === "shmrpc/test/legacy.proto");
      assert.equal(legacy?.messageType[0]?.field.find((f) => f.name === "ratio")?.defaultValue, "0.5");
      assert.equal(hex(FileDescriptorSet.encode(set)), hex(wire));
      const request = CodeGeneratorRequest.decode(CodeGeneratorRequest.encode({
        fileToGenerate: ["shmrpc/test/legacy.proto"], parameter: "ts", protoFile: set.file,
      }));
      assert.equal(request.protoFile.length, set.file.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
