/**
 * From a generated service descriptor to the @bufbuild/protobuf descriptors
 * Connect routes with: the schema embedded in the generated code
 * (ServiceDescriptor.file) is loaded into a registry once per file, and
 * every method is checked against the shmrpc descriptor, so the HTTP
 * routes and the calls into C can never disagree about a type.
 */
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescMethod, DescService, FileRegistry } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

import type { FileDescriptor } from "../pb/file-descriptor.js";
import type { MethodDescriptor, ServiceDescriptor } from "../rpc/types.js";

/** One method as the gateway serves it: both descriptors of it. */
export interface MethodSchema {
  readonly desc: DescMethod;
  readonly method: MethodDescriptor<unknown, unknown>;
}

const registries = new WeakMap<FileDescriptor, FileRegistry>();

function registryOf(file: FileDescriptor): FileRegistry {
  let registry = registries.get(file);
  if (registry === undefined) {
    const protos = file.protos.map((proto) => fromBinary(FileDescriptorProtoSchema, base64Decode(proto)));
    registry = createFileRegistry(create(FileDescriptorSetSchema, { file: protos }));
    registries.set(file, registry);
  }
  return registry;
}

/**
 * The Connect descriptor of `service` and its methods, paired with the
 * shmrpc descriptors. Throws a TypeError when the generated code has no
 * schema (generated before it was embedded) or does not match it.
 */
export function serviceSchema(service: ServiceDescriptor): { desc: DescService; methods: MethodSchema[] } {
  if (service === null || typeof service !== "object" || typeof service.methods !== "object") {
    throw new TypeError("createGateway: service must be a generated ServiceDescriptor");
  }
  if (service.file === undefined) {
    throw new TypeError(`createGateway: ${service.name} carries no schema (file): regenerate its code with protoc-gen-shmrpc`);
  }
  const desc = registryOf(service.file).getService(service.name);
  if (desc === undefined) {
    throw new TypeError(`createGateway: ${service.name} is not in its schema ${service.file.name}`);
  }
  const methods: MethodSchema[] = [];
  for (const method of Object.values(service.methods)) {
    const found = desc.methods.find((m) => `${desc.typeName}/${m.name}` === method.path);
    if (
      found === undefined ||
      found.input.typeName !== method.requestType.typeName ||
      found.output.typeName !== method.responseType.typeName ||
      found.methodKind !== method.kind
    ) {
      throw new TypeError(`createGateway: ${method.path} does not match its schema ${service.file.name}`);
    }
    methods.push({ desc: found, method });
  }
  return { desc, methods };
}
