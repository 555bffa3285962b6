/**
 * Connects to a shmrpc-host, calls once and closes, in a loop, and reports
 * what stayed behind (tests/js/cross-process-close.test.ts; run with
 * --expose-gc):
 *
 *   node --expose-gc xproc-cycles.js <name> <runtimeDir> <cycles> [relayed]
 *
 * Prints one JSON line: the segment mappings (memfd lines of
 * /proc/self/maps), descriptors, threads and RSS after a warm-up tenth and
 * at the end, and how many of the addon's connection objects were
 * collected.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { connect } from "../../../js/src/node.js";
import { RpcClient } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";

const [name = "", runtimeDir = "", cyclesText = "300", route = "direct"] = process.argv.slice(2);
const cycles = Number(cyclesText);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

let collected = 0;
const registry = new FinalizationRegistry<void>(() => {
  collected++;
});

function snapshot(): { mappings: number; fds: number; threads: number; rssMiB: number } {
  return {
    threads: readdirSync("/proc/self/task").length,
    mappings: readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) => line.includes("memfd:")).length,
    fds: readdirSync("/proc/self/fd").length,
    rssMiB: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10,
  };
}

async function collect(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc!();
    await sleep(20);
  }
}

async function cycle(i: number): Promise<void> {
  const connection = await connect(name, { runtimeDir, relay: route === "relayed" });
  registry.register((connection as unknown as { transport: { client: object } }).transport.client);
  const rpc = new RpcClient(connection.channel);
  await new RpcTestClient(rpc).echo({ text: `cycle ${i}` });
  rpc.close();
  connection.close();
  if (i % 20 === 0) gc!();
}

const warmUp = Math.max(1, Math.floor(cycles / 10));
for (let i = 0; i < warmUp; i++) await cycle(i);
await collect();
const baseline = snapshot();
for (let i = warmUp; i < cycles; i++) await cycle(i);
await collect();
console.log(JSON.stringify({ cycles, baseline, end: snapshot(), collected }));
