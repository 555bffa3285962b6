/**
 * Stock clients of the gateway's protocols, built the way a user of another
 * language or machine would build them: schemas from protoc's own
 * descriptor set (not from shmrpc's generated code), and off-the-shelf
 * Connect, gRPC-Web, gRPC (@connectrpc/connect-node, @grpc/grpc-js) and
 * curl.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescService, FileRegistry, MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import type { Client, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";

/** protoc's descriptor set of `file` (under `root`) and its imports, as a registry. */
export function protocRegistry(root: string, file: string): FileRegistry {
  const dir = mkdtempSync(join(tmpdir(), "shmrpc-gw-fds-"));
  try {
    const out = join(dir, "set.pb");
    const run = spawnSync("protoc", [`-I${root}`, "--include_imports", `--descriptor_set_out=${out}`, file]);
    if (run.status !== 0) throw new Error(`protoc: ${run.stderr?.toString() ?? run.error}`);
    return createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function serviceOf(registry: FileRegistry, name: string): DescService {
  const desc = registry.getService(name);
  if (desc === undefined) throw new Error(`${name} is not in the descriptor set`);
  return desc;
}

export type Flavour = "connect-json" | "connect-binary" | "grpc" | "grpc-web";
export const FLAVOURS: readonly Flavour[] = ["connect-json", "connect-binary", "grpc", "grpc-web"];

export function transportFor(flavour: Flavour, baseUrl: string): Transport {
  switch (flavour) {
    case "connect-json":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false });
    case "connect-binary":
      return createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true });
    case "grpc":
      return createGrpcTransport({ baseUrl });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "1.1" });
  }
}

/** A Connect client over `desc`; its methods take plain init objects. */
export function connectClient(desc: DescService, flavour: Flavour, baseUrl: string): Client<DescService> {
  return createClient(desc, transportFor(flavour, baseUrl));
}

/** @grpc/grpc-js with serializers from the descriptors: no generated code at all. */
export class GrpcJsClient {
  readonly client: grpc.Client;

  constructor(address: string, private readonly desc: DescService) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** The path and the (de)serializers grpc-js asks for, from the descriptors. */
  private method(name: string) {
    const method = this.desc.methods.find((m) => m.name === name);
    if (method === undefined) throw new Error(`no method ${name}`);
    const { input, output } = method;
    return {
      path: `/${this.desc.typeName}/${method.name}`,
      serialize: (m: unknown) => Buffer.from(toBinary(input, m as never)),
      deserialize: (b: Buffer) => fromBinary(output, b) as unknown,
      request: (init: MessageInitShape<DescMessage>) => create(input, init),
    };
  }

  unary(name: string, request: MessageInitShape<DescMessage>, options: grpc.CallOptions = {}): Promise<unknown> {
    const m = this.method(name);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.serialize, m.deserialize, m.request(request), new grpc.Metadata(), options, (error, reply) =>
        error ? reject(error) : resolve(reply),
      );
    });
  }

  serverStream(name: string, request: MessageInitShape<DescMessage>, options: grpc.CallOptions = {}): grpc.ClientReadableStream<unknown> {
    const m = this.method(name);
    return this.client.makeServerStreamRequest(m.path, m.serialize, m.deserialize, m.request(request), new grpc.Metadata(), options);
  }

  close(): void {
    this.client.close();
  }
}

export interface CurlResult {
  status: number;
  body: string;
}

/** curl, asynchronously (the server under test runs on this event loop); `stdin` for `-d @-`. */
export function curl(args: string[], stdin?: Uint8Array): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile("curl", ["-sS", "-w", "\n%{http_code}", ...args], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`curl ${args.join(" ")}: ${stderr || error.message}`));
        return;
      }
      const cut = stdout.lastIndexOf("\n");
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
    child.stdin?.end(stdin);
  });
}
