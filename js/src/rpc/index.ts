/**
 * shmrpc/rpc: the RPC client runtime (generated clients call an RpcClient).
 * The envelope's wire helpers are in shmrpc/internal.
 */
export { RpcClient } from "./client.js";
export type { RpcClientOptions, RpcClientStats } from "./client.js";
export { RpcError, isRpcError } from "./errors.js";
export { Status, statusName } from "./status.js";
export type { StatusCode, StatusName } from "./status.js";
export { eventId } from "./ids.js";
export { ServerStream } from "./stream.js";
export type {
  CallOptions,
  MessageInit,
  MessageType,
  MethodDescriptor,
  MethodKind,
  RequestSource,
  RpcTransport,
  ServiceDescriptor,
} from "./types.js";
