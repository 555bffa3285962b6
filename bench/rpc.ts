/**
 * RPC benchmark: unary round trips of a 16-byte message from JavaScript to a
 * C handler (sync, async and cold) and calls per second with 1, 16 and 256
 * calls in flight (and 256 of a 1 KiB message; beside 256 lanes awaiting
 * bare promises, the JavaScript floor, and with this process's CPU time per
 * call across processes), printed beside
 * worker_threads postMessage, a Node-to-C round trip over a Unix socket and
 * @grpc/grpc-js unary over a Unix socket, all measured in this run, and the
 * same calls made from C (the floor), in-process and across processes (the
 * library served by shmrpc-host). Sync, async and 256 in flight are measured
 * across processes too (connect() to shmrpc-host on CPU 1), directly and
 * through the relay that Electron takes (`relay: true`: one more copy and
 * a thread hand-off per message, docs/CROSS-PROCESS.md), beside
 * in-process; the relay beside the direct route with the default spin
 * budget (its two threads, unpinned, cannot spin beside two spinners on
 * 2 CPUs). Last, what a caller at a UI's rate costs: process CPU time
 * over wall time (the service's threads included, in its own process too)
 * with 100 and 1,000 awaited calls a second from a timer, beside the same
 * timer loop without calls, with adaptive and with fixed spin budgets,
 * and beside the floor: two C threads making one futex round trip a tick.
 *
 *   node build/ts/bench/rpc.js [--quick] [--cpu-only]     (after scripts/setup.sh)
 *
 * The JavaScript thread is pinned to CPU 0 and every peer to CPU 1.
 *
 * On the development VM a segment is fast or slow for its whole life, at
 * random and by periods (about 1 µs per round trip apart, in C as in
 * JavaScript: docs/BENCHMARKS.md). The figures that targets apply to are therefore
 * measured on SEGMENTS services of their own (the C floor in as many
 * processes), and the run with the median p50 is reported; the p50 of each
 * is printed as well.
 */
import * as grpc from "@grpc/grpc-js";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";

import { InProcessService, connect } from "../js/src/node.js";
import { loadAddon, packageRoot } from "../js/src/native/addon.js";
import { RpcClient } from "../js/src/rpc/index.js";
import { Bench, BenchClient } from "./gen/rpc_bench_pb.js";
import { echoService } from "./lib/grpc-echo.js";
import { cpuAtRate } from "./lib/cpu-load.js";
import { cFutexAtRate, cRpcEcho, cRpcEchoCrossProcess, postMessageRoundTrip } from "./lib/peers.js";
import { promiseFloor } from "./lib/promise-floor.js";
import { ASYNC_WARMUP, SYNC_WARMUP, printTable, timeRounds, timeRoundsSync, type Latency } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
/** Only the CPU-at-a-rate table (it needs no quiet machine to be meaningful as a ratio). */
const cpuOnly = process.argv.includes("--cpu-only");
const ROUNDS = quick ? 2000 : 20000;
const COLD_ROUNDS = quick ? 200 : 2000;
const THROUGHPUT_MS = quick ? 300 : 2000;
const LONG_SPIN_US = 1_000_000; // keeps the C side spinning between calls
const SEGMENTS = 3;
/** How long each CPU-at-a-rate measurement runs, and how many rounds of the three (alternated) make a figure. */
const CPU_MS = quick ? 1000 : 3000;
const CPU_ROUNDS = 3;
/** The transports' default spin budget (their cap when adaptive). */
const DEFAULT_SPIN_US = 50;
/** The CMake build holding services/ and bench/; $SHMRPC_CMAKE_DIR overrides. */
const cmakeDir = path.resolve(packageRoot(), process.env.SHMRPC_CMAKE_DIR ?? "build/cmake");
const library = path.join(cmakeDir, "services/libshmrpc_rpc_bench.so");
const request = { data: new Uint8Array(16) };
/** A message of a more typical size, for throughput (copies of it cannot live on V8's heap). */
const largerRequest = { data: new Uint8Array(1024) };

/**
 * Where the service runs: a thread of this process, or a shmrpc-host
 * process reached directly or through the relay (whose two threads run in
 * this process, unpinned).
 */
type Transport = "in-process" | "cross-process" | "relay";

interface Session {
  rpc: RpcClient;
  client: BenchClient;
  /** Processes serving the session besides this one (their CPU counts). */
  peers: number[];
  close(): Promise<void>;
}

const hostProgram = path.join(cmakeDir, "c/shmrpc-host");
const runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-bench-"));
let hosts = 0;

