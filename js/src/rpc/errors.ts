/**
 * The error every failed call rejects with: the status code the server
 * sent (or the client decided, e.g. DEADLINE_EXCEEDED), its name, the
 * server's status message and the method.
 */
import { statusName, type StatusName } from "./status.js";

export class RpcError extends Error {
  override readonly name = "RpcError";
  /** The numeric status (Status.*). */
  readonly code: number;
  /** The status name, e.g. "DEADLINE_EXCEEDED". */
  readonly codeName: StatusName;
  /** "package.Service/Method", or the event name for event errors. */
  readonly method: string;
  /** The status message alone (what the handler set, or the runtime's reason). */
  readonly statusMessage: string;

  constructor(code: number, statusMessage: string, method: string, options?: { cause?: unknown }) {
    const codeName = statusName(code);
    super(`${method}: ${codeName}${statusMessage && statusMessage !== codeName ? `: ${statusMessage}` : ""}`, options);
    this.code = code;
    this.codeName = codeName;
    this.method = method;
    this.statusMessage = statusMessage;
  }
}

/** True when `error` is an RpcError, and has `code` if one is given. */
export function isRpcError(error: unknown, code?: number): error is RpcError {
  return error instanceof RpcError && (code === undefined || error.code === code);
}
