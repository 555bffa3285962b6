/**
 * The one error a generated decoder throws. `code` says what was wrong,
 * `offset` where in the input it was noticed.
 */
export type DecodeErrorCode =
  /** The input ends inside a field. */
  | "TRUNCATED"
  /** A varint longer than 10 bytes. */
  | "VARINT_TOO_LONG"
  /** Field number 0, or an end-group tag without its start. */
  | "INVALID_TAG"
  /** Wire type 6 or 7, which protobuf does not define. */
  | "INVALID_WIRE_TYPE"
  /** A known field arrived with a wire type its declared type cannot have. */
  | "WRONG_WIRE_TYPE"
  /** A length-delimited field ran past the end of its message. */
  | "LENGTH_OVERRUN"
  /** Messages or groups nested deeper than the reader's limit. */
  | "DEPTH_LIMIT"
  /** A string field that is not valid UTF-8. */
  | "INVALID_UTF8"
  /** A proto2 required field is absent. */
  | "MISSING_REQUIRED";

export class DecodeError extends Error {
  override readonly name = "DecodeError";
  readonly code: DecodeErrorCode;
  /** Byte offset in the input where the problem was detected. */
  readonly offset: number;

  constructor(code: DecodeErrorCode, message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}

export function isDecodeError(value: unknown): value is DecodeError {
  return value instanceof DecodeError;
}

/**
 * A value encode() (or encodedSize/encodeInto) cannot write because its
 * JavaScript type is not the field's: a string for a bytes field, "5" for a
 * number, an enum name that does not exist, a required field left out.
 * `field` names the field as in the schema: "pkg.Message.field".
 */
export class FieldTypeError extends TypeError {
  override readonly name = "FieldTypeError";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/**
 * A value of the right JavaScript type that the field cannot hold: 2**40,
 * -1 or 1.5 for a uint32, NaN for an integer. `field` as in FieldTypeError.
 */
export class FieldRangeError extends RangeError {
  override readonly name = "FieldRangeError";
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

/** What generated encoders throw for a proto2 required field that is unset. */
export function missingField(field: string): FieldTypeError {
  return new FieldTypeError(field, "required field is missing");
}

/** A short description of a value for an error message. */
function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case "bigint":
      return `bigint ${value}n`;
    case "number":
    case "boolean":
      return `${typeof value} ${String(value)}`;
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return "an array";
      if (value instanceof Uint8Array) return "a Uint8Array";
      return "an object";
    default:
      return typeof value;
  }
}

/** The JavaScript type each kind of field takes, for errors. */
function jsType(kind: string): string {
  if (kind.startsWith("enum ")) return "number";
  if (kind.startsWith("message ")) return "object";
  switch (kind) {
    case "int64": case "uint64": case "sint64": case "fixed64": case "sfixed64":
      return "bigint";
    case "bool":
      return "boolean";
    case "string":
      return "string";
    case "bytes":
      return "Uint8Array";
    case "repeated":
      return "array";
    case "map":
      return "object";
    case "oneof":
      return "oneof case";
    default:
      return "number";
  }
}

function hasJsType(value: unknown, type: string): boolean {
  switch (type) {
    case "Uint8Array":
      return value instanceof Uint8Array;
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null;
    default:
      return typeof value === type;
  }
}

/**
 * The error generated encoders throw for a value that `field`
 * ("pkg.Message.field") cannot hold as `kind` (its protobuf type, "enum
 * pkg.E", "message pkg.M", "repeated", "map" or "oneof"): a FieldRangeError
 * when the JavaScript type is right but the value is not (1.5, -1 or 2**40
 * for a uint32, NaN for an integer, 2n**64n for a uint64), else a
 * FieldTypeError.
 */
export function invalidValue(field: string, kind: string, value: unknown): FieldTypeError | FieldRangeError {
  const type = jsType(kind);
  if (kind === "oneof") {
    return new FieldTypeError(field, `unknown oneof case ${describe(value)}`);
  }
  if (hasJsType(value, type)) {
    return new FieldRangeError(field, `${describe(value)} is out of range for ${kind}`);
  }
  let hint = "";
  if (kind.startsWith("enum ") && typeof value === "string") {
    hint = `: enum fields hold numbers (${kind.slice(5)}.${value} if that value exists)`;
  }
  return new FieldTypeError(field, `expected a ${type} (${kind}), got ${describe(value)}${hint}`);
}
