/**
 * Load test of the HTTP gateway on loopback: `--connections` keep-alive
 * HTTP/1.1 connections (default 64) post Connect JSON to the gateway for
 * `--seconds` (default 10), then as many gRPC callers share one HTTP/2
 * connection, and in the same run the same calls go
 *   - straight to the C service over shmrpc (as many concurrent callers),
 *   - through the gateway to the same C service in another process
 *     (shmrpc-host, attached with connect()),
 *   - to Bench.Echo implemented in JavaScript on connect-node (Connect
 *     JSON over HTTP/1.1, gRPC over HTTP/2) and on @grpc/grpc-js (gRPC),
 *     the servers a Node user would write instead (bench/lib/js-rpc-peers.ts),
 *   - to an express + JSON echo handler in plain Node (no C, no shmrpc),
 * each reported as requests/s and p50/p99 round trip. Every request carries
 * a unique id that its reply must echo; the run fails (exit 1) on any error,
 * lost or crossed reply, on a call left in flight, or when the gateway
 * process's memory keeps growing after the warm-up.
 *
 *   node build/ts/bench/gateway.js [--connections 64] [--seconds 10] [--quick]
 *
 * Not part of CI. The C service is bench/services/rpc_bench_service.c
 * (Bench.Echo returns its bytes). The load runs on a worker thread, the
 * servers on the main thread (shmrpc-host's in its own process). Figures
 * are only worth quoting from a quiet machine.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";

import express from "express";

import { InProcessService, connect } from "../js/src/node.js";
import { createGateway } from "../js/src/gateway/index.js";
import { packageRoot } from "../js/src/native/addon.js";
import { RpcClient } from "../js/src/rpc/index.js";
import { Bench, BenchClient } from "./gen/rpc_bench_pb.js";
import { startConnectPeer, startGrpcJsPeer } from "./lib/js-rpc-peers.js";
import { printTable, quantiles } from "./lib/stats.js";
import type { LoadResult, LoadSpec } from "./workers/http-load-worker.js";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "64" },
    seconds: { type: "string", default: "10" },
    payload: { type: "string", default: "64" },
    quick: { type: "boolean", default: false },
  },
});
const CONNECTIONS = values.quick ? 16 : Number(values.connections);
const DURATION_MS = (values.quick ? 2 : Number(values.seconds)) * 1000;
const PAYLOAD_BYTES = Math.max(16, Number(values.payload));
const WARMUP_MS = values.quick ? 300 : 1000;
/** Growth of the gateway process's RSS after the warm-up that counts as not flat. */
const MEMORY_GROWTH_LIMIT = 64 * 1024 * 1024;
const cmakeDir = path.resolve(packageRoot(), process.env.SHMRPC_CMAKE_DIR ?? "build/cmake");
const library = path.join(cmakeDir, "services/libshmrpc_rpc_bench.so");
const hostProgram = path.join(cmakeDir, "c/shmrpc-host");

interface Row {
  name: string;
  result: LoadResult;
}

const problems: string[] = [];

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const worker = new Worker(new URL("./workers/http-load-worker.js", import.meta.url), { workerData: spec });
  return new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}

