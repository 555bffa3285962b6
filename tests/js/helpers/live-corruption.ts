/**
 * Live corruption (issue 18): scribbles over a live segment (the header,
 * the state words, the ring indices, the wait words, the ring data) while
 * RPC calls or channel messages flow between JavaScript and a C service on
 * the addon's thread, then closes the service. Every trial is seeded and
 * replayable. A trial passes when the process is still alive, close()
 * completes (resolves, or rejects after its grace period) and every call,
 * send and stream that was started has settled shortly after.
 *
 *   node build/ts/tests/js/helpers/live-corruption.js [trials] [firstSeed]
 *
 * runs `trials` (default 300) trials with seeds firstSeed, firstSeed+1, …
 * (default 1) and prints one JSON line: counts, and the failing seeds with
 * what went wrong. The exit code is 0 only if every trial passed. Before
 * each trial it writes "seed N" to stderr, so a crash names its seed.
 * $SHMRPC_SERVICES_DIR selects another build of the C services (an
 * AddressSanitizer build, docs/HOSTILE-PEERS.md says how).
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FrameType } from "../../../js/src/index.js";
import { SEGMENT_HEADER_BYTES } from "../../../js/src/channel/layout.js";
import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";
import { RpcClient } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";
import { seededRandom } from "./seeded.js";

const services = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");
const rpcLibrary = path.join(services, "libshmrpc_rpc_test.so");
const channelLibrary = path.join(services, "libshmrpc_channel_test.so");
/** close() gives the service this long; a trial fails if close() itself takes longer than CLOSE_LIMIT_MS. */
const GRACE_MS = 3000;
const CLOSE_LIMIT_MS = GRACE_MS + 2000;
/** After close(), everything started must settle within this. */
const SETTLE_LIMIT_MS = 2000;
const MAX_IN_FLIGHT = 48;

export interface TrialResult {
  seed: number;
  mode: "rpc" | "channel";
  scribbles: number;
  started: number;
  /** Started operations that had not settled SETTLE_LIMIT_MS after close(). */
  unsettled: number;
  /** "exit N" (the service returned N), "abandoned" (ETIMEDOUT after the grace period), or what else happened. */
  close: string;
  closeMs: number;
  problem?: string;
}

