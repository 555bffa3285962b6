/**
 * Channel benchmark: echo round trips (sync, async, cold), one-way 64-byte
 * frames and 1 MiB messages from JavaScript to a C service thread, printed
 * beside the alternatives measured in the same run.
 *
 *   node build/ts/bench/channel.js [--quick]
 *
 * The JavaScript thread is pinned to CPU 0 and every peer thread to CPU 1:
 * on a 2-core VM two unpinned spinners can share a core and collapse.
 */
import path from "node:path";

import { Channel, FrameType, type Message } from "../js/src/index.js";
import { InProcessService } from "../js/src/node.js";
import { loadAddon, packageRoot } from "../js/src/native/addon.js";
import { atomicsSpinRoundTrip, cChannelEcho, cPingPong, memcpyBandwidth, postMessageRoundTrip } from "./lib/peers.js";
import { ASYNC_WARMUP, SYNC_WARMUP, printTable, timeRounds, timeRoundsSync, type Latency } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const ROUNDS = quick ? 2000 : 20000;
const COLD_ROUNDS = quick ? 200 : 2000;
const FRAMES = quick ? 2_000_000 : 10_000_000;
const MEBIBYTES = quick ? 200 : 2000;
const LONG_SPIN_US = 1_000_000; // keeps a side spinning between rounds
const library = path.join(packageRoot(), "build/cmake/services/libshmrpc_bench.so");

function start(config: "echo" | "sink", spinMicros: number, capacity = 1 << 20): InProcessService {
  return new InProcessService({ library, config, spinMicros, capacity, cpu: 1 });
}

const payload16 = new Uint8Array(16);

async function echoSync(): Promise<Latency> {
  const service = start("echo", LONG_SPIN_US);
  const { channel } = service;
  const once = () => {
    channel.trySend(FrameType.BINARY, payload16);
    channel.flush();
    channel.receiveSync();
  };
  const latency = timeRoundsSync(ROUNDS, SYNC_WARMUP, once);
  await service.close();
  return latency;
}

async function echoAsync(spinMicros: number, rounds: number): Promise<Latency> {
  const service = start("echo", spinMicros);
  const { channel } = service;
  const replies = channel[Symbol.asyncIterator]();
  const latency = await timeRounds(rounds, Math.min(ASYNC_WARMUP, rounds), async () => {
    await channel.send(FrameType.BINARY, payload16);
    await replies.next();
  });
  await replies.return?.();
  await service.close();
  return latency;
}

/** Asks the sink for its totals (messages, bytes) and waits for them. */
async function sinkTotals(channel: Channel, replies: AsyncIterator<Message>): Promise<{ messages: number; bytes: number }> {
  await channel.send(FrameType.COMMAND, new Uint8Array(0));
  const reply = await replies.next();
  if (reply.done || reply.value.type !== FrameType.COMMAND) throw new Error("the sink did not report");
  return JSON.parse(new TextDecoder().decode(reply.value.data));
}

/** One-way 64-byte frames, written back to back and published in batches. */
async function oneWayFrames(): Promise<number> {
  const service = start("sink", LONG_SPIN_US);
  const { channel } = service;
  const replies = channel[Symbol.asyncIterator]();
  const frame = new Uint8Array(64);
  const sendFrames = async (count: number) => {
    for (let sent = 0; sent < count; sent++) {
      if (!channel.trySend(FrameType.BINARY, frame)) await channel.send(FrameType.BINARY, frame); // waits for space
    }
    return sinkTotals(channel, replies);
  };
  await sendFrames(FRAMES / 4); // warm-up: let V8 finish optimizing the loop
  const began = performance.now();
  const totals = await sendFrames(FRAMES);
  const seconds = (performance.now() - began) / 1000;
  if (totals.messages !== FRAMES) throw new Error(`sink counted ${totals.messages} of ${FRAMES} frames`);
  await service.close();
  return FRAMES / seconds;
}

/** 1 MiB BINARY messages through a 4 MiB ring, GB/s. */
async function mebibyteThroughput(): Promise<number> {
  const service = start("sink", LONG_SPIN_US, 4 << 20);
  const { channel } = service;
  const replies = channel[Symbol.asyncIterator]();
  const message = new Uint8Array(1 << 20).fill(0x5a);
  const began = performance.now();
  for (let i = 0; i < MEBIBYTES; i++) await channel.send(FrameType.BINARY, message);
  const totals = await sinkTotals(channel, replies);
  const seconds = (performance.now() - began) / 1000;
  if (totals.bytes !== MEBIBYTES * message.length) throw new Error(`sink counted ${totals.bytes} bytes`);
  await service.close();
  return (MEBIBYTES * message.length) / seconds / 1e9;
}

async function main(): Promise<void> {
  const addon = loadAddon();
  if (!addon.pinThread(0)) console.warn("could not pin the JavaScript thread to CPU 0");

  const sync = await echoSync();
  const asyncLatency = await echoAsync(LONG_SPIN_US, ROUNDS);
  const cold = await echoAsync(0, COLD_ROUNDS);
  const postMessage = await postMessageRoundTrip(ROUNDS);
  const atomics = await atomicsSpinRoundTrip(ROUNDS);
  const c = cPingPong(COLD_ROUNDS);
  const cChannel = cChannelEcho(ROUNDS * 10);
  const frames = await oneWayFrames();
  const mebibytes = await mebibyteThroughput();
  const memcpy = memcpyBandwidth();

  printTable(
    `Round trips of a 16-byte message (µs; JS on CPU 0, peer on CPU 1; ${ROUNDS} rounds, cold ${COLD_ROUNDS})`,
    ["", "p50", "p99"],
    [
      ["shmrpc echo JS->C->JS, sync (JS spins)", sync.p50, sync.p99],
      ["shmrpc echo JS->C->JS, async (await, C spinning)", asyncLatency.p50, asyncLatency.p99],
      ["shmrpc echo JS->C->JS, cold (both parked)", cold.p50, cold.p99],
      ["worker_threads postMessage round trip", postMessage.p50, postMessage.p99],
      ["JS<->JS Atomics spin ping-pong", atomics.p50, atomics.p99],
      ["C<->C futex ping-pong", c.futex.p50, c.futex.p99],
      ["C<->C spin ping-pong", c.spin.p50, c.spin.p99],
      ["shmrpc echo C->C->C through a channel (spinning)", cChannel.p50, cChannel.p99],
    ],
  );
  printTable("Throughput, JS -> C", ["", "rate"], [
    ["shmrpc one-way 64-byte frames, batched (M frames/s)", frames / 1e6],
    ["shmrpc 1 MiB BINARY messages (GB/s)", mebibytes],
    ["C memcpy of 1 MiB blocks, one core (GB/s)", memcpy],
  ]);
  printTable("Ratios", ["", "x"], [
    ["shmrpc cold p50 / C futex ping-pong p50", cold.p50 / c.futex.p50],
    ["worker postMessage p50 / shmrpc async p50", postMessage.p50 / asyncLatency.p50],
    ["shmrpc sync p50 / JS Atomics spin p50", sync.p50 / atomics.p50],
    ["shmrpc 1 MiB throughput / memcpy bandwidth", mebibytes / memcpy],
  ]);
}

await main();
