/**
 * The tables both languages hold (error codes, RPC statuses, peer states,
 * wait values, frame types, envelope kinds, segment and envelope offsets):
 * TypeScript's copies are read against the C headers (and the C envelope
 * parser), so neither can drift. The byte-level vectors (tests/vectors)
 * test behaviour; this tests the names and numbers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";

import { FRAME_HEADER_BYTES, FRAME_MORE, FrameType } from "../../js/src/channel/frame.js";
import {
  Offset,
  PeerState,
  RING_MIN_CAPACITY,
  RingOffset,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION_MAJOR,
  SEGMENT_VERSION_MINOR,
  WaitValue,
} from "../../js/src/channel/layout.js";
import { errorCodeValues } from "../../js/src/errors.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { ENVELOPE_HEADER_BYTES, ENVELOPE_VERSION, EnvelopeKind, EnvelopeOffset } from "../../js/src/rpc/envelope.js";
import { Status } from "../../js/src/rpc/status.js";

const read = (file: string): string => readFileSync(path.join(packageRoot(), file), "utf8");
const header = (name: string): string => read(`c/include/shmrpc/${name}`);

/** `XX(NAME, value...)` rows of an X-macro table. */
function xMacroRows(source: string, macro: string): Record<string, number> {
  const start = source.indexOf(`#define ${macro}(XX)`);
  assert.ok(start >= 0, `${macro} is defined`);
  const body = source.slice(start, source.indexOf("\n\n", start));
  const rows: Record<string, number> = {};
  for (const [, name, value] of body.matchAll(/XX\((\w+),\s*(-?\d+)/g)) rows[name!] = Number(value);
  return rows;
}

/** `PREFIX_NAME = value` enumerators, keyed by NAME. */
function enumerators(source: string, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [, name, value] of source.matchAll(new RegExp(`\\b${prefix}(\\w+)\\s*=\\s*(0x[0-9a-fA-F]+|\\d+)`, "g"))) {
    out[name!] = Number(value);
  }
  return out;
}

/** `#define NAME value` (an integer with an optional u suffix). */
function define(source: string, name: string): number {
  const match = new RegExp(`#define ${name}\\s+(0x[0-9a-fA-F]+|\\d+)u?\\b`).exec(source);
  assert.ok(match, `${name} is defined`);
  return Number(match[1]);
}

describe("TypeScript's tables match C's", () => {
  test("error codes (SHMRPC_ERRNO_MAP)", () => {
    assert.deepEqual({ ...errorCodeValues }, xMacroRows(header("common.h"), "SHMRPC_ERRNO_MAP"));
  });

  test("RPC statuses (SHMRPC_STATUS_MAP)", () => {
    assert.deepEqual({ ...Status }, xMacroRows(header("status.h"), "SHMRPC_STATUS_MAP"));
  });

  test("peer states and wait values", () => {
    const segment = header("segment.h");
    assert.deepEqual({ ...PeerState }, enumerators(segment, "SHMRPC_STATE_"));
    assert.deepEqual({ ...WaitValue }, enumerators(segment, "SHMRPC_WAIT_"));
  });

  test("segment layout", () => {
    const segment = header("segment.h");
    assert.deepEqual({ ...Offset }, enumerators(segment, "SHMRPC_OFF_"));
    assert.deepEqual({ ...RingOffset }, enumerators(segment, "SHMRPC_RING_OFF_"));
    assert.equal(SEGMENT_MAGIC, define(segment, "SHMRPC_SEGMENT_MAGIC"));
    assert.equal(SEGMENT_VERSION_MAJOR, define(segment, "SHMRPC_SEGMENT_VERSION_MAJOR"));
    assert.equal(SEGMENT_VERSION_MINOR, define(segment, "SHMRPC_SEGMENT_VERSION_MINOR"));
    assert.equal(SEGMENT_HEADER_BYTES, define(segment, "SHMRPC_SEGMENT_HEADER_BYTES"));
    assert.equal(RING_MIN_CAPACITY, define(segment, "SHMRPC_RING_MIN_CAPACITY"));
  });

  test("frames", () => {
    const frame = header("frame.h");
    const types = enumerators(frame, "SHMRPC_");
    assert.deepEqual({ ...FrameType }, { TEXT: types.TEXT, BINARY: types.BINARY, COMMAND: types.COMMAND });
    assert.equal(FRAME_HEADER_BYTES, define(frame, "SHMRPC_FRAME_HEADER_BYTES"));
    assert.equal(FRAME_MORE, define(frame, "SHMRPC_FRAME_MORE"));
  });

  test("RPC envelopes", () => {
    const rpc = header("envelope.h");
    assert.deepEqual({ ...EnvelopeKind }, enumerators(rpc, "SHMRPC_RPC_"));
    assert.equal(ENVELOPE_VERSION, define(rpc, "SHMRPC_RPC_VERSION"));
    assert.equal(ENVELOPE_HEADER_BYTES, define(rpc, "SHMRPC_ENVELOPE_HEADER_BYTES"));
    assert.deepEqual({ ...EnvelopeOffset }, enumerators(read("c/src/rpc_envelope.c"), "OFF_"));
  });
});
