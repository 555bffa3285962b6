/**
 * A copy of a method descriptor whose request and response are the
 * message's protobuf bytes: the gateway already holds the message as
 * bytes (Connect's JSON or binary body, converted by @bufbuild/protobuf),
 * so the shmrpc call copies them into the ring as they are instead of
 * decoding them into generated objects and encoding them again.
 */
import type { MessageType, MethodDescriptor } from "../rpc/types.js";

function rawType(typeName: string): MessageType<Uint8Array> {
  return {
    typeName,
    create: () => new Uint8Array(0),
    encodedSize: (bytes) => (bytes as Uint8Array).length,
    encodeInto: (bytes, target, offset) => {
      target.set(bytes as Uint8Array, offset);
      return offset + (bytes as Uint8Array).length;
    },
    encode: (bytes) => bytes as Uint8Array,
    // The reply may be a view of the ring: copy it out.
    decode: (bytes, offset = 0) => bytes.slice(offset),
  };
}

/** The same path, id, schema hash and kind, with byte codecs. */
export function rawMethod(method: MethodDescriptor<unknown, unknown>): MethodDescriptor<Uint8Array, Uint8Array> {
  return {
    path: method.path,
    id: method.id,
    schemaHash: method.schemaHash,
    kind: method.kind,
    requestType: rawType(method.requestType.typeName),
    responseType: rawType(method.responseType.typeName),
  };
}
