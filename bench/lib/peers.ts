/**
 * The figures a user would compare shmrpc with, measured in the same run:
 * worker_threads postMessage, a JS-to-JS Atomics spin ping-pong, C-to-C futex
 * and spin ping-pongs, C-to-C channel and RPC round trips, and single-core
 * memcpy bandwidth.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { Worker } from "node:worker_threads";

import { packageRoot } from "../../js/src/native/addon.js";
import { quantiles, timeRounds, type Latency } from "./stats.js";

const workerUrl = (name: string) => new URL(`../workers/${name}.js`, import.meta.url);

/** Round trip of a 16-byte Uint8Array through a worker pinned to CPU 1. */
export async function postMessageRoundTrip(rounds: number): Promise<Latency> {
  const worker = new Worker(workerUrl("echo-worker"), { workerData: { cpu: 1 } });
  await new Promise((resolve) => worker.once("message", resolve)); // ready
  const payload = new Uint8Array(16);
  const once = () => new Promise((resolve) => {
    worker.once("message", resolve);
    worker.postMessage(payload);
  });
  const latency = await timeRounds(rounds, Math.min(1000, rounds), once);
  await worker.terminate();
  return latency;
}

/** Main thread (CPU 0) and a worker (CPU 1) bounce a counter by spinning on Atomics.load. */
export async function atomicsSpinRoundTrip(rounds: number): Promise<Latency> {
  const words = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(workerUrl("spin-worker"), { workerData: { cpu: 1, words, rounds: rounds + 1000 } });
  await new Promise((resolve) => worker.once("message", resolve)); // ready
  const samples = new Float64Array(rounds);
  for (let i = 0; i < rounds + 1000; i++) {
    const start = performance.now();
    Atomics.store(words, 0, 2 * i + 1);
    while (Atomics.load(words, 0) !== 2 * i + 2);
    if (i >= 1000) samples[i - 1000] = (performance.now() - start) * 1000;
  }
  await worker.terminate();
  return quantiles(samples);
}

interface CFigure {
  name: string;
  p50_us?: number;
  p99_us?: number;
  gbytes_per_s?: number;
  bare_percent?: number;
  calls_percent?: number;
}

function runC(program: string, ...args: string[]): CFigure[] {
  const file = path.join(packageRoot(), "build/cmake/bench", program);
  return execFileSync(file, args, { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as CFigure);
}

export function cPingPong(rounds: number): { futex: Latency; spin: Latency } {
  const figures = runC("bench_futex_pingpong", String(rounds));
  const pick = (name: string): Latency => {
    const figure = figures.find((f) => f.name === name);
    return { p50: figure?.p50_us ?? NaN, p99: figure?.p99_us ?? NaN };
  };
  return { futex: pick("c_futex_pingpong"), spin: pick("c_spin_pingpong") };
}

/**
 * The floor of a caller at a UI's rate: percent of one core used by two C
 * threads that make one futex round trip per tick at `rate`, and by the
 * same clock loop alone (bench_futex_rate: medians of three rounds of `ms`).
 */
export function cFutexAtRate(rate: number, ms: number): { bare: number; calls: number } {
  const figure = runC("bench_futex_rate", String(rate), String(ms))[0];
  return { bare: figure?.bare_percent ?? NaN, calls: figure?.calls_percent ?? NaN };
}

/** C-to-C echo through a shmrpc channel: the floor under the JavaScript figures. */
export function cChannelEcho(rounds: number): Latency {
  const figure = runC("bench_channel_pingpong", String(rounds))[0];
  return { p50: figure?.p50_us ?? NaN, p99: figure?.p99_us ?? NaN };
}

/**
 * C-to-C unary calls into an RPC service library, hosted as the addon hosts
 * it: the floor under the JavaScript unary figures.
 */
export function cRpcEcho(library: string, rounds: number): Latency {
  const figure = runC("bench_rpc_pingpong", library, String(rounds))[0];
  return { p50: figure?.p50_us ?? NaN, p99: figure?.p99_us ?? NaN };
}

/** The same calls from C to the library served by shmrpc-host in another process. */
export function cRpcEchoCrossProcess(library: string, rounds: number, hostProgram: string): Latency {
  const figure = runC("bench_rpc_pingpong", library, String(rounds), "--xproc", hostProgram)[0];
  return { p50: figure?.p50_us ?? NaN, p99: figure?.p99_us ?? NaN };
}

/** Single-core memcpy of 1 MiB blocks, GB/s. */
export function memcpyBandwidth(): number {
  return runC("bench_memcpy", "500")[0]?.gbytes_per_s ?? NaN;
}
