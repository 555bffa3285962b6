/**
 * The encoder at its edges: encode() (one pass into the writer's own area,
 * lengths patched in after the content, copied out), encodeInto() (the same
 * pass, copied into the target) and encodedSize() must agree with each
 * other and with an independent reference: strings of every length and
 * script, embedded messages whose lengths cross varint boundaries, messages
 * that outgrow the area, encodes nested in encodes. The same checks run
 * again without Node's Buffer, which the runtime uses where present.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { MessageCodec, MessageInit } from "../../js/src/pb/index.js";
import { Money } from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import { Everything, Maps, Repeateds, Scalars, Tree } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { WITHOUT_BUFFER, passesWithoutBuffer } from "./helpers/without-buffer.js";


/** encode() and encodeInto() of `message`, checked to agree; the bytes. */
function encodeBoth<T>(codec: MessageCodec<T>, message: MessageInit<T>): Uint8Array {
  const bytes = codec.encode(message);
  assert.equal(codec.encodedSize(message), bytes.length);
  const target = new Uint8Array(bytes.length + 2);
  assert.equal(codec.encodeInto(message, target, 2), target.length);
  assert.deepEqual(target.subarray(2), bytes);
  return bytes;
}

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}

/** A string field as it must be encoded: WHATWG UTF-8 (lone surrogates as U+FFFD). */
function stringField(tag: number, s: string): number[] {
  const utf8 = new TextEncoder().encode(s);
  return [tag, ...varint(utf8.length), ...utf8];
}

/** The label length L that makes a childless Tree `content` bytes: 1 (tag) + varint(L) + L. */
function labelFor(content: number): number {
  for (let k = 1; ; k++) {
    if (varint(content - 1 - k).length === k) return content - 1 - k;
  }
}

