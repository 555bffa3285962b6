/**
 * String fields and string map keys through the decoder's paths: short
 * ASCII strings made in JavaScript (every byte tested), longer ones by the
 * platform, inputs small enough to stay on V8's heap, runs of repeated
 * strings read together, and map keys through the cache of keys (hits,
 * slot collisions, keys it does not take). All again without Node's
 * Buffer, where the platform's TextDecoder takes the long strings.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Everything, Maps, Repeateds, Scalars } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { isDecodeError } from "../../js/src/pb/index.js";
import { WITHOUT_BUFFER, passesWithoutBuffer } from "./helpers/without-buffer.js";

const utf8 = (text: string): number[] => [...new TextEncoder().encode(text)];

/** Varint bytes of `n`. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

/** Scalars with f_string (field 9) holding `content`. */
const stringField = (content: number[]): number[] => [0x4a, ...varint(content.length), ...content];

/** Maps with one string_to_string entry (field 1). */
const entry = (key: number[], value: number[]): number[] => {
  const body = [0x0a, ...varint(key.length), ...key, 0x12, ...varint(value.length), ...value];
  return [0x0a, ...varint(body.length), ...body];
};

/**
 * Decodes `message` twice: alone (an input of at most 64 bytes stays on V8's
 * heap and takes the JavaScript path whatever the length), and at an offset
 * in a 200-byte input (strings above 16 bytes go to the platform).
 */
function decodeBoth<T>(decode: (bytes: Uint8Array, offset?: number) => T, message: number[]): T[] {
  const padded = new Uint8Array(200 + message.length);
  padded.set(message, 200);
  return [decode(Uint8Array.from(message)), decode(padded, 200)];
}

function rejectsUtf8(decode: () => unknown): void {
  assert.throws(decode, (error: unknown) => isDecodeError(error) && error.code === "INVALID_UTF8");
}

describe("string fields", () => {
  it("ASCII of every length up to 40 decodes as written", () => {
    for (let n = 0; n <= 40; n++) {
      const text = Array.from({ length: n }, (_, i) => String.fromCharCode(0x21 + ((i * 7) % 94))).join("");
      for (const m of decodeBoth(Scalars.decode, stringField(utf8(text)))) assert.equal(m.fString, text);
    }
  });

  it("a non-ASCII character at any position of a short or long string", () => {
    for (let n = 1; n <= 40; n++) {
      for (let at = 0; at < n; at++) {
        for (const wide of ["é", "€", "😀"]) {
          const text = "a".repeat(at) + wide + "b".repeat(n - at - 1);
          for (const m of decodeBoth(Scalars.decode, stringField(utf8(text)))) assert.equal(m.fString, text);
        }
      }
    }
  });

  it("a byte that is not UTF-8 at any position is an error", () => {
    for (let n = 1; n <= 40; n++) {
      for (let at = 0; at < n; at++) {
        const content = new Array<number>(n).fill(0x61);
        content[at] = 0xff;
        for (const decode of [
          () => Scalars.decode(Uint8Array.from(stringField(content))),
          () => decodeBoth(Scalars.decode, stringField(content)),
        ]) {
          rejectsUtf8(decode);
        }
      }
    }
  });
});

