/**
 * Errors of calls through the gateway as Connect sees them. shmrpc's status
 * codes are gRPC's, and so are Connect's: the code passes through
 * unchanged, and Connect writes it in each protocol's form (an HTTP status
 * and a JSON error for Connect, grpc-status trailers for gRPC and gRPC-Web).
 */
import { Code, ConnectError } from "@connectrpc/connect";

import { isRpcError } from "../rpc/errors.js";

/**
 * The error to answer a failed call with. When the HTTP side ended the call
 * first (the client's deadline passed, it disconnected, the server shuts
 * down), the shmrpc call failed only because of that: Connect's reason is
 * the truth, e.g. DEADLINE_EXCEEDED rather than the CANCELLED that the
 * abort produced.
 */
export function connectErrorOf(error: unknown, signal: AbortSignal): ConnectError {
  if (signal.aborted && signal.reason instanceof ConnectError) return signal.reason;
  if (error instanceof ConnectError) return error;
  if (isRpcError(error)) {
    return new ConnectError(error.statusMessage || error.codeName, error.code as Code, undefined, undefined, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ConnectError(message, Code.Internal, undefined, undefined, error);
}

/** The call cannot start: no C service to send it to. */
export function unavailable(service: string): ConnectError {
  return new ConnectError(`${service}: the service is not connected`, Code.Unavailable);
}
