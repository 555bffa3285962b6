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