/** One seeded trial. */
export async function trial(seed: number): Promise<TrialResult> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const mode = random() < 0.65 ? "rpc" : "channel";
  const capacity = pick([256, 4096, 65536]);
  const service = new InProcessService({
    library: mode === "rpc" ? rpcLibrary : channelLibrary,
    capacity,
    spinMicros: pick([0, 0, 20]),
    closeGraceMs: GRACE_MS,
  });
  const segment = (service as unknown as { transport: { segment: SharedArrayBuffer } }).transport.segment;
  const words = new Int32Array(segment);

  let started = 0;
  let settled = 0;
  const track = (operation: Promise<unknown>): void => {
    started++;
    operation.then(
      () => settled++,
      () => settled++,
    );
  };
  const inFlight = () => started - settled;

  // --- traffic --------------------------------------------------------------
  const rpc = mode === "rpc" ? new RpcClient(service.channel) : undefined;
  const client = rpc ? new RpcTestClient(rpc) : undefined;
  const payload = (max: number) => new Uint8Array(Math.floor(random() * max)).fill(seed & 0xff);
  const issue = (): void => {
    if (client) {
      const choice = random();
      const timeoutMs = random() < 0.4 ? undefined : 1 + Math.floor(random() * 40);
      const options = timeoutMs === undefined ? {} : { timeoutMs };
      if (choice < 0.45) {
        track(client.echo({ text: "x", payload: payload(capacity * 2) }, options));
      } else if (choice < 0.6) {
        track(client.echoDeferred({ text: "d", delayMs: Math.floor(random() * 5) }, options));
      } else if (choice < 0.7) {
        const abort = new AbortController();
        setTimeout(() => abort.abort(), Math.floor(random() * 10));
        track(client.hang({ text: "h" }, { signal: abort.signal }));
      } else if (choice < 0.9) {
        const stream = pick([client.count, client.countDeferred]).call(client, { count: 1 + Math.floor(random() * 40), payloadBytes: Math.floor(random() * 300) }, options);
        track(
          (async () => {
            for await (const _ of stream);
          })(),
        );
      } else {
        track(client.getStats({}, options));
      }
    } else {
      const type = pick([FrameType.TEXT, FrameType.BINARY, FrameType.COMMAND]);
      const data = payload(capacity * 2);
      track(service.channel.send(type, type === FrameType.TEXT ? "t".repeat(data.length) : data));
    }
  };
  if (mode === "channel") {
    track(
      (async () => {
        for await (const _ of service.channel);
      })(),
    );
  }

  // --- scribbles ------------------------------------------------------------
  const total = words.length;
  const dataWords = total - SEGMENT_HEADER_BYTES / 4;
  const targets = [
    () => Math.floor(random() * 16), // the immutable header
    () => 16 + Math.floor(random() * 4), // state words and message limits
    () => pick([32, 48, 64, 80]), // tail and head of both rings
    () => pick([33, 49, 65, 81]), // the four wait words
    () => SEGMENT_HEADER_BYTES / 4 + Math.floor(random() * dataWords), // ring data
  ];
  let scribbles = 0;
  const scribble = (): void => {
    const index = pick(targets)();
    const old = Atomics.load(words, index);
    const value = pick([
      () => (random() * 2 ** 32) | 0,
      () => 0,
      () => pick([1, 2, 3, 4, -1]),
      () => (old + 1 + Math.floor(random() * 16)) | 0,
      () => (old - 1 - Math.floor(random() * 16)) | 0,
      () => (old + capacity) | 0,
      () => (old - capacity) | 0,
      () => (old ^ 0x80000000) | 0,
    ])();
    Atomics.store(words, index, value);
    scribbles++;
  };

  // --- the run --------------------------------------------------------------
  const runMs = 10 + Math.floor(random() * 40);
  const firstScribbleMs = Math.floor(random() * runMs);
  const end = performance.now() + runMs;
  const issuing = (async () => {
    while (performance.now() < end) {
      while (inFlight() < MAX_IN_FLIGHT && performance.now() < end && random() < 0.9) issue();
      await sleep(random() < 0.5 ? 0 : 1);
    }
  })();
  const scribbling = (async () => {
    await sleep(firstScribbleMs);
    do {
      const burst = 1 + Math.floor(random() * 3);
      for (let i = 0; i < burst; i++) scribble();
      await sleep(Math.floor(random() * 4));
    } while (performance.now() < end);
  })();
  await Promise.all([issuing, scribbling]);

  const closeStart = performance.now();
  let close: string;
  try {
    close = `exit ${await Promise.race([service.close(), sleep(CLOSE_LIMIT_MS).then(() => Promise.reject(new Error("close() did not complete")))])}`;
  } catch (error) {
    const code = (error as { code?: string }).code;
    close = code === "ETIMEDOUT" ? "abandoned" : String(error);
  }
  const closeMs = Math.round(performance.now() - closeStart);
  const settleBy = performance.now() + SETTLE_LIMIT_MS;
  while (inFlight() > 0 && performance.now() < settleBy) await sleep(5);
  const result: TrialResult = { seed, mode, scribbles, started, unsettled: inFlight(), close, closeMs };
  if (result.unsettled > 0) result.problem = `${result.unsettled} of ${started} operations never settled`;
  else if (!close.startsWith("exit") && close !== "abandoned") result.problem = `close: ${close}`;
  return result;
}

/** Runs trials seeds first..first+count-1; the summary. */
export async function run(count: number, first: number): Promise<Record<string, unknown>> {
  const failures: TrialResult[] = [];
  const abandoned: number[] = [];
  let scribbles = 0;
  let started = 0;
  let slowestCloseMs = 0;
  const modes = { rpc: 0, channel: 0 };
  const t0 = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    process.stderr.write(`seed ${seed}\n`);
    const result = await trial(seed);
    modes[result.mode]++;
    scribbles += result.scribbles;
    started += result.started;
    slowestCloseMs = Math.max(slowestCloseMs, result.closeMs);
    if (result.close === "abandoned") abandoned.push(seed);
    if (result.problem) failures.push(result);
  }
  return {
    trials: count,
    firstSeed: first,
    modes,
    scribbles,
    operations: started,
    abandoned,
    slowestCloseMs,
    failures,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const [count = 300, first = 1] = process.argv.slice(2).map(Number);
  const summary = await run(count, first);
  console.log(JSON.stringify(summary));
  process.exitCode = (summary.failures as unknown[]).length === 0 ? 0 : 1;
}
