/**
 * Projects messages from three implementations (ours, @bufbuild/protobuf,
 * protobufjs) onto one canonical plain form, guided by descriptors, so that
 * they can be compared field by field with assert.deepStrictEqual:
 * every field present with its value or default, bytes as hex, 64-bit
 * integers as bigint, map keys as strings, oneofs as { case, value }.
 */
import { ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import protobuf from "protobufjs";

export type Canonical = { [key: string]: unknown };
type Plain = { [key: string]: unknown };

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

function isLongish(type: ScalarType): boolean {
  return (
    type === ScalarType.INT64 ||
    type === ScalarType.UINT64 ||
    type === ScalarType.SINT64 ||
    type === ScalarType.FIXED64 ||
    type === ScalarType.SFIXED64
  );
}

function isUnsigned(type: ScalarType): boolean {
  return type === ScalarType.UINT64 || type === ScalarType.FIXED64;
}

function scalarDefault(type: ScalarType): unknown {
  if (isLongish(type)) return 0n;
  if (type === ScalarType.BOOL) return false;
  if (type === ScalarType.STRING) return "";
  if (type === ScalarType.BYTES) return "";
  return 0;
}

/** How one implementation spells its values. */
interface Dialect {
  /** Property holding a field (or oneof) in this implementation's objects. */
  name(field: { localName: string; jsonName?: string }): string;
  scalar(type: ScalarType, value: unknown): unknown;
  mapKey(type: ScalarType, key: string): string;
  /** The set member of a oneof, or undefined. */
  oneof(message: Plain, oneof: DescMessage["oneofs"][number]): { member: DescField; value: unknown } | undefined;
}

function canonicalScalar(type: ScalarType, value: unknown): unknown {
  if (value instanceof Uint8Array) return hex(value);
  if (isLongish(type)) return BigInt(value as bigint | string | number);
  return value;
}

function project(d: Dialect, desc: DescMessage, message: Plain | undefined | null): Canonical | undefined {
  if (message === undefined || message === null) return undefined;
  const out: Canonical = {};
  for (const field of desc.fields) {
    if (field.oneof !== undefined) continue;
    const raw = message[d.name(field)];
    out[field.jsonName] = projectField(d, field, raw);
  }
  for (const oneof of desc.oneofs) {
    const set = d.oneof(message, oneof);
    out[oneof.localName] =
      set === undefined
        ? { case: undefined }
        : { case: set.member.jsonName, value: projectValue(d, set.member, set.value) };
  }
  return out;
}

function projectValue(d: Dialect, field: DescField, raw: unknown): unknown {
  switch (field.fieldKind) {
    case "scalar":
      return canonicalScalar(field.scalar, d.scalar(field.scalar, raw));
    case "enum":
      return raw;
    case "message":
      return project(d, field.message, raw as Plain);
    default:
      throw new Error(`unexpected ${field.fieldKind}`);
  }
}

function projectField(d: Dialect, field: DescField, raw: unknown): unknown {
  const explicit = field.proto.proto3Optional === true || field.fieldKind === "message";
  switch (field.fieldKind) {
    case "list": {
      const items = (raw ?? []) as unknown[];
      return items.map((item) =>
        field.listKind === "scalar"
          ? canonicalScalar(field.scalar, d.scalar(field.scalar, item))
          : field.listKind === "enum"
            ? item
            : project(d, field.message, item as Plain),
      );
    }
    case "map": {
      const out: Canonical = {};
      const entries = (raw ?? {}) as Plain;
      for (const key of Object.keys(entries)) {
        const value = entries[key];
        out[d.mapKey(field.mapKey, key)] =
          field.mapKind === "scalar"
            ? canonicalScalar(field.scalar, d.scalar(field.scalar, value))
            : field.mapKind === "enum"
              ? value
              : project(d, field.message, value as Plain);
      }
      return out;
    }
    default:
      if (raw === undefined || raw === null) {
        if (explicit) return undefined;
        if (field.fieldKind === "enum") return 0;
        return scalarDefault(field.scalar!);
      }
      return projectValue(d, field, raw);
  }
}

// ---- dialects ---------------------------------------------------------------

/** Generated TypeScript and @bufbuild/protobuf share a shape. */
const ourDialect: Dialect = {
  name: (f) => f.jsonName ?? f.localName,
  scalar: (_type, value) => value,
  mapKey: (_type, key) => key,
  oneof(message, oneof) {
    const v = message[oneof.localName] as { case?: string; value?: unknown } | undefined;
    if (v === undefined || v.case === undefined) return undefined;
    const member = oneof.fields.find((f) => f.jsonName === v.case || f.localName === v.case);
    if (member === undefined) throw new Error(`oneof ${oneof.name} has no member ${v.case}`);
    return { member, value: v.value };
  },
};

const bufDialect: Dialect = { ...ourDialect, name: (f) => f.localName };

/** protobufjs `toObject(m, PROTOBUFJS_OBJECT)` output. */
export const PROTOBUFJS_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

const pbjsDialect: Dialect = {
  name: (f) => f.jsonName ?? f.localName,
  scalar: (_type, value) => (value instanceof Uint8Array ? new Uint8Array(value) : value),
  mapKey(type, key) {
    // protobufjs keys 64-bit maps by an 8-character hash of the value.
    if (isLongish(type) && key.length === 8 && !/^-?\d+$/.test(key)) {
      return protobuf.util.LongBits.fromHash(key).toLong(isUnsigned(type)).toString();
    }
    return key;
  },
  oneof(message, oneof) {
    const name = message[oneof.localName];
    if (typeof name !== "string") return undefined;
    const member = oneof.fields.find((f) => f.jsonName === name);
    if (member === undefined) throw new Error(`oneof ${oneof.name} has no member ${name}`);
    return { member, value: message[name] };
  },
};

export function fromOurs(desc: DescMessage, message: object): Canonical {
  return project(ourDialect, desc, message as Plain)!;
}

export function fromBufbuild(desc: DescMessage, message: object): Canonical {
  return project(bufDialect, desc, message as Plain)!;
}

export function fromProtobufjs(desc: DescMessage, object: object): Canonical {
  return project(pbjsDialect, desc, object as Plain)!;
}

/**
 * Our message (or init) as a protobufjs `fromObject` input: bigint becomes a
 * decimal string, everything else keeps its shape but oneofs, which
 * protobufjs spells as the member's own property.
 */
export function toProtobufjsObject(desc: DescMessage, message: Plain): Plain {
  const out: Plain = {};
  const convert = (field: DescField, value: unknown): unknown => {
    if (typeof value === "bigint") return value.toString();
    if (field.fieldKind === "message" && value !== undefined) return toProtobufjsObject(field.message, value as Plain);
    return value;
  };
  for (const field of desc.fields) {
    if (field.oneof !== undefined) continue;
    const value = message[field.jsonName];
    if (value === undefined) continue;
    if (field.fieldKind === "list") {
      out[field.jsonName] = (value as unknown[]).map((item) =>
        field.listKind === "message" ? toProtobufjsObject(field.message, item as Plain) : convert(field, item),
      );
    } else if (field.fieldKind === "map") {
      const map: Plain = {};
      for (const [key, item] of Object.entries(value as Plain)) {
        map[key] = field.mapKind === "message" ? toProtobufjsObject(field.message, item as Plain) : convert(field, item);
      }
      out[field.jsonName] = map;
    } else {
      out[field.jsonName] = convert(field, value);
    }
  }
  for (const oneof of desc.oneofs) {
    const set = ourDialect.oneof(message, oneof);
    if (set !== undefined) out[set.member.jsonName] = convert(set.member, set.value);
  }
  return out;
}
