/**
 * The conformance testee's JSON route: the canonical proto3 JSON mapping
 * as the HTTP gateway serves it. The gateway (js/src/gateway) turns JSON
 * into binary with @bufbuild/protobuf and hands the binary to shmrpc; here
 * the binary also goes through the generated codec, so a JSON test passes
 * only when the mapping is right and the generated codec keeps every field
 * the mapping produced:
 *
 *   JSON in:  JSON --bufbuild--> binary --generated codec--> message
 *   JSON out: message --generated codec--> binary --bufbuild--> JSON
 */
import { create, createFileRegistry, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import type { DescMessage, Registry } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

import type * as pb from "shmrpc/pb";

/** The registry of every message in `files` (and their imports), for JSON. */
export function jsonRegistry(files: readonly pb.FileDescriptor[]): Registry {
  const seen = new Set<string>();
  const protos = [];
  for (const file of files) {
    for (const proto of file.protos) {
      if (seen.has(proto)) continue;
      seen.add(proto);
      protos.push(fromBinary(FileDescriptorProtoSchema, base64Decode(proto)));
    }
  }
  return createFileRegistry(create(FileDescriptorSetSchema, { file: protos }));
}

/** `json` parsed by the canonical mapping into binary; throws on bad JSON. */
export function binaryFromJson(registry: Registry, schema: DescMessage, json: string, ignoreUnknownFields: boolean): Uint8Array {
  return toBinary(schema, fromJsonString(schema, json, { registry, ignoreUnknownFields }));
}

/** `binary` printed by the canonical mapping; throws what JSON cannot hold. */
export function jsonFromBinary(registry: Registry, schema: DescMessage, binary: Uint8Array): string {
  return toJsonString(schema, fromBinary(schema, binary), { registry });
}
