/**
 * The codec runtime: readers, writers and the message codec types. It knows
 * nothing of RPC or channels (scripts/check-layers.mjs keeps it so); what
 * generated code imports as `shmrpc/pb` adds the RPC descriptors on top
 * (../codegen-runtime.ts).
 */
export {
  DecodeError, FieldRangeError, FieldTypeError, invalidValue, isDecodeError, missingField,
} from "./errors.js";
export type { DecodeErrorCode } from "./errors.js";
export { Reader, DEFAULT_READER_OPTIONS } from "./reader.js";
export type { ReaderOptions } from "./reader.js";
export { Writer } from "./writer.js";
export { encode, encodeInto, encodedSize } from "./encode.js";
export { utf8Length, utf8Read, utf8Write } from "./utf8.js";
export { EMPTY_BYTES, indexedMap, keyToBigInt, setEntry } from "./codec.js";
export type { MessageCodec } from "./codec.js";
export type { FileDescriptor } from "./file-descriptor.js";
export type { FieldInit, MessageInit, MessageType } from "./message-type.js";
