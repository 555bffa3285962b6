/**
 * Seeded random messages in the shape generated TypeScript uses (json
 * names, bigint for 64-bit, string map keys, { case, value } oneofs), built
 * by walking descriptors, so they cover every field of any message type.
 */
import { ScalarType } from "@bufbuild/protobuf";
import type { DescEnum, DescField, DescMessage } from "@bufbuild/protobuf";

/** mulberry32: small, fast, good enough to pick test values. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  uint32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
}

export interface RandomOptions {
  /** Deepest message nesting to produce. */
  maxDepth: number;
  /** Leave out U+0000: nanopb strings are NUL-terminated. */
  noNul: boolean;
}

const INT32_EDGES = [0, 1, -1, 127, 128, -128, 2147483647, -2147483648];
const UINT32_EDGES = [0, 1, 127, 128, 16383, 16384, 4294967295];
const INT64_EDGES = [0n, 1n, -1n, 9223372036854775807n, -9223372036854775808n, 4294967296n, -4294967297n];
const UINT64_EDGES = [0n, 1n, 18446744073709551615n, 4294967295n, 4294967296n, 9007199254740993n];
const DOUBLE_EDGES = [0, -0, 1.5, -1e-300, 1.7976931348623157e308, Infinity, -Infinity, NaN];

function randomString(rng: Rng, opts: RandomOptions): string {
  // Plain ASCII often, as most text is: runs of it take their own paths.
  if (rng.chance(0.4)) {
    const length = rng.int(48);
    let ascii = "";
    for (let i = 0; i < length; i++) ascii += String.fromCharCode(0x20 + rng.int(0x5f));
    return ascii;
  }
  const length = rng.chance(0.1) ? 64 + rng.int(200) : rng.int(12);
  let s = "";
  for (let i = 0; i < length; i++) {
    const kind = rng.int(10);
    let cp: number;
    if (kind < 6) cp = 0x20 + rng.int(0x5f);
    else if (kind < 8) cp = 0x80 + rng.int(0x780);
    else if (kind < 9) cp = 0x800 + rng.int(0xd000 - 0x800);
    else cp = 0x10000 + rng.int(0x100000);
    if (!opts.noNul && rng.chance(0.01)) cp = 0;
    s += String.fromCodePoint(cp);
  }
  return s;
}

function randomBigint(rng: Rng, signed: boolean): bigint {
  if (rng.chance(0.3)) return rng.pick(signed ? INT64_EDGES : UINT64_EDGES);
  const u = (BigInt(rng.uint32()) << 32n) | BigInt(rng.uint32());
  const shifted = u >> BigInt(rng.int(64));
  return signed ? BigInt.asIntN(64, rng.chance(0.5) ? shifted : -shifted) : shifted;
}

export function randomScalar(rng: Rng, type: ScalarType, opts: RandomOptions): unknown {
  switch (type) {
    case ScalarType.DOUBLE:
      return rng.chance(0.3) ? rng.pick(DOUBLE_EDGES) : (rng.next() - 0.5) * 10 ** rng.int(30);
    case ScalarType.FLOAT:
      return Math.fround(rng.chance(0.3) ? rng.pick(DOUBLE_EDGES) : (rng.next() - 0.5) * 10 ** rng.int(10));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return rng.chance(0.3) ? rng.pick(INT32_EDGES) : rng.uint32() | 0;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return rng.chance(0.3) ? rng.pick(UINT32_EDGES) : rng.uint32() >>> rng.int(32);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return randomBigint(rng, true);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return randomBigint(rng, false);
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.STRING:
      return randomString(rng, opts);
    case ScalarType.BYTES: {
      const bytes = new Uint8Array(rng.chance(0.1) ? 100 + rng.int(300) : rng.int(10));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
      return bytes;
    }
  }
}

function randomEnum(rng: Rng, desc: DescEnum): number {
  if (!rng.chance(0.1)) return rng.pick(desc.values).number;
  // Open enums: now and then a number the schema does not name; negative
  // only where the enum has negative values (nanopb reads the others as
  // unsigned and rejects a negative number).
  const signed = desc.values.some((v) => v.number < 0);
  return signed ? rng.int(1000) - 500 : rng.int(1000);
}

/** A map key as generated code holds it: the key's string form. */
function randomKey(rng: Rng, type: ScalarType, opts: RandomOptions): string {
  const key = randomScalar(rng, type, opts);
  return typeof key === "boolean" ? (key ? "true" : "false") : String(key);
}

function randomValue(rng: Rng, field: DescField, depth: number, opts: RandomOptions): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return randomScalar(rng, field.scalar, opts);
    case "enum":
      return randomEnum(rng, field.enum);
    case "message":
      return randomMessage(rng, field.message, depth + 1, opts);
    case "list": {
      const n = rng.chance(0.3) ? 0 : rng.int(depth + 1 < opts.maxDepth ? 5 : 1) + 1;
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        if (field.listKind === "scalar") items.push(randomScalar(rng, field.scalar, opts));
        else if (field.listKind === "enum") items.push(randomEnum(rng, field.enum));
        else if (depth + 1 < opts.maxDepth) items.push(randomMessage(rng, field.message, depth + 1, opts));
      }
      return items;
    }
    case "map": {
      const map: { [key: string]: unknown } = {};
      for (let n = rng.int(4); n > 0; n--) {
        const key = randomKey(rng, field.mapKey, opts);
        if (field.mapKind === "scalar") map[key] = randomScalar(rng, field.scalar, opts);
        else if (field.mapKind === "enum") map[key] = randomEnum(rng, field.enum);
        else map[key] = randomMessage(rng, field.message, depth + 1, opts);
      }
      return map;
    }
  }
}

/** A random init object for `desc`; fields are left out at random. */
export function randomMessage(
  rng: Rng,
  desc: DescMessage,
  depth: number,
  opts: RandomOptions,
): { [key: string]: unknown } {
  const m: { [key: string]: unknown } = {};
  if (depth >= opts.maxDepth) return m;
  for (const field of desc.fields) {
    if (field.oneof !== undefined || rng.chance(0.3)) continue;
    if (field.fieldKind === "message" && depth + 1 >= opts.maxDepth) continue;
    m[field.jsonName] = randomValue(rng, field, depth, opts);
  }
  for (const oneof of desc.oneofs) {
    if (rng.chance(0.3)) continue;
    const member = rng.pick(oneof.fields);
    if (member.fieldKind === "message" && depth + 1 >= opts.maxDepth) continue;
    m[oneof.localName] = { case: member.jsonName, value: randomValue(rng, member, depth, opts) };
  }
  return m;
}
