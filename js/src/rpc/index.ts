/**
 * shmrpc/rpc: the RPC client runtime (generated clients call an RpcClient)
 * and the envelope helpers shared with tests and tools.
 */
export { RpcClient } from "./client.js";
export type { RpcClientOptions, RpcClientStats } from "./client.js";
export { RpcError, isRpcError } from "./errors.js";
export { Status, statusName } from "./status.js";
export type { StatusCode, StatusName } from "./status.js";
export { eventId } from "./ids.js";
export {
  ENVELOPE_HEADER_BYTES,
  ENVELOPE_VERSION,
  EnvelopeError,
  EnvelopeKind,
  EnvelopeOffset,
  encodeEnvelope,
  envelopeU32,
  parseEnvelope,
  writeEnvelopeHeader,
} from "./envelope.js";
export type { Envelope, EnvelopeHeader } from "./envelope.js";
export { ServerStream } from "./stream.js";
export type {
  CallOptions,
  MessageInit,
  MessageType,
  MethodDescriptor,
  MethodKind,
  RpcTransport,
  ServiceDescriptor,
} from "./types.js";
