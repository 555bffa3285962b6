/**
 * Creates and closes in-process services in a loop and reports what stayed
 * behind (tests/js/service-leak.test.ts; run with --expose-gc):
 *
 *   node --expose-gc service-cycles.js <cycles> <ringBytes> <messagesPerCycle>
 *
 * Each cycle starts the channel test service (echo), sends and receives
 * messagesPerCycle messages, and closes it. After a warm-up of a tenth of
 * the cycles it collects garbage and takes a baseline; at the end it
 * collects again and prints one JSON line: RSS, threads and descriptors at
 * the baseline and at the end, and how many services and addon wrappers
 * were collected (FinalizationRegistry).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FrameType } from "../../../js/src/index.js";
import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";

const library = path.join(packageRoot(), "build/cmake/services/libshmrpc_channel_test.so");
const [cycles = 1000, ring = 4096, messages = 0] = process.argv.slice(2).map(Number);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
// As an application's own garbage would, now and then: what is collectable
// goes, and the allocator reuses its memory for the next segments (large
// segments more often, or the allocator's high-water mark is what we see).
const gcEvery = ring >= 1 << 20 ? 4 : 20;

let collected = 0;
let hostsCollected = 0;
const registry = new FinalizationRegistry<string>((what) => {
  if (what === "host") hostsCollected++;
  else collected++;
});

/** Collects until nothing more goes (native finalizers run in setImmediate). */
async function collect(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    gc!();
    await sleep(20);
  }
}

function snapshot(): { rssMiB: number; threads: number; fds: number } {
  const threads = Number(/Threads:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
  return {
    rssMiB: Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10,
    threads,
    fds: readdirSync("/proc/self/fd").length,
  };
}

async function cycle(i: number): Promise<void> {
  const service = new InProcessService({ library, capacity: ring, spinMicros: 0 });
  registry.register(service, "service");
  // The addon's wrapper, which used to stay reachable from a native root.
  registry.register((service as unknown as { transport: { host: object } }).transport.host, "host");
  if (messages > 0) {
    const replies = service.channel[Symbol.asyncIterator]();
    const payload = new Uint8Array(Math.min(ring >> 1, 64 << 10)).fill(i & 0xff);
    for (let m = 0; m < messages; m++) {
      await service.channel.send(FrameType.BINARY, payload);
      await replies.next();
    }
  }
  const code = await service.close();
  if (code !== 0) throw new Error(`cycle ${i}: the service exited with ${code}`);
}

const warmUp = Math.max(1, Math.floor(cycles / 10));
for (let i = 0; i < warmUp; i++) {
  await cycle(i);
  if (i % gcEvery === 0) gc();
}
await collect();
const baseline = snapshot();
for (let i = warmUp; i < cycles; i++) {
  await cycle(i);
  if (i % gcEvery === 0) gc();
}
await collect();
const end = snapshot();
console.log(JSON.stringify({ cycles, measured: cycles - warmUp, baseline, end, collected, hostsCollected }));
