/**
 * Runs one close() scenario of tests/js/close-bounded.test.ts in a process
 * of its own, so that a scenario that hangs is killed by the test's timer
 * instead of hanging the test run, and so that the process ending by itself
 * is part of what is checked (a service thread left behind must not keep
 * Node alive). Prints one JSON line with what it saw, then returns: the
 * process must exit on its own.
 *
 *   node close-scenarios.js <scenario>
 *
 * Scenarios (the services are tests/services/*.c):
 *   wait-word   the service's consumer wait word (offset 132) is cleared
 *               while the service is parked on it, then close();
 *   wedged-ring the server-to-client head is moved back by one capacity
 *               (a "full" ring), a call without a deadline is made, then
 *               close();
 *   stuck       the service never returns; close() with a 300 ms grace;
 *   stuck-gc    the service returns 1.5 s after an abandoning close(),
 *               after everything JavaScript held was collected (run with
 *               --expose-gc).
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FrameType, isShmrpcError } from "../../../js/src/index.js";
import { Offset, RingOffset, SEGMENT_HEADER_BYTES } from "../../../js/src/channel/layout.js";
import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";
import { RpcClient, isRpcError } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";

const services = path.join(packageRoot(), "build/cmake/services");
const channelService = path.join(services, "libshmrpc_channel_test.so");
const rpcService = path.join(services, "libshmrpc_rpc_test.so");
const CAPACITY = 4096;

/** Waits until `done()` holds, polling; throws after `ms`. */
async function until(what: string, done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** How a promise settled, and after how many milliseconds. */
async function outcome(promise: Promise<unknown>, since: number): Promise<{ ms: number; value?: unknown; error?: string }> {
  try {
    const value = await promise;
    return { ms: Math.round(performance.now() - since), value };
  } catch (error) {
    const code = isShmrpcError(error) ? error.code : isRpcError(error) ? `rpc ${error.code}` : String(error);
    return { ms: Math.round(performance.now() - since), error: code };
  }
}

/** The header and control blocks of the service's segment as 32-bit words (the transport keeps it private). */
function segmentWords(service: InProcessService): Int32Array {
  const { segment } = (service as unknown as { transport: { segment: SharedArrayBuffer } }).transport;
  return new Int32Array(segment, 0, SEGMENT_HEADER_BYTES / 4);
}

const scenarios: Record<string, () => Promise<unknown>> = {
  async "wait-word"() {
    const service = new InProcessService({ library: channelService, capacity: CAPACITY, spinMicros: 0 });
    const w = segmentWords(service);
    const consumerWait = (Offset.RING0_CONTROL + RingOffset.CONSUMER_WAIT) / 4; // byte 132
    await until("the service to park", () => Atomics.load(w, consumerWait) === 1);
    Atomics.store(w, consumerWait, 0); // the service sleeps on, unannounced
    const replies = service.channel[Symbol.asyncIterator]();
    const next = replies.next();
    const start = performance.now();
    const closed = await outcome(service.close(), start);
    return { close: closed, receive: await outcome(next, start), running: service.running };
  },

  async "wedged-ring"() {
    const service = new InProcessService({ library: rpcService, capacity: CAPACITY, spinMicros: 0 });
    const rpc = new RpcClient(service.channel);
    const client = new RpcTestClient(rpc);
    await client.echo({ text: "warm-up" });
    const w = segmentWords(service);
    const head = (Offset.RING1_CONTROL + RingOffset.HEAD) / 4;
    Atomics.store(w, head, (Atomics.load(w, head) - CAPACITY) | 0); // looks full to the service
    const start = performance.now();
    const call = outcome(client.echo({ text: "no deadline" }), start);
    await sleep(200);
    const stalled = rpc.callsInFlight;
    const closed = await outcome(service.close(), performance.now());
    return { stalledCalls: stalled, call: await call, close: closed, running: service.running };
  },

  async stuck() {
    const service = new InProcessService({ library: channelService, config: "stuck:0", closeGraceMs: 300 });
    await service.channel.send(FrameType.TEXT, "take this and never return");
    const next = service.channel[Symbol.asyncIterator]().next();
    await sleep(50);
    const start = performance.now();
    const closed = await outcome(service.close(), start);
    const again = await outcome(service.close(), performance.now());
    return { close: closed, closeAgain: again, receive: await outcome(next, start), exited: await outcome(service.exited(), performance.now()) };
  },

  async "stuck-gc"() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error("run with --expose-gc");
    let service: InProcessService | undefined = new InProcessService({ library: channelService, config: "stuck:1500", closeGraceMs: 100 });
    await service.channel.send(FrameType.TEXT, "take this and return late");
    await sleep(50);
    const closed = await outcome(service.close(), performance.now());
    service = undefined;
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(10);
    }
    // The thread wakes up now, destroys its channel over the segment and
    // returns: its memory must still be there.
    await sleep(2500);
    return { close: closed, survived: true };
  },
};

const name = process.argv[2] ?? "";
const scenario = scenarios[name];
if (!scenario) {
  console.error(`unknown scenario ${JSON.stringify(name)}; one of ${Object.keys(scenarios).join(", ")}`);
  process.exitCode = 2;
} else {
  console.log(JSON.stringify(await scenario()));
}
