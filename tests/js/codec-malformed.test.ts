/**
 * Malformed input to generated decoders: every defect ends in a DecodeError
 * with a precise code, in time and memory bounded by the input, and
 * hostile map keys cannot reach Object.prototype.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { Everything, Maps, Repeateds, Scalars, Tree } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { DecodeError, Reader, isDecodeError } from "../../js/src/pb/index.js";
import type { DecodeErrorCode } from "../../js/src/pb/index.js";
import { Rng } from "../codegen/support/random.js";
import { repoRoot } from "../codegen/support/schema.js";

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

function rejects(decode: () => unknown, code: DecodeErrorCode): void {
  assert.throws(decode, (error: unknown) => {
    assert.ok(isDecodeError(error), `expected a DecodeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.name, "DecodeError");
    return true;
  });
}

/** Tree nested `depth` levels deep through field 2 (children), built from
 * the inside out. */
function nestedTrees(depth: number): Uint8Array {
  const out = new Uint8Array(depth * 6);
  let pos = out.length;
  for (let i = 0; i < depth; i++) {
    const varint: number[] = [];
    for (let v = out.length - pos; ; v >>>= 7) {
      varint.push(v < 0x80 ? v : (v & 0x7f) | 0x80);
      if (v < 0x80) break;
    }
    pos -= varint.length;
    out.set(varint, pos);
    out[--pos] = 0x12;
  }
  return out.subarray(pos);
}