describe(`encoders${WITHOUT_BUFFER ? " without Node's Buffer" : ""}`, () => {
  it("write strings of every length and script as UTF-8", () => {
    const units = ["a", "é", "€", "😀", "\ud800", "\udc00", "a\ud800"];
    // Around the one-pass one-byte-length limit (42 units), the JavaScript
    // limit (24), the one-byte length (127 bytes) and beyond.
    const lengths = [0, 1, 2, 23, 24, 25, 41, 42, 43, 44, 63, 64, 65, 127, 128, 129, 300, 5000];
    for (const unit of units) {
      for (const n of lengths) {
        const s = unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
        const bytes = encodeBoth(Scalars, { fString: s });
        assert.deepEqual([...bytes], s === "" ? [] : stringField(74, s), `${JSON.stringify(unit)} x ${n}`);
        assert.equal(Scalars.decode(bytes).fString, new TextDecoder().decode(new TextEncoder().encode(s)));
      }
    }
  });

  it("write runs of repeated strings of every mix as UTF-8", () => {
    const ascii = (i: number, n: number): string => `${i}:`.padEnd(n, "x").slice(0, n);
    const lists: [string, string[]][] = [
      ["one entry", ["alone in its run"]],
      ["empty entries", ["", "", "a", ""]],
      ["ASCII", Array.from({ length: 40 }, (_, i) => ascii(i, 34))],
      ["127 and 128 units", [ascii(1, 127), ascii(2, 128), ascii(3, 127), ascii(4, 10)]],
      ["more than a batch", Array.from({ length: 300 }, (_, i) => ascii(i, 100))],
      // Written into only one byte more than its units, this run would stop
      // before the second euro sign after exactly as many bytes as units.
      ["wide text that fills a tight room", ["€aaaa", "€b"]],
    ];
    for (const unit of ["é", "€", "😀", "\ud800", "\udc00"]) {
      lists.push([`${JSON.stringify(unit)} in the middle`, Array.from({ length: 9 }, (_, i) => (i === 4 ? unit : ascii(i, 20)))]);
      lists.push([`${JSON.stringify(unit)} at the end`, [ascii(1, 30), ascii(2, 30), `${ascii(3, 29)}${unit}`]]);
    }
    for (const [name, rString] of lists) {
      const bytes = encodeBoth(Repeateds, { rString });
      assert.deepEqual([...bytes], rString.flatMap((s) => stringField(74, s)), name);
      const decoded = rString.map((s) => new TextDecoder().decode(new TextEncoder().encode(s)));
      assert.deepEqual(Repeateds.decode(bytes).rString, decoded, name);
    }
  });

  it("read each field once, so a message that changes while it is encoded is written as first read", () => {
    // encodeInto() used to take a size pass and then a write pass, and a
    // getter that answered the second time with more or fewer entries was
    // an error; one pass reads each field once.
    const target = new Uint8Array(4096);
    const cases: [string[], string[]][] = [
      [["aaaa", "bbbb"], ["aaaa", "bbbb", "cccc", "dddd"]],
      [["ü", "é"], ["ü", "é", "x", "y"]],
      [["ü", "é", "ö"], ["ü"]],
    ];
    for (const [before, after] of cases) {
      let reads = 0;
      const message = {
        get rString(): string[] {
          return reads++ === 0 ? before : after;
        },
      };
      const end = Repeateds.encodeInto(message, target, 0);
      assert.equal(reads, 1);
      assert.deepEqual(target.subarray(0, end), Repeateds.encode({ rString: before }));
    }
  });

  it("write embedded message lengths across varint size boundaries", () => {
    for (const content of [127, 128, 129, 16383, 16384, 16385, 2097151, 2097152]) {
      const labelLength = labelFor(content);
      const label = "x".repeat(labelLength);
      const child = { label, children: [] };
      assert.equal(Tree.encode(child).length, content, `content ${content}`);
      const bytes = encodeBoth(Tree, { label: "root", children: [child, { label: "after" }] });
      const expected = [...stringField(10, "root"), 18, ...varint(content), ...Tree.encode(child)];
      expected.push(18, 7, ...stringField(10, "after"));
      assert.deepEqual([...bytes], expected, `content ${content}`);
      assert.equal(Tree.decode(bytes).children[0]!.label.length, labelLength);
    }
  });

  it("write packed fixed-width runs with their length first, across varint size boundaries", () => {
    for (const count of [15, 16, 2047, 2048]) {
      // 8 bytes each: 120, 128, 16376 and 16384 bytes, one- to three-byte lengths.
      const values = Array.from({ length: count }, (_, i) => (i % 7 === 3 ? -0 : i / 4 - 100));
      const body = new Uint8Array(new Float64Array(values).buffer); // little-endian, as the wire
      assert.deepEqual([...encodeBoth(Repeateds, { rDouble: values })], [10, ...varint(count * 8), ...body], `${count} doubles`);
    }
    for (const count of [31, 32]) {
      const values = Array.from({ length: count }, (_, i) => i * 1.5);
      const body = new Uint8Array(new Float32Array(values).buffer);
      assert.deepEqual([...encodeBoth(Repeateds, { rFloat: values })], [18, ...varint(count * 4), ...body], `${count} floats`);
    }
    for (const count of [127, 128]) {
      const values = Array.from({ length: count }, (_, i) => i % 3 === 0);
      assert.deepEqual([...encodeBoth(Repeateds, { rBool: values })], [66, ...varint(count), ...values.map(Number)], `${count} bools`);
    }
  });

  it("grow the area under many small fields and long packed runs", () => {
    const negatives = Array.from({ length: 3000 }, (_, i) => -1 - i);
    const message: MessageInit<Repeateds> = {
      rInt32Unpacked: negatives,
      rInt32: negatives,
      rSint64: negatives.map(BigInt),
      rMoney: Array.from({ length: 500 }, (_, i) => ({ currency: "EUR", units: BigInt(-i), nanos: -i | 0 })),
      rBool: negatives.map((v) => v % 2 === 0),
    };
    const bytes = encodeBoth(Repeateds, message);
    assert.deepEqual(Repeateds.decode(bytes), Repeateds.create(message));
    // Unpacked negative int32: a two-byte tag and a ten-byte varint each.
    assert.ok(bytes.length > 3000 * 12);
  });

  it("write map entries of every shape past the area's first size", () => {
    const message: MessageInit<Maps> = {
      stringToString: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key ${i} ${"é".repeat(i % 50)}`, "v".repeat(i)])),
      int32ToInt64: Object.fromEntries(Array.from({ length: 400 }, (_, i) => [String(-i), BigInt(-i) << 40n])),
      int64ToMoney: { "-9223372036854775808": { currency: "x".repeat(200) }, "5": {} },
    };
    const bytes = encodeBoth(Maps, message);
    assert.deepEqual(Maps.decode(bytes), Maps.create(message));
  });

  it("keep unknown fields whatever their size", () => {
    for (const size of [1, 100, 10000]) {
      const unknown = Money.encode({ currency: "u".repeat(size) });
      const bytes = encodeBoth(Scalars, { fInt32: 1, $unknown: unknown });
      assert.deepEqual([...bytes], [40, 1, ...unknown]);
    }
  });

  it("encode a message from inside the encoding of another", () => {
    const inner = { currency: "EUR", units: 5n };
    const expectedInner = Money.encode(inner);
    let seen: Uint8Array | undefined;
    const outer = {
      get currency(): string {
        seen = Money.encode(inner);
        return "USD";
      },
      units: 7n,
    };
    assert.deepEqual(Money.decode(Money.encode(outer)), Money.create({ currency: "USD", units: 7n }));
    assert.deepEqual(seen, expectedInner);
    const big = Everything.encode({ tree: { label: "t".repeat(10000) } });
    assert.equal(Everything.decode(big).tree?.label.length, 10000);
  });

  it("pass again without Node's Buffer", { skip: WITHOUT_BUFFER }, () => {
    passesWithoutBuffer(import.meta.url);
  });
});
