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
  | "INVALID_UTF8";

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
