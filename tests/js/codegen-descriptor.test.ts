/**
 * The file descriptors that generated code embeds (`file_<name>`): each
 * entry is protoc's own FileDescriptorProto of that file, imports come
 * before the files that import them, and service descriptors point at
 * their file. Compared with protoc's --descriptor_set_out of the same
 * schema, through @bufbuild/protobuf (not through our own code).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { create, createFileRegistry, equals, fromBinary } from "@bufbuild/protobuf";
import type { DescMethod } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";

import { file_google_protobuf_timestamp } from "../codegen/golden/ts/google/protobuf/timestamp_pb.js";
import { file_shmrpc_test_common } from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import { file_shmrpc_test_everything } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { Echo, file_shmrpc_test_service } from "../codegen/golden/ts/shmrpc/test/service_pb.js";
import type { FileDescriptor } from "../../js/src/pb/index.js";
import { descriptorSetBytes } from "../codegen/support/schema.js";

const fromProtoc = new Map<string, FileDescriptorProto>(
  fromBinary(FileDescriptorSetSchema, descriptorSetBytes()).file.map((f) => [f.name, f]),
);

function decoded(file: FileDescriptor): FileDescriptorProto[] {
  return file.protos.map((proto) => fromBinary(FileDescriptorProtoSchema, base64Decode(proto)));
}

const generated = [
  file_google_protobuf_timestamp,
  file_shmrpc_test_common,
  file_shmrpc_test_everything,
  file_shmrpc_test_service,
];

describe("embedded file descriptors", () => {
  it("hold protoc's FileDescriptorProto of every file", () => {
    for (const file of generated) {
      for (const proto of decoded(file)) {
        const want = fromProtoc.get(proto.name);
        assert.ok(want, `${proto.name} is not in protoc's set`);
        assert.ok(equals(FileDescriptorProtoSchema, proto, want), `${proto.name} differs from protoc's`);
        assert.equal(proto.sourceCodeInfo, undefined);
      }
    }
  });

  it("list every import, transitively, before the files importing it, and the file last", () => {
    for (const file of generated) {
      const names = decoded(file).map((p) => p.name);
      assert.equal(names.at(-1), file.name);
      const seen = new Set<string>();
      const visit = (name: string): void => {
        if (seen.has(name)) return;
        seen.add(name);
        for (const dep of fromProtoc.get(name)?.dependency ?? []) visit(dep);
      };
      visit(file.name);
      assert.deepEqual(new Set(names), seen, file.name);
      for (const [i, proto] of decoded(file).entries()) {
        for (const dep of proto.dependency) assert.ok(names.indexOf(dep) < i, `${dep} after ${proto.name}`);
      }
    }
    assert.deepEqual(decoded(file_google_protobuf_timestamp).map((p) => p.name), ["google/protobuf/timestamp.proto"]);
  });

  it("build a registry in which the service's methods match the shmrpc descriptor", () => {
    assert.equal(Echo.file, file_shmrpc_test_service);
    const files = createFileRegistry(create(FileDescriptorSetSchema, { file: decoded(file_shmrpc_test_service) }));
    const service = files.getService(Echo.name);
    assert.ok(service);
    const paths = service.methods.map((m) => `${service.typeName}/${m.name}`).sort();
    assert.deepEqual(paths, Object.values(Echo.methods).map((m) => m.path).sort());
    for (const method of Object.values(Echo.methods)) {
      const desc: DescMethod | undefined = service.methods.find((m) => `${service.typeName}/${m.name}` === method.path);
      assert.equal(desc?.input.typeName, method.requestType.typeName);
      assert.equal(desc?.output.typeName, method.responseType.typeName);
      assert.equal(desc?.methodKind, method.kind === "unary" ? "unary" : "server_streaming");
    }
  });
});
