/**
 * The HTTP load of bench/gateway.ts, on a thread of its own so that it does
 * not share the server's event loop: `connections` callers, each sending
 * one request after another for `durationMs`, as JSON POSTs over as many
 * keep-alive HTTP/1.1 connections, or as gRPC calls (connect-node's gRPC
 * transport) multiplexed over one HTTP/2 connection. Every request carries
 * a unique id in its bytes field and its reply must carry it back: a reply
 * that is missing, fails, or carries another id is counted.
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { file_rpc_bench } from "../gen/rpc_bench_pb.js";

export interface LoadSpec {
  /** Full URL of the method or route. */
  url: string;
  connections: number;
  durationMs: number;
  /** Bytes of the message's `data` field (at least 16: the id). */
  payloadBytes: number;
  /** "json": POST {"data": base64} to `url`; "grpc": Bench.Echo at the base of `url`. */
  protocol: "json" | "grpc";
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** Replies carrying another request's id. */
  crossed: number;
  firstError: string | undefined;
  /** Round trips of the successful requests, in µs. */
  latencies: Float64Array;
  elapsedMs: number;
}

const spec = workerData as LoadSpec;
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
const target = new URL(spec.url);

function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }, timeout: 10_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) resolve(text);
          else reject(new Error(`HTTP ${response.statusCode}: ${text}`));
        });
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("no reply in 10 s")));
    request.on("error", reject);
    request.end(body);
  });
}

/** One echo: resolves true when the reply carries `payload` back. */
type Echo = (payload: Buffer) => Promise<boolean>;

function jsonEcho(): Echo {
  return async (payload) => {
    const data = payload.toString("base64");
    const reply = JSON.parse(await post(`{"data":"${data}"}`)) as { data?: string };
    return reply.data === data;
  };
}

function grpcEcho(): Echo {
  const protos = file_rpc_bench.protos.map((proto) => fromBinary(FileDescriptorProtoSchema, base64Decode(proto)));
  const desc = createFileRegistry(create(FileDescriptorSetSchema, { file: protos })).getService("bench.Bench")!;
  const client = createClient(desc, createGrpcTransport({ baseUrl: target.origin })) as unknown as {
    echo(request: { data: Uint8Array }, options: { timeoutMs: number }): Promise<{ data: Uint8Array }>;
  };
  return async (payload) => Buffer.from((await client.echo({ data: payload }, { timeoutMs: 10_000 })).data).equals(payload);
}

async function connection(echo: Echo, index: number, until: number, result: LoadResult, latencies: number[]): Promise<void> {
  for (let seq = 0; performance.now() < until; seq++) {
    // A buffer per request: the gRPC client may still hold the previous one.
    const payload = Buffer.alloc(spec.payloadBytes, 0x2e);
    payload.write(`${index.toString(36)}:${seq.toString(36)}`.padEnd(16, "."), 0, "latin1");
    const start = performance.now();
    try {
      const same = await echo(payload);
      latencies.push((performance.now() - start) * 1000);
      if (same) result.ok++;
      else result.crossed++;
    } catch (error) {
      result.failed++;
      result.firstError ??= error instanceof Error ? error.message : String(error);
    }
  }
}

const result: LoadResult = { ok: 0, failed: 0, crossed: 0, firstError: undefined, latencies: new Float64Array(0), elapsedMs: 0 };
const latencies: number[] = [];
const start = performance.now();
const echo = spec.protocol === "grpc" ? grpcEcho() : jsonEcho();
await Promise.all(Array.from({ length: spec.connections }, (_, i) => connection(echo, i, start + spec.durationMs, result, latencies)));
result.elapsedMs = performance.now() - start;
result.latencies = Float64Array.from(latencies);
agent.destroy();
parentPort!.postMessage(result, [result.latencies.buffer as ArrayBuffer]);
