/**
 * The contract between generated TypeScript (protoc-gen-shmrpc) and the RPC
 * runtime: method and service descriptors, and the transport a generated
 * client calls. The message codecs' own types are the codec's
 * (pb/message-type.ts).
 */
import type { FileDescriptor } from "../pb/file-descriptor.js";
import type { MessageInit, MessageType } from "../pb/message-type.js";

export type { FieldInit, MessageInit, MessageType } from "../pb/message-type.js";

export type MethodKind = "unary" | "server_streaming";

export interface MethodDescriptor<Req, Res> {
  /** "package.Service/Method" */
  readonly path: string;
  /** Stable id, see docs/PROTOCOL.md "Method ids". */
  readonly id: number;
  /** Hash of the request and response schemas; a mismatch fails the call. */
  readonly schemaHash: number;
  readonly kind: MethodKind;
  /**
   * The request's codec. A generated one (a MessageCodec) is written
   * through its $size and $write passes, so the size is computed once per
   * call; any other MessageType through encodedSize and encodeInto.
   */
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
}

export interface ServiceDescriptor {
  /** "package.Service" */
  readonly name: string;
  /** Hash over every method's path and schema hash, as a 16-digit hex string. */
  readonly fingerprint: string;
  /** The schema of the .proto file declaring the service (generated code sets it). */
  readonly file?: FileDescriptor;
  readonly methods: Readonly<Record<string, MethodDescriptor<unknown, unknown>>>;
}

export interface CallOptions {
  /** Deadline relative to the call start; reaches the handler. */
  timeoutMs?: number;
  /** Aborting cancels the call on both sides. */
  signal?: AbortSignal;
}

/** What a generated client needs from the RPC runtime. */
export interface RpcTransport {
  unary<Req, Res>(
    method: MethodDescriptor<Req, Res>,
    request: MessageInit<Req>,
    options?: CallOptions,
  ): Promise<Res>;
  serverStreaming<Req, Res>(
    method: MethodDescriptor<Req, Res>,
    request: MessageInit<Req>,
    options?: CallOptions,
  ): AsyncIterable<Res>;
}
