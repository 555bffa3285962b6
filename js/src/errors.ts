/**
 * The one error type of the shmrpc runtime. Its `code` uses the names of
 * docs/PROTOCOL.md section 6, shared with the C library (SHMRPC_E*).
 * Programming mistakes (an argument of the wrong type) are TypeErrors
 * instead, thrown synchronously.
 */

/** C value of every code, as in c/include/shmrpc/common.h. */
export const errorCodeValues = {
  EINVAL: -1,
  EAGAIN: -2,
  ETIMEDOUT: -3,
  ECLOSED: -4,
  EPROTO: -5,
  EMSGSIZE: -6,
  ENOMEM: -7,
  EVERSION: -8,
  /** The peer died without closing (its state was marked DEAD). */
  EPEERDEAD: -9,
  ENOSERVER: -10,
  EACCES: -11,
  EINUSE: -12,
  ESYSTEM: -13,
} as const;

export type ShmrpcErrorCode = keyof typeof errorCodeValues;

export class ShmrpcError extends Error {
  override readonly name = "ShmrpcError";
  readonly code: ShmrpcErrorCode;

  constructor(code: ShmrpcErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** True when `error` is a ShmrpcError, and has `code` if one is given. */
export function isShmrpcError(error: unknown, code?: ShmrpcErrorCode): error is ShmrpcError {
  return error instanceof ShmrpcError && (code === undefined || error.code === code);
}
