/**
 * The contract between generated TypeScript (protoc-gen-shmrpc) and the
 * runtime: message codecs, method descriptors, and the transport a generated
 * client calls.
 */
import type { FileDescriptor } from "../pb/file-descriptor.js";

/** A message value being built: every field optional, nested messages too. */
export type MessageInit<T> = {
  [K in keyof T]?: FieldInit<T[K]>;
};

/**
 * One field of a MessageInit. Distributes over unions, so optional message
 * fields (`M | undefined`) and oneof members are partial too, and
 * `Uint8Array` elements of repeated bytes stay `Uint8Array`.
 */
export type FieldInit<F> = F extends Uint8Array | bigint | string | number | boolean | undefined
  ? F
  : F extends ReadonlyArray<infer E>
    ? ReadonlyArray<FieldInit<E>>
    : F extends object
      ? MessageInit<F>
      : F;

/** Static codec of one generated message type. */
export interface MessageType<T> {
  /** Fully qualified protobuf name, e.g. "greeter.HelloRequest". */
  readonly typeName: string;
  /** A message with every field at its default, overlaid with `init`. */
  create(init?: MessageInit<T>): T;
  /** Exact number of bytes encodeInto() will write for `message`. */
  encodedSize(message: MessageInit<T>): number;
  /** Writes `message` at `offset`, returns the offset after the last byte. */
  encodeInto(message: MessageInit<T>, target: Uint8Array, offset: number): number;
  encode(message: MessageInit<T>): Uint8Array;
  /**
   * Decodes `bytes` from `offset` (default 0) to the end; throws a
   * DecodeError on malformed input, a RangeError on an offset outside it.
   * Bytes fields of the result may be views of `bytes` (as in protobufjs
   * and @bufbuild/protobuf): copy one before changing either.
   */
  decode(bytes: Uint8Array, offset?: number): T;
}

export type MethodKind = "unary" | "server_streaming";

export interface MethodDescriptor<Req, Res> {
  /** "package.Service/Method" */
  readonly path: string;
  /** Stable id, see docs/PROTOCOL.md "Method ids". */
  readonly id: number;
  /** Hash of the request and response schemas; a mismatch fails the call. */
  readonly schemaHash: number;
  readonly kind: MethodKind;
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
