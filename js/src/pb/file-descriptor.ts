/**
 * The schema of one .proto file as generated code embeds it (`file_<name>`
 * in every `<name>_pb.ts`), for reflection-based tools such as the HTTP
 * gateway (shmrpc/gateway). The codecs do not use it.
 */
export interface FileDescriptor {
  /** The file's name as protoc saw it, e.g. "shop/order.proto". */
  readonly name: string;
  /**
   * google.protobuf.FileDescriptorProto messages in binary, base64: every
   * file this one imports (directly or not), each after its own imports,
   * then this file last. Source info (comments) is left out.
   */
  readonly protos: readonly string[];
}