describe("runs of repeated strings", () => {
  /** Repeateds with r_string (field 9) entries holding `contents`, in order. */
  const entries = (contents: number[][]): number[] => contents.flatMap(stringField);
  const texts = (n: number, length: number): string[] =>
    Array.from({ length: n }, (_, i) => `${i}:`.padEnd(length, String.fromCharCode(0x61 + (i % 26))));

  it("ASCII runs of every shape decode as written", () => {
    for (const [n, length] of [[2, 1], [2, 16], [3, 17], [40, 34], [100, 127], [5, 0]] as const) {
      const list = n === 5 && length === 0 ? ["", "", "x", "", ""] : texts(n, length);
      for (const m of decodeBoth(Repeateds.decode, entries(list.map(utf8)))) assert.deepEqual(m.rString, list);
    }
  });

  it("non-ASCII text, a long entry or another field inside a run", () => {
    const list = texts(10, 20);
    const cases: [string, string[], number[]][] = [
      ["non-ASCII", list.map((t, i) => (i === 6 ? `${t}ü` : t)), []],
      ["128 bytes", list.map((t, i) => (i === 3 ? t.repeat(7).slice(0, 128) : t)), []],
      ["first 200 bytes", list.map((t, i) => (i === 0 ? "f".repeat(200) : t)), []],
    ];
    for (const [name, expected] of cases) {
      for (const m of decodeBoth(Repeateds.decode, entries(expected.map(utf8)))) {
        assert.deepEqual(m.rString, expected, name);
      }
    }
    // r_int32 (field 18, unpacked) between two runs: the order of each field is kept.
    const split = [...entries(list.slice(0, 4).map(utf8)), 0x90, 0x01, 7, ...entries(list.slice(4).map(utf8))];
    for (const m of decodeBoth(Repeateds.decode, split)) {
      assert.deepEqual(m.rString, list);
      assert.deepEqual(m.rInt32Unpacked, [7]);
    }
  });

  it("a run stops at the end of its message, even where a same-tag field follows outside", () => {
    const list = texts(6, 20);
    const inner = entries(list.map(utf8));
    // Everything: repeateds (field 3), then an unknown field 9 of the same
    // tag byte as r_string, which belongs to Everything.
    const outside = stringField(utf8("outside of repeateds"));
    const message = [0x1a, ...varint(inner.length), ...inner, ...outside];
    for (const m of decodeBoth(Everything.decode, message)) {
      assert.deepEqual(m.repeateds?.rString, list);
      assert.deepEqual([...(m.$unknown ?? [])], outside);
    }
  });

  it("bytes that are not UTF-8 and entries past the end are errors", () => {
    const list = texts(8, 20).map(utf8);
    list[5]![3] = 0xff;
    rejectsUtf8(() => decodeBoth(Repeateds.decode, entries(list)));
    // The last entry claims 30 bytes where its message has 20 left.
    const overrun = [...entries(texts(4, 20).map(utf8)), 0x4a, 30, ...new Array<number>(20).fill(0x61)];
    assert.throws(
      () => decodeBoth(Repeateds.decode, overrun),
      (error: unknown) => isDecodeError(error) && error.code === "LENGTH_OVERRUN",
    );
  });

  it("a run in shared memory", () => {
    const list = texts(20, 30);
    const message = entries(list.map(utf8));
    const shared = new Uint8Array(new SharedArrayBuffer(message.length));
    shared.set(message);
    assert.deepEqual(Repeateds.decode(shared).rString, list);
  });
});

describe("string map keys", () => {
  it("a key decoded again is the same string, with its value", () => {
    const message = entry(utf8("label-7"), utf8("value 7"));
    const [first] = decodeBoth(Maps.decode, message);
    const [again] = decodeBoth(Maps.decode, message);
    assert.deepEqual(Object.entries(first!.stringToString), [["label-7", "value 7"]]);
    assert.deepEqual(Object.entries(again!.stringToString), [["label-7", "value 7"]]);
  });

  it("thousands of distinct keys, more than the cache has slots, stay distinct", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}-${"x".repeat(i % 20)}`);
    const message = keys.flatMap((key, i) => entry(utf8(key), utf8(String(i))));
    for (let round = 0; round < 2; round++) {
      const [m] = decodeBoth(Maps.decode, message);
      assert.equal(Object.keys(m!.stringToString).length, keys.length);
      keys.forEach((key, i) => assert.equal(m!.stringToString[key], String(i)));
    }
  });

  it("keys that differ in one byte at any position", () => {
    for (let n = 1; n <= 32; n++) {
      const base = "q".repeat(n);
      decodeBoth(Maps.decode, entry(utf8(base), utf8("base")));
      for (let at = 0; at < n; at++) {
        const key = `${base.slice(0, at)}r${base.slice(at + 1)}`;
        for (const m of decodeBoth(Maps.decode, entry(utf8(key), utf8("other")))) {
          assert.deepEqual(Object.entries(m.stringToString), [[key, "other"]]);
        }
      }
    }
  });

  it("empty, long, non-ASCII and __proto__ keys", () => {
    for (const key of ["", "y".repeat(33), "z".repeat(200), "clé", "ключ", "😀", "__proto__"]) {
      for (let round = 0; round < 2; round++) {
        for (const m of decodeBoth(Maps.decode, entry(utf8(key), utf8("v")))) {
          assert.deepEqual(Object.keys(m.stringToString), [key]);
          assert.equal(Object.getOwnPropertyDescriptor(m.stringToString, key)?.value, "v");
          assert.equal(Object.getPrototypeOf(m.stringToString), Object.prototype);
        }
      }
    }
  });

  it("a key that is not UTF-8 is an error, also after the same key in ASCII", () => {
    decodeBoth(Maps.decode, entry(utf8("abcd"), utf8("v")));
    for (const key of [[0x61, 0x62, 0x63, 0xe4], [0xff], [0xc0, 0x80], new Array(40).fill(0xff)]) {
      rejectsUtf8(() => Maps.decode(Uint8Array.from(entry(key, utf8("v")))));
      rejectsUtf8(() => decodeBoth(Maps.decode, entry(key, utf8("v"))));
    }
  });
});

describe(`string decoding${WITHOUT_BUFFER ? " without Node's Buffer" : ""}`, () => {
  it("passes again without Node's Buffer", { skip: WITHOUT_BUFFER }, () => {
    passesWithoutBuffer(import.meta.url);
  });
});
