import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { FRAME_HEADER_BYTES, FrameType, decodeFrameHeader, encodeFrame, isFrameType, isShmrpcError } from "../../js/src/index.js";
import { FRAME_MORE, fragmentPayloadBytes } from "../../js/src/internal.js";
import { readVector } from "./helpers/vectors.js";

describe("encodeFrame", () => {
  test("reproduces every golden frame", () => {
    const cases: Array<[string, FrameType, Uint8Array | string]> = [
      ["frame_text_hi.bin", FrameType.TEXT, "hi"],
      ["frame_text_utf8.bin", FrameType.TEXT, "h\u00e9llo \u2713"],
      ["frame_binary_empty.bin", FrameType.BINARY, new Uint8Array(0)],
      ["frame_binary_256.bin", FrameType.BINARY, Uint8Array.from({ length: 256 }, (_, i) => i)],
      ["frame_command.bin", FrameType.COMMAND, Uint8Array.of(1, 2, 3)],
    ];
    for (const [file, type, payload] of cases) {
      assert.deepEqual(encodeFrame(type, payload), readVector(`channel/${file}`), file);
    }
  });

  test("TEXT \"hi\" is type 0, length 2 big-endian, then the bytes", () => {
    // type | length (u32 BE)  | "h"  "i"
    assert.deepEqual([...encodeFrame(FrameType.TEXT, "hi")], [0x00, 0x00, 0x00, 0x00, 0x02, 0x68, 0x69]);
  });

  test("TEXT also takes UTF-8 bytes", () => {
    assert.deepEqual(encodeFrame(FrameType.TEXT, new TextEncoder().encode("hi")), encodeFrame(FrameType.TEXT, "hi"));
  });

  test("rejects a reserved type, a string for BINARY and a non-byte payload", () => {
    assert.throws(() => encodeFrame(3 as FrameType, new Uint8Array(1)), TypeError);
    assert.throws(() => encodeFrame(FrameType.BINARY, "x"), TypeError);
    assert.throws(() => encodeFrame(FrameType.COMMAND, [1, 2] as unknown as Uint8Array), TypeError);
  });
});

describe("decodeFrameHeader", () => {
  test("reads type, MORE and a length above 2^31", () => {
    const header = decodeFrameHeader(Uint8Array.of(0xff, 0x81, 0x80, 0x00, 0x00, 0x01), 1);
    assert.deepEqual(header, { type: FrameType.BINARY, more: true, length: 0x80000001 });
  });

  test("round-trips every golden frame", () => {
    const header = decodeFrameHeader(readVector("channel/frame_binary_256.bin"));
    assert.deepEqual(header, { type: FrameType.BINARY, more: false, length: 256 });
  });

  test("a reserved type is a protocol violation", () => {
    for (const typeByte of [3, 0x7f, 0x83]) {
      assert.throws(
        () => decodeFrameHeader(Uint8Array.of(typeByte, 0, 0, 0, 0)),
        (error) => isShmrpcError(error, "EPROTO"),
      );
    }
  });

  test("fewer than 5 bytes is EINVAL", () => {
    assert.throws(() => decodeFrameHeader(Uint8Array.of(0, 0, 0, 0)), (error) => isShmrpcError(error, "EINVAL"));
    assert.throws(() => decodeFrameHeader(new Uint8Array(6), 2), (error) => isShmrpcError(error, "EINVAL"));
  });
});

test("constants match docs/PROTOCOL.md section 3", () => {
  assert.equal(FRAME_HEADER_BYTES, 5);
  assert.equal(FRAME_MORE, 0x80);
  assert.deepEqual(FrameType, { TEXT: 0, BINARY: 1, COMMAND: 2 });
  assert.equal(fragmentPayloadBytes(64), 11);
  assert.equal(fragmentPayloadBytes(1 << 20), (1 << 18) - 5);
  assert.ok(isFrameType(2) && !isFrameType(3) && !isFrameType("0"));
});
