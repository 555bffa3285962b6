/**
 * The RPC servers bench/gateway.ts compares the gateway with: Bench.Echo
 * implemented in JavaScript, without C or shmrpc, on the two stacks a Node
 * user would pick instead,
 *   - @connectrpc/connect-node (Connect, gRPC and gRPC-Web) on one port for
 *     HTTP/1.1 and HTTP/2, the same listener the gateway uses;
 *   - @grpc/grpc-js (gRPC over HTTP/2).
 * Both decode the request and encode the reply with @bufbuild/protobuf from
 * the schema protoc-gen-shmrpc embeds in the generated code, as the
 * gateway does on its way to C, so the rows differ only in where the
 * handler runs.
 */
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescService } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";

import { listenOnePort, type GatewayServer } from "../../js/src/gateway/listen.js";
import { file_rpc_bench } from "../gen/rpc_bench_pb.js";

/** bench.Bench from the generated code's embedded descriptors. */
function benchService(): DescService {
  const protos = file_rpc_bench.protos.map((proto) => fromBinary(FileDescriptorProtoSchema, base64Decode(proto)));
  const service = createFileRegistry(create(FileDescriptorSetSchema, { file: protos })).getService("bench.Bench");
  if (service === undefined) throw new Error("bench.Bench is not in the generated schema");
  return service;
}

interface Blob {
  data: Uint8Array;
}

/** Bench.Echo in JavaScript, served by connect-node on one port (HTTP/1.1 and h2c). */
export function startConnectPeer(): Promise<GatewayServer> {
  const service = benchService();
  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      router.service(service, { echo: (request: Blob) => ({ data: request.data }) } as never);
    },
  });
  return listenOnePort(handler, { port: 0 });
}

export interface GrpcJsPeer {
  readonly url: string;
  close(): Promise<void>;
}

/** Bench.Echo in JavaScript, served by @grpc/grpc-js. */
export async function startGrpcJsPeer(): Promise<GrpcJsPeer> {
  const method = benchService().methods.find((m) => m.name === "Echo")!;
  const codec = (desc: DescMessage) => ({
    serialize: (message: unknown) => Buffer.from(toBinary(desc, message as never)),
    deserialize: (bytes: Buffer) => fromBinary(desc, bytes) as unknown,
  });
  const input = codec(method.input);
  const output = codec(method.output);
  const definition: grpc.ServiceDefinition = {
    echo: {
      path: "/bench.Bench/Echo",
      requestStream: false,
      responseStream: false,
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
    },
  };
  const server = new grpc.Server();
  server.addService(definition, {
    echo: (call: grpc.ServerUnaryCall<Blob, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, create(method.output, { data: call.request.data } as never)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
