/**
 * String fields and string map keys through the decoder's paths: short
 * ASCII strings made in JavaScript (every byte tested), longer ones by the
 * platform, inputs small enough to stay on V8's heap, and map keys through
 * the cache of keys (hits, slot collisions, keys it does not take).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Maps, Scalars } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { isDecodeError } from "../../js/src/pb/index.js";

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