/** The same calls over shmrpc: `CONNECTIONS` callers, one call after another each. */
async function direct(client: BenchClient, durationMs: number): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, failed: 0, crossed: 0, firstError: undefined, latencies: new Float64Array(0), elapsedMs: 0 };
  const latencies: number[] = [];
  const start = performance.now();
  const until = start + durationMs;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, index) => {
      const data = Buffer.alloc(PAYLOAD_BYTES, 0x2e);
      for (let seq = 0; performance.now() < until; seq++) {
        data.write(`${index.toString(36)}:${seq.toString(36)}`.padEnd(16, "."), 0, "latin1");
        const begin = performance.now();
        try {
          const reply = await client.echo({ data }, { timeoutMs: 10_000 });
          latencies.push((performance.now() - begin) * 1000);
          if (Buffer.from(reply.data).equals(data)) result.ok++;
          else result.crossed++;
        } catch (error) {
          result.failed++;
          result.firstError ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  result.elapsedMs = performance.now() - start;
  result.latencies = Float64Array.from(latencies);
  return result;
}

function check(name: string, result: LoadResult): void {
  if (result.failed > 0) problems.push(`${name}: ${result.failed} requests failed (first: ${result.firstError})`);
  if (result.crossed > 0) problems.push(`${name}: ${result.crossed} replies carried another request's id`);
  if (result.ok === 0) problems.push(`${name}: no request succeeded`);
}

/** Samples this process's RSS while `run` runs; the growth after the warm-up. */
async function watchMemory<T>(run: Promise<T>): Promise<{ value: T; samples: number[] }> {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(process.memoryUsage().rss), 250);
  try {
    return { value: await run, samples };
  } finally {
    clearInterval(timer);
  }
}

const MiB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** Warms up, then loads `url` for the run's duration; checks and records the result as a row. */
async function measure(rows: Row[], name: string, url: string, protocol: LoadSpec["protocol"]): Promise<LoadResult> {
  const spec = { url, protocol, connections: CONNECTIONS, payloadBytes: PAYLOAD_BYTES };
  await runLoad({ ...spec, durationMs: WARMUP_MS });
  const result = await runLoad({ ...spec, durationMs: DURATION_MS });
  check(name, result);
  rows.push({ name, result });
  return result;
}

/**
 * The gateway in front of the C service in another process: shmrpc-host
 * serves the bench library, this process connects to it by name.
 */
async function gatewayCrossProcess(rows: Row[]): Promise<void> {
  const runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-bench-gw-"));
  const name = `gateway-bench-${process.pid}`;
  const host = spawn(hostProgram, [name, library, "--runtime-dir", runtimeDir], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  host.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  try {
    while (!log.includes("serving")) {
      if (host.exitCode !== null) throw new Error(`shmrpc-host did not start: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const connection = await connect(name, { runtimeDir });
    const rpc = new RpcClient(connection.channel, { maxCallsInFlight: 1024 });
    const gateway = createGateway({ service: Bench, client: rpc });
    const server = await gateway.listen({ port: 0 });
    await measure(rows, "gateway: HTTP/1.1 Connect JSON -> shmrpc-host process -> C", `${server.url}/bench.Bench/Echo`, "json");
    await server.close();
    if (gateway.stats.callsInFlight !== 0 || rpc.callsInFlight !== 0) {
      problems.push(`cross-process: calls left in flight: gateway ${gateway.stats.callsInFlight}, RpcClient ${rpc.callsInFlight}`);
    }
    rpc.close();
    await connection.close();
  } finally {
    host.kill("SIGTERM");
    if (host.exitCode === null) await once(host, "exit");
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}

/** Bench.Echo in JavaScript: connect-node (JSON over HTTP/1.1, gRPC over HTTP/2), then grpc-js. */
async function javascriptServices(rows: Row[]): Promise<void> {
  const connectPeer = await startConnectPeer();
  await measure(rows, "connect-node, JS handler: HTTP/1.1 Connect JSON", `${connectPeer.url}/bench.Bench/Echo`, "json");
  await measure(rows, "connect-node, JS handler: HTTP/2 gRPC", `${connectPeer.url}/bench.Bench/Echo`, "grpc");
  await connectPeer.close();
  const grpcPeer = await startGrpcJsPeer();
  await measure(rows, "grpc-js, JS handler: HTTP/2 gRPC", `${grpcPeer.url}/bench.Bench/Echo`, "grpc");
  await grpcPeer.close();
}

async function main(): Promise<void> {
  const service = new InProcessService({ library });
  const rpc = new RpcClient(service.channel, { maxCallsInFlight: 1024 });
  const client = new BenchClient(rpc);
  const rows: Row[] = [];

  // 1. Straight over shared memory.
  await direct(client, WARMUP_MS);
  const shm = await direct(client, DURATION_MS);
  check("shmrpc direct", shm);
  rows.push({ name: "shmrpc, direct (no HTTP)", result: shm });

  // 2. Through the gateway: Connect JSON over HTTP/1.1, then gRPC over HTTP/2.
  const gateway = createGateway({ service: Bench, client: rpc });
  const server = await gateway.listen({ port: 0 });
  const url = `${server.url}/bench.Bench/Echo`;
  const samples: number[] = [];
  for (const [protocol, name] of [["json", "gateway: HTTP/1.1 Connect JSON -> shmrpc -> C"], ["grpc", "gateway: HTTP/2 gRPC -> shmrpc -> C"]] as const) {
    await runLoad({ url, protocol, connections: CONNECTIONS, durationMs: WARMUP_MS, payloadBytes: PAYLOAD_BYTES });
    const started = gateway.stats.callsStarted;
    const watched = await watchMemory(runLoad({ url, protocol, connections: CONNECTIONS, durationMs: DURATION_MS, payloadBytes: PAYLOAD_BYTES }));
    check(name, watched.value);
    rows.push({ name, result: watched.value });
    if (protocol === "json") samples.push(...watched.samples);
    const replies = watched.value.ok + watched.value.crossed;
    if (gateway.stats.callsStarted - started < replies) problems.push(`${name}: ${gateway.stats.callsStarted - started} calls for ${replies} replies`);
  }
  await server.close();
  if (gateway.stats.callsInFlight !== 0 || rpc.callsInFlight !== 0) {
    problems.push(`calls left in flight: gateway ${gateway.stats.callsInFlight}, RpcClient ${rpc.callsInFlight}`);
  }

  // 3. The same gateway with the C service in another process.
  await gatewayCrossProcess(rows);

  // 4. The service in JavaScript on connect-node and grpc-js: no C, no shmrpc.
  await javascriptServices(rows);

  // 5. Plain Node: express + a JSON echo handler, no C, no RPC framework.
  const app = express();
  app.post("/echo", express.json(), (req, res) => void res.json({ data: (req.body as { data: string }).data }));
  const plain = app.listen(0, "127.0.0.1");
  await once(plain, "listening");
  const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/echo`;
  await measure(rows, "express + JSON handler, plain Node", plainUrl, "json");
  plain.closeAllConnections();
  plain.close();

  rpc.close();
  await service.close();

  printTable(
    `Echo of a ${PAYLOAD_BYTES}-byte message, ${CONNECTIONS} connections (callers), ${DURATION_MS / 1000} s each, loopback`,
    ["path", "requests", "req/s", "p50 µs", "p99 µs", "failed", "crossed"],
    rows.map(({ name, result }) => {
      const { p50, p99 } = quantiles(result.latencies);
      return [name, String(result.ok), (result.ok / result.elapsedMs) * 1000, p50, p99, String(result.failed), String(result.crossed)];
    }),
  );
  // Memory: the samples after the first quarter of the run against the end.
  const settled = samples.slice(Math.floor(samples.length / 4));
  const growth = settled.length > 1 ? settled[settled.length - 1]! - Math.min(...settled) : 0;
  console.log(`\ngateway process RSS during the JSON run: ${MiB(Math.min(...samples))}-${MiB(Math.max(...samples))} MiB, ${MiB(growth)} MiB growth after the first quarter`);
  if (growth > MEMORY_GROWTH_LIMIT) problems.push(`memory grew by ${MiB(growth)} MiB during the gateway run`);

  if (problems.length > 0) {
    console.error(`\nFAILED:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("no errors, no lost or crossed replies, no call left in flight");
  }
}

await main();