describe("malformed input", () => {
  it("truncated varints", () => {
    rejects(() => Scalars.decode(bytes(0x28)), "TRUNCATED");
    rejects(() => Scalars.decode(bytes(0x28, 0x80)), "TRUNCATED");
    rejects(() => Scalars.decode(bytes(0x18, 0xff, 0xff, 0xff)), "TRUNCATED"); // int64
    rejects(() => Scalars.decode(bytes(0x80)), "TRUNCATED"); // the tag itself
  });

  it("varints longer than 10 bytes", () => {
    rejects(() => Scalars.decode(bytes(0x28, ...new Array(10).fill(0x80), 0x01)), "VARINT_TOO_LONG");
    rejects(() => Scalars.decode(bytes(0x18, ...new Array(10).fill(0xff), 0x01)), "VARINT_TOO_LONG");
    // Inside packed runs, long enough for the unchecked loop and not.
    rejects(() => Repeateds.decode(bytes(0x2a, 12, ...new Array(11).fill(0x80), 0x01)), "VARINT_TOO_LONG");
    rejects(() => Repeateds.decode(bytes(0x72, 12, ...new Array(11).fill(0xff), 0x01)), "VARINT_TOO_LONG");
    rejects(() => Repeateds.decode(bytes(0x5a, 3, 0x80, 0x80, 0x80)), "TRUNCATED");
  });

  it("truncated fixed-width values", () => {
    rejects(() => Scalars.decode(bytes(0x09, 1, 2, 3)), "TRUNCATED"); // double
    rejects(() => Scalars.decode(bytes(0x3d, 1, 2)), "TRUNCATED"); // fixed32
  });

  it("lengths past the end, including huge ones, without allocating", () => {
    rejects(() => Scalars.decode(bytes(0x4a, 10, 0x61, 0x62)), "LENGTH_OVERRUN");
    rejects(() => Scalars.decode(bytes(0x52, 0xff, 0xff, 0xff, 0xff, 0x0f)), "LENGTH_OVERRUN");
    rejects(() => Repeateds.decode(bytes(0x2a, 0xfe, 0xff, 0xff, 0xff, 0x07, 1)), "LENGTH_OVERRUN");
    rejects(() => Everything.decode(bytes(0x0a, 0x80, 0x80, 0x80, 0x80, 0x08)), "LENGTH_OVERRUN");
  });

  it("fields that overrun their enclosing message", () => {
    // scalars (2 bytes long) holds a string claiming 4 bytes that the outer
    // buffer does contain.
    rejects(() => Everything.decode(bytes(0x0a, 0x02, 0x4a, 0x04, 0x61, 0x62, 0x63, 0x64)), "LENGTH_OVERRUN");
    // A packed run of fixed32 whose length is not a multiple of 4.
    rejects(() => Repeateds.decode(bytes(0x3a, 0x03, 1, 0, 0, 0)), "LENGTH_OVERRUN");
    // A packed varint run whose last varint continues past the run.
    rejects(() => Repeateds.decode(bytes(0x2a, 0x01, 0x80, 0x01)), "LENGTH_OVERRUN");
  });

  it("wrong wire types for known fields", () => {
    rejects(() => Scalars.decode(bytes(0x08, 0x01)), "WRONG_WIRE_TYPE"); // double as varint
    rejects(() => Scalars.decode(bytes(0x4d, 0, 0, 0, 0)), "WRONG_WIRE_TYPE"); // string as fixed32
    rejects(() => Everything.decode(bytes(0x08, 0x01)), "WRONG_WIRE_TYPE"); // message as varint
    rejects(() => Repeateds.decode(bytes(0x2d, 0, 0, 0, 0)), "WRONG_WIRE_TYPE"); // repeated int32 as fixed32
    // A map entry whose key has the wrong wire type.
    rejects(() => Maps.decode(bytes(0x0a, 0x02, 0x08, 0x01)), "WRONG_WIRE_TYPE");
  });

  it("invalid tags and wire types", () => {
    rejects(() => Scalars.decode(bytes(0x00, 0x01)), "INVALID_TAG"); // field 0
    rejects(() => Scalars.decode(bytes(0xfe, 0x01)), "INVALID_WIRE_TYPE"); // field 31, type 6
    rejects(() => Scalars.decode(bytes(0xff, 0x01)), "INVALID_WIRE_TYPE"); // type 7
    rejects(() => Scalars.decode(bytes(0xfc, 0x01)), "INVALID_TAG"); // end-group alone
    rejects(() => Scalars.decode(bytes(0xfb, 0x01, 0x84, 0x02)), "INVALID_TAG"); // group 31 ended as 32
    rejects(() => Scalars.decode(bytes(0xfb, 0x01)), "TRUNCATED"); // group never ended
  });

  it("invalid UTF-8 in short and long strings", () => {
    const cases = [
      [0xff],
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xe2, 0x82], // truncated sequence
      [0x80], // lone continuation byte
    ];
    for (const bad of cases) {
      for (const pad of [0, 100]) {
        const text = [...new Array(pad).fill(0x61), ...bad];
        rejects(() => Scalars.decode(bytes(0x4a, text.length, ...text)), "INVALID_UTF8");
      }
    }
    // A byte-order mark is text, not a marker to strip.
    assert.equal(Scalars.decode(bytes(0x4a, 3, 0xef, 0xbb, 0xbf)).fString, "\ufeff");
    // U+FFFD itself is valid, in a string long enough for the native decoder
    // (which writes U+FFFD for what is not UTF-8); a BOM stays there too.
    for (const text of ["\ufffd".repeat(40), `${"a".repeat(100)}\ufffd`, `\ufeff${"b".repeat(100)}`]) {
      const utf8 = new TextEncoder().encode(text);
      assert.equal(Scalars.decode(bytes(0x4a, utf8.length, ...utf8)).fString, text);
    }
  });

  it("nesting deeper than the limit, cheaply and without exhausting the stack", () => {
    assert.equal(Tree.decode(nestedTrees(100)).children.length, 1);
    rejects(() => Tree.decode(nestedTrees(101)), "DEPTH_LIMIT");
    const started = performance.now();
    rejects(() => Tree.decode(nestedTrees(200000)), "DEPTH_LIMIT");
    // Unknown groups (field 5, unknown to Tree) nested a million deep.
    rejects(() => Tree.decode(new Uint8Array(1000000).fill(0x2b)), "DEPTH_LIMIT");
    assert.ok(performance.now() - started < 2000);
    // A reader may allow less.
    const shallow = nestedTrees(5);
    rejects(() => Tree.$read(new Reader(shallow, { maxDepth: 4 }), shallow.length, 0, undefined), "DEPTH_LIMIT");
    assert.equal(Tree.$read(new Reader(shallow, { maxDepth: 5 }), shallow.length, 0, undefined).children.length, 1);
  });

  it("map keys cannot pollute prototypes", () => {
    const key = Buffer.from("__proto__");
    const entry = [0x0a, key.length, ...key, 0x12, 0x01, 0x78];
    const m = Maps.decode(bytes(0x0a, entry.length, ...entry));
    assert.equal(Object.getPrototypeOf(m.stringToString), Object.prototype);
    assert.deepEqual(Object.keys(m.stringToString), ["__proto__"]);
    assert.equal(Object.getOwnPropertyDescriptor(m.stringToString, "__proto__")?.value, "x");
    assert.equal(({} as { [k: string]: unknown })["x"], undefined);
    // It survives a round trip as an ordinary key.
    assert.deepEqual(Maps.encode(m), bytes(0x0a, entry.length, ...entry));
  });

  it("errors say what and where", () => {
    try {
      Scalars.decode(bytes(0x28, 0x01, 0x4a, 0x05, 0x61));
      assert.fail("no error");
    } catch (error) {
      assert.ok(error instanceof DecodeError);
      assert.ok(error instanceof Error);
      assert.equal(error.code, "LENGTH_OVERRUN");
      assert.equal(error.offset, 4);
      assert.match(error.message, /declared length 5 .*at byte 4/);
    }
  });

  it("random and mutated inputs only ever decode or raise DecodeError", () => {
    const rng = new Rng(4242);
    const dir = join(repoRoot(), "tests", "vectors", "messages");
    const seeds = readdirSync(dir)
      .filter((f) => f.endsWith(".bin"))
      .map((f) => new Uint8Array(readFileSync(join(dir, f))))
      .filter((b) => b.length > 0);
    let decoded = 0;
    let rejected = 0;
    // A hang shows as one input taking long; the total depends on the machine's load.
    let slowest = 0;
    for (let i = 0; i < 20000; i++) {
      let input: Uint8Array;
      if (i % 2 === 0) {
        input = new Uint8Array(rng.int(64));
        for (let k = 0; k < input.length; k++) input[k] = rng.int(256);
      } else {
        input = rng.pick(seeds).slice();
        for (let flips = 1 + rng.int(4); flips > 0; flips--) input[rng.int(input.length)] = rng.int(256);
        if (rng.chance(0.3)) input = input.subarray(0, rng.int(input.length));
      }
      const started = performance.now();
      try {
        Everything.decode(input);
        decoded++;
      } catch (error) {
        if (!isDecodeError(error)) throw new Error(`input ${Buffer.from(input).toString("hex")}: ${String(error)}`);
        rejected++;
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    assert.ok(decoded > 100 && rejected > 100, `decoded ${decoded}, rejected ${rejected}`);
    assert.ok(slowest < 1000, `one input took ${slowest.toFixed(0)} ms to decode or reject`);
  });
});
