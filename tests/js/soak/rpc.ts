/**
 * The soak run's RPC part (tests/js/soak/main.ts): calls of every kind to
 * the RPC test service with random deadlines and cancellations; counts
 * calls that never settled or settled twice, crossed replies, stream gaps,
 * and the calls the server still holds at the end.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";
import { RpcClient, Status, isRpcError } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";
import { seededRandom } from "../helpers/seeded.js";
import { MemoryLog } from "./memory-log.js";

const services = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");

export async function soakRpc(seconds: number, seed: number): Promise<Record<string, unknown>> {
  const random = seededRandom(seed);
  const service = new InProcessService({ library: path.join(services, "libshmrpc_rpc_test.so") });
  const rpc = new RpcClient(service.channel);
  const client = new RpcTestClient(rpc);
  const memory = new MemoryLog();
  const counts = { started: 0, settled: 0, settledTwice: 0, ok: 0, deadline: 0, cancelled: 0, otherErrors: 0, crossed: 0, streamGaps: 0, streamItems: 0 };
  const otherErrors = new Map<string, number>();
  let inFlight = 0;
  const MAX_IN_FLIGHT = 256;

  const run = (work: (signal: AbortSignal | undefined, timeoutMs: number | undefined) => Promise<void>): void => {
    counts.started++;
    inFlight++;
    const r = random();
    const timeoutMs = r < 0.3 ? 1 + Math.floor(random() * 20) : undefined;
    let signal: AbortSignal | undefined;
    if (random() < 0.2) {
      const abort = new AbortController();
      signal = abort.signal;
      setTimeout(() => abort.abort(), Math.floor(random() * 10));
    }
    let settledOnce = false;
    const settle = (): void => {
      if (settledOnce) {
        counts.settledTwice++;
        return;
      }
      settledOnce = true;
      counts.settled++;
      inFlight--;
    };
    work(signal, timeoutMs).then(
      () => {
        counts.ok++;
        settle();
      },
      (error: unknown) => {
        if (isRpcError(error, Status.DEADLINE_EXCEEDED)) counts.deadline++;
        else if (isRpcError(error, Status.CANCELLED)) counts.cancelled++;
        else {
          counts.otherErrors++;
          const key = isRpcError(error) ? `${error.code}: ${error.message.slice(0, 80)}` : String(error).slice(0, 80);
          otherErrors.set(key, (otherErrors.get(key) ?? 0) + 1);
        }
        settle();
      },
    );
  };
  const issue = (n: number): void => {
    const choice = random();
    const options = (signal: AbortSignal | undefined, timeoutMs: number | undefined) => ({
      ...(signal && { signal }),
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
    if (choice < 0.5) {
      const payload = new Uint8Array(Math.floor(random() * 4096)).fill(n & 0xff);
      run(async (signal, timeoutMs) => {
        const reply = await client.echo({ text: `call ${n}`, payload }, options(signal, timeoutMs));
        if (reply.text !== `call ${n}` || reply.payload.length !== payload.length || (payload.length > 0 && reply.payload[0] !== (n & 0xff))) counts.crossed++;
      });
    } else if (choice < 0.7) {
      run(async (signal, timeoutMs) => {
        const reply = await client.echoDeferred({ text: `deferred ${n}`, delayMs: Math.floor(random() * 3) }, options(signal, timeoutMs));
        if (reply.text !== `deferred ${n}`) counts.crossed++;
      });
    } else if (choice < 0.92) {
      const count = 1 + Math.floor(random() * 200);
      run(async (signal, timeoutMs) => {
        let next = 0;
        for await (const item of client.count({ count, payloadBytes: Math.floor(random() * 256) }, options(signal, timeoutMs))) {
          if (item.index !== next || (item.payload.length > 0 && item.payload[0] !== (next & 0xff))) counts.streamGaps++;
          next = item.index + 1;
          counts.streamItems++;
        }
        if (next !== count) counts.streamGaps++;
      });
    } else {
      run(async (signal, timeoutMs) => {
        // Only a deadline or a cancel ends a hang: give it one if it has neither.
        await client.hang({ text: "hang" }, signal || timeoutMs !== undefined ? options(signal, timeoutMs) : { timeoutMs: 5 });
      });
    }
  };

  const started = performance.now();
  const end = started + seconds * 1000;
  let n = 0;
  let nextSample = started;
  while (performance.now() < end) {
    while (inFlight < MAX_IN_FLIGHT) issue(n++);
    await sleep(random() < 0.5 ? 0 : 1);
    if (performance.now() >= nextSample) {
      memory.sample(`${Math.round((performance.now() - started) / 1000)} s`);
      if (memory.samples.length > 1) console.error(`rpc: ${counts.settled} calls settled, ${inFlight} in flight, rss ${memory.samples.at(-1)!.rssMiB} MiB`);
      nextSample += Math.max(1000, (seconds * 1000) / 60);
    }
  }
  // Quiesce: every call must settle on its own (deadlines, cancels, replies).
  const quiesceBy = performance.now() + 30000;
  while (inFlight > 0 && performance.now() < quiesceBy) await sleep(10);
  memory.sample("end");
  const stats = await client.getStats({}, { timeoutMs: 5000 });
  rpc.close();
  const exit = await service.close();
  return {
    seconds,
    ...counts,
    unsettled: counts.started - counts.settled,
    otherErrorKinds: Object.fromEntries(otherErrors),
    serverCallsInFlight: stats.callsInFlight,
    serverCallsAlive: stats.callsAlive,
    lateReplies: rpc.stats.lateReplies,
    serviceExit: exit,
    memory: memory.flat(),
    samples: memory.samples,
  };
}