/** shmrpc-host serving the bench library on CPU 1, ready to accept. */
async function startHost(spinMicros: number, spinFixed: boolean): Promise<{ name: string; host: ChildProcess }> {
  const name = `bench${process.pid}-${hosts++}`;
  const args = ["-c", "1", hostProgram, name, library, "--runtime-dir", runtimeDir, "--spin-us", String(spinMicros)];
  if (spinFixed) args.push("--spin-fixed");
  const host = spawn("taskset", args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  host.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  while (!log.includes("serving")) {
    if (host.exitCode !== null) throw new Error(`shmrpc-host did not start: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { name, host };
}

async function open(transport: Transport, spinMicros: number, spinFixed = false): Promise<Session> {
  if (transport === "in-process") {
    const service = new InProcessService({ library, spinMicros, spinFixed, cpu: 1 });
    const rpc = new RpcClient(service.channel, { maxCallsInFlight: 1024 });
    return { rpc, client: new BenchClient(rpc), peers: [], close: async () => (rpc.close(), void (await service.close())) };
  }
  const { name, host } = await startHost(spinMicros, spinFixed);
  const relay = transport === "relay";
  // The relay's threads start from this thread and inherit its CPU set:
  // left on CPU 0 they would share it with this spinning thread.
  if (relay) loadAddon().pinThread(-1);
  const connection = await connect(name, { runtimeDir, spinMicros, spinFixed, relay }).finally(() => {
    if (relay) loadAddon().pinThread(0);
  });
  const rpc = new RpcClient(connection.channel, { maxCallsInFlight: 1024 });
  const close = async () => {
    rpc.close();
    connection.close();
    host.kill("SIGTERM");
    await once(host, "exit");
  };
  return { rpc, client: new BenchClient(rpc), peers: [host.pid!], close };
}

interface CpuFigures {
  /** Percent of one core: the timer loop alone (the service idle), with calls (adaptive budgets), with calls (fixed budgets). */
  bare: number;
  adaptive: number;
  fixed: number;
  /** Calls made in the rounds with calls (adaptive, fixed): a call that hung would show here. */
  calls: number;
  fixedCalls: number;
}

/**
 * CPU at `rate` awaited calls a second from a timer, beside the bare timer
 * loop, with default budgets, adaptive and fixed: the median of CPU_ROUNDS
 * rounds that take the three in turn (the machine's load drifts).
 */
async function cpuAtCallRate(transport: Transport, rate: number): Promise<CpuFigures> {
  const measure = async (spinFixed: boolean, withCalls: boolean) => {
    const { client, peers, close } = await open(transport, DEFAULT_SPIN_US, spinFixed);
    for (let i = 0; i < 1000; i++) await client.echo(request); // warm: V8, and the budgets at their caps
    const load = await cpuAtRate(rate, CPU_MS, withCalls ? () => client.echo(request) : undefined, peers);
    await close();
    return load;
  };
  const rounds: CpuFigures[] = [];
  for (let i = 0; i < CPU_ROUNDS; i++) {
    const bare = await measure(false, false);
    const adaptive = await measure(false, true);
    const fixed = await measure(true, true);
    rounds.push({ bare: bare.percent, adaptive: adaptive.percent, fixed: fixed.percent, calls: adaptive.calls, fixedCalls: fixed.calls });
  }
  const median = (key: keyof CpuFigures) => rounds.map((round) => round[key]).sort((a, b) => a - b)[rounds.length >> 1]!;
  return { bare: median("bare"), adaptive: median("adaptive"), fixed: median("fixed"), calls: median("calls"), fixedCalls: median("fixedCalls") };
}

async function unarySync(transport: Transport, spinMicros = LONG_SPIN_US): Promise<Latency> {
  const { rpc, close } = await open(transport, spinMicros);
  const latency = timeRoundsSync(ROUNDS, SYNC_WARMUP, () => rpc.unarySync(Bench.methods.echo, request));
  await close();
  return latency;
}

async function unaryAsync(transport: Transport, spinMicros: number, rounds: number): Promise<Latency> {
  const { client, close } = await open(transport, spinMicros);
  const latency = await timeRounds(rounds, Math.min(ASYNC_WARMUP, rounds), () => client.echo(request));
  await close();
  return latency;
}

/** This process's CPU time per call of the last callsPerSecond() (µs; its service threads included when in-process). */
let lastCpuPerCall = NaN;

/** Keeps `inFlight` calls of `message` outstanding for THROUGHPUT_MS; calls per second. */
async function callsPerSecond(
  inFlight: number,
  message = request,
  transport: Transport = "in-process",
  spinMicros = LONG_SPIN_US,
): Promise<number> {
  const { client, close } = await open(transport, spinMicros);
  /** Keeps `inFlight` calls going for `ms`; returns the calls completed. */
  const run = async (ms: number): Promise<number> => {
    let completed = 0;
    const end = performance.now() + ms;
    const lane = async () => {
      // performance.now() costs a few percent of a call: look every 16 calls.
      do {
        for (let i = 0; i < 16; i++) await client.echo(message);
        completed += 16;
      } while (performance.now() < end);
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return completed;
  };
  await run(THROUGHPUT_MS / 2); // warm-up: V8 keeps optimizing past the first thousand calls
  const began = performance.now();
  const cpuBefore = process.cpuUsage();
  const completed = await run(THROUGHPUT_MS);
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  lastCpuPerCall = (cpu.user + cpu.system) / completed;
  await close();
  return completed / seconds;
}

/** The measurement with the median p50 of SEGMENTS runs, and every run's p50. */
async function overSegments(measure: () => Latency | Promise<Latency>): Promise<{ median: Latency; p50s: number[] }> {
  const runs: Latency[] = [];
  for (let i = 0; i < SEGMENTS; i++) runs.push(await measure());
  const sorted = [...runs].sort((a, b) => a.p50 - b.p50);
  return { median: sorted[sorted.length >> 1]!, p50s: runs.map((run) => run.p50) };
}

/** Node -> C -> Node over a Unix stream socket (bench_unix_echo on CPU 1). */
async function unixSocketRoundTrip(rounds: number): Promise<Latency> {
  const socketPath = path.join(tmpdir(), `shmrpc-bench-${process.pid}.sock`);
  const child = spawn(path.join(cmakeDir, "bench/bench_unix_echo"), [socketPath, "1"], { stdio: ["ignore", "pipe", "inherit"] });
  await once(child.stdout!, "data"); // "ready"
  const socket: Socket = createConnection(socketPath);
  await once(socket, "connect");
  const payload = Buffer.alloc(16);
  const latency = await timeRounds(rounds, Math.min(ASYNC_WARMUP, rounds), () => {
    socket.write(payload);
    return once(socket, "data");
  });
  socket.end();
  await once(child, "exit");
  return latency;
}

/** @grpc/grpc-js unary over a Unix socket to a server in a worker on CPU 1. */
async function grpcRoundTrip(rounds: number): Promise<Latency> {
  const socketPath = path.join(tmpdir(), `shmrpc-bench-grpc-${process.pid}.sock`);
  const worker = new Worker(new URL("./workers/grpc-echo-worker.js", import.meta.url), { workerData: { cpu: 1, socket: socketPath } });
  await once(worker, "message"); // ready
  const Client = grpc.makeGenericClientConstructor(echoService, "Bench");
  const client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure()) as unknown as {
    echo(request: Buffer, callback: (error: Error | null, response?: Buffer) => void): void;
    close(): void;
  };
  const payload = Buffer.alloc(16);
  const call = () =>
    new Promise<void>((resolve, reject) => client.echo(payload, (error) => (error ? reject(error) : resolve())));
  const latency = await timeRounds(rounds, Math.min(500, rounds), call);
  client.close();
  worker.postMessage("stop");
  await worker.terminate();
  return latency;
}

/** The CPU-at-a-rate figures of every transport, printed. */
async function cpuTable(): Promise<void> {
  const rows: Array<[string, CpuFigures, number]> = [];
  for (const transport of ["in-process", "cross-process", "relay"] as const) {
    for (const rate of [100, 1000]) rows.push([`${transport}, ${rate} calls/s`, await cpuAtCallRate(transport, rate), rate]);
  }
  const floors = [100, 1000].map((rate): Array<string | number> => {
    const floor = cFutexAtRate(rate, CPU_MS);
    return [`C threads, a futex round trip per tick (the floor), ${rate}/s`, floor.bare, floor.calls, "-", floor.calls - floor.bare, ((floor.calls - floor.bare) * 1e4) / rate, "-", "-"];
  });
  printTable(
    `CPU at a caller's rate: % of one core (CPU time of every thread of this process and of shmrpc-host over wall time; medians of ${CPU_ROUNDS} alternated rounds of ${CPU_MS / 1000} s; awaited calls from a setInterval timer; spin cap ${DEFAULT_SPIN_US} µs)`,
    ["", "timer alone", "calls, adaptive", "calls, fixed", "adaptive above timer", "CPU µs per call (adaptive)", "(fixed)", "calls made (adaptive, fixed)"],
    rows.map(([label, f, rate]): Array<string | number> => [
      label,
      f.bare,
      f.adaptive,
      f.fixed,
      f.adaptive - f.bare,
      ((f.adaptive - f.bare) * 1e4) / rate,
      ((f.fixed - f.bare) * 1e4) / rate,
      `${f.calls}, ${f.fixedCalls}`,
    ]).concat(floors),
  );
}

async function main(): Promise<void> {
  if (!loadAddon().pinThread(0)) console.warn("could not pin the JavaScript thread to CPU 0");
  if (cpuOnly) return cpuTable();

  const syncRuns = await overSegments(() => unarySync("in-process"));
  const asyncRuns = await overSegments(() => unaryAsync("in-process", LONG_SPIN_US, ROUNDS));
  const cold = await unaryAsync("in-process", 0, COLD_ROUNDS);
  // The same calls to the library served by shmrpc-host in another process.
  const crossSyncRuns = await overSegments(() => unarySync("cross-process"));
  const crossAsyncRuns = await overSegments(() => unaryAsync("cross-process", LONG_SPIN_US, ROUNDS));
  // p99 holds this process's CPU per call: JavaScript's alone (and the
  // addon's loop spin), the service being in another process.
  const crossBusyRuns = await overSegments(async () => ({
    p50: await callsPerSecond(256, request, "cross-process"),
    p99: lastCpuPerCall,
  }));
  // The same through the relay (Electron's route), beside the direct route,
  // both with the default spin budget: on 2 CPUs the relay's two threads
  // cannot spin beside the caller and the host.
  const defaultSpin = (transport: Transport) => ({
    sync: () => overSegments(() => unarySync(transport, DEFAULT_SPIN_US)),
    async: () => overSegments(() => unaryAsync(transport, DEFAULT_SPIN_US, COLD_ROUNDS)),
    busy: () => overSegments(async () => ({ p50: await callsPerSecond(256, request, transport, DEFAULT_SPIN_US), p99: NaN })),
  });
  const [directDefault, relayDefault] = [defaultSpin("cross-process"), defaultSpin("relay")];
  const crossDefaultSyncRuns = await directDefault.sync();
  const crossDefaultAsyncRuns = await directDefault.async();
  const crossDefaultBusyRuns = await directDefault.busy();
  const relaySyncRuns = await relayDefault.sync();
  const relayAsyncRuns = await relayDefault.async();
  const relayBusyRuns = await relayDefault.busy();
  const rates = [] as Array<[number, number]>;
  for (const inFlight of [1, 16]) rates.push([inFlight, await callsPerSecond(inFlight)]);
  // A rate in place of a p50: the median is taken the same way.
  const busyRuns = await overSegments(async () => ({ p50: await callsPerSecond(256), p99: NaN }));
  rates.push([256, busyRuns.median.p50]);
  const largerRate = await callsPerSecond(256, largerRequest);
  const jsFloor = await promiseFloor(256, THROUGHPUT_MS);
  const postMessage = await postMessageRoundTrip(ROUNDS);
  const unix = await unixSocketRoundTrip(COLD_ROUNDS);
  const grpcJs = await grpcRoundTrip(COLD_ROUNDS);
  const fromCRuns = await overSegments(() => cRpcEcho(library, ROUNDS * 10));
  const crossRuns = await overSegments(() => cRpcEchoCrossProcess(library, ROUNDS * 10, hostProgram));
  const [sync, asyncLatency, fromC, cross] = [syncRuns.median, asyncRuns.median, fromCRuns.median, crossRuns.median];

  printTable(
    `Unary round trips, 16-byte message (µs; JS on CPU 0, peer on CPU 1; ${ROUNDS} rounds, cold and sockets ${COLD_ROUNDS})`,
    ["", "p50", "p99"],
    [
      ["shmrpc unary JS->C->JS, sync (unarySync, JS spins)", sync.p50, sync.p99],
      ["shmrpc unary JS->C->JS, async (await, C spinning)", asyncLatency.p50, asyncLatency.p99],
      ["shmrpc unary JS->C->JS, cold (both parked)", cold.p50, cold.p99],
      ["cross-process (shmrpc-host): sync", crossSyncRuns.median.p50, crossSyncRuns.median.p99],
      ["cross-process (shmrpc-host): async, C spinning", crossAsyncRuns.median.p50, crossAsyncRuns.median.p99],
      [`cross-process, default spin (${DEFAULT_SPIN_US} µs): sync`, crossDefaultSyncRuns.median.p50, crossDefaultSyncRuns.median.p99],
      [`cross-process, default spin (${DEFAULT_SPIN_US} µs): async`, crossDefaultAsyncRuns.median.p50, crossDefaultAsyncRuns.median.p99],
      ["cross-process through the relay, default spin: sync", relaySyncRuns.median.p50, relaySyncRuns.median.p99],
      ["cross-process through the relay, default spin: async", relayAsyncRuns.median.p50, relayAsyncRuns.median.p99],
      ["shmrpc unary C->C->C, both spinning (the floor)", fromC.p50, fromC.p99],
      ["shmrpc unary C->C->C across processes (shmrpc-host)", cross.p50, cross.p99],
      ["worker_threads postMessage round trip", postMessage.p50, postMessage.p99],
      ["Node -> C over a Unix socket", unix.p50, unix.p99],
      ["@grpc/grpc-js unary over a Unix socket", grpcJs.p50, grpcJs.p99],
    ],
  );
  const listed = (values: number[]) => values.map((value) => value.toPrecision(3)).join(", ");
  console.log(
    `  sync, async, C->C->C, across processes; relayed (sync, async, default spin): median of ${SEGMENTS} segments, whose p50s were ` +
      `${listed(syncRuns.p50s)}; ${listed(asyncRuns.p50s)}; ${listed(fromCRuns.p50s)}; ${listed(crossRuns.p50s)}; ` +
      `${listed(relaySyncRuns.p50s)}; ${listed(relayAsyncRuns.p50s)}`,
  );
  printTable(
    "shmrpc unary calls per second (async, C spinning)",
    ["calls in flight", "calls/s"],
    [
      ...rates.map(([inFlight, rate]): [string, number] => [`${inFlight}, 16-byte message`, rate]),
      ["256, 1 KiB message", largerRate],
      ["256, 16-byte message, cross-process", crossBusyRuns.median.p50],
      ["256, 16-byte message, cross-process, default spin", crossDefaultBusyRuns.median.p50],
      ["256, 16-byte message, cross-process through the relay, default spin", relayBusyRuns.median.p50],
      ["256 awaited bare promises settled in batches: no transport, no codec (the JavaScript floor)", jsFloor],
    ],
  );
  const millions = busyRuns.p50s.map((rate) => (rate / 1e6).toFixed(2)).join(", ");
  console.log(`  256 in flight, 16-byte message: median of ${SEGMENTS} segments (${millions} M calls/s)`);
  console.log(
    `  CPU time of this process per call, cross-process, 256 in flight (JavaScript's, the service being in shmrpc-host): ` +
      `${crossBusyRuns.median.p99.toFixed(3)} µs; the JavaScript floor's: ${(1e6 / jsFloor).toFixed(3)} µs`,
  );
  printTable("Ratios", ["", "x"], [
    ["shmrpc sync p50 / C->C->C p50", sync.p50 / fromC.p50],
    ["C->C->C across processes p50 / in-process p50", cross.p50 / fromC.p50],
    ["cross-process sync p50 / in-process sync p50 (target <= 1.3)", crossSyncRuns.median.p50 / sync.p50],
    ["cross-process async p50 / in-process async p50 (target <= 1.3)", crossAsyncRuns.median.p50 / asyncLatency.p50],
    ["cross-process 256 in flight / in-process", crossBusyRuns.median.p50 / busyRuns.median.p50],
    ["the JavaScript floor / cross-process 256 in flight", jsFloor / crossBusyRuns.median.p50],
    ["relayed sync p50 / cross-process sync p50 (default spin)", relaySyncRuns.median.p50 / crossDefaultSyncRuns.median.p50],
    ["relayed async p50 / cross-process async p50 (default spin)", relayAsyncRuns.median.p50 / crossDefaultAsyncRuns.median.p50],
    ["relayed 256 in flight / cross-process (default spin)", relayBusyRuns.median.p50 / crossDefaultBusyRuns.median.p50],
    ["worker postMessage p50 / shmrpc async p50", postMessage.p50 / asyncLatency.p50],
    ["Unix socket p50 / shmrpc async p50", unix.p50 / asyncLatency.p50],
    ["grpc-js p50 / shmrpc async p50", grpcJs.p50 / asyncLatency.p50],
  ]);
  await cpuTable();
}

try {
  await main();
} finally {
  rmSync(runtimeDir, { recursive: true, force: true });
}
