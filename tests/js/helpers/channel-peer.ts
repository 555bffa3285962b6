/**
 * The server side of channel-worker.test.ts, run in a worker thread over the
 * test's SharedArrayBuffer. workerData.scenario picks the behaviour; the
 * worker posts one result object to its parent, then exits.
 */
import { parentPort, workerData } from "node:worker_threads";

import { Channel, FrameType, isShmrpcError, type Message } from "../../../js/src/index.js";
import { Offset, PeerState, RingOffset } from "../../../js/src/channel/layout.js";

export type Scenario =
  | "echo-async" // echo every message from an async iterator until the client closes
  | "echo-sync" // the same with receiveSync (sleeping with Atomics.wait)
  | "slow-consumer" // receive workerData.count messages slowly, report order and checksum
  | "close-after" // receive workerData.count messages, then close
  | "flood" // send workerData.count messages, report how they settled
  | "corrupt"; // publish an impossible tail, then try to send

export interface PeerData {
  sab: SharedArrayBuffer;
  scenario: Scenario;
  count?: number;
}

/** FNV-1a over a message's type and payload bytes, chained. */
export function checksum(hash: number, message: Message): number {
  const data = typeof message.data === "string" ? new TextEncoder().encode(message.data) : message.data;
  hash = Math.imul(hash ^ message.type, 16777619);
  for (const byte of data) hash = Math.imul(hash ^ byte, 16777619);
  return hash >>> 0;
}

/** The sequence number a test message starts with (see channel-worker.test.ts). */
export function sequenceOf(message: Message): number {
  if (typeof message.data === "string") return Number.parseInt(message.data, 10);
  return new DataView(message.data.buffer, message.data.byteOffset).getUint32(0, true);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function run({ sab, scenario, count = 0 }: PeerData): Promise<unknown> {
  const server = new Channel(sab, { side: "server" });
  switch (scenario) {
    case "echo-async": {
      let echoed = 0;
      for await (const message of server) {
        await server.send(message.type, message.data);
        echoed++;
      }
      server.close();
      return { echoed };
    }
    case "echo-sync": {
      let echoed = 0;
      for (;;) {
        let message: Message | undefined;
        try {
          message = server.receiveSync(); // no timeout: a message or ECLOSED
        } catch (error) {
          if (isShmrpcError(error, "ECLOSED")) break;
          throw error;
        }
        if (!message) throw new Error("receiveSync without a timeout returned nothing");
        await server.send(message.type, message.data);
        echoed++;
      }
      server.close();
      return { echoed };
    }
    case "slow-consumer": {
      let hash = 2166136261;
      let inOrder = true;
      for (let i = 0; i < count; i++) {
        const message = server.receiveSync(10_000);
        if (!message) return { error: `timed out waiting for message ${i}` };
        inOrder &&= sequenceOf(message) === i;
        hash = checksum(hash, message);
        if (i % 1000 === 999) sleep(2); // slower than the sender: its ring fills up
      }
      server.close();
      return { received: count, inOrder, checksum: hash, parks: server.stats.parks };
    }
    case "close-after": {
      for (let i = 0; i < count; i++) server.receiveSync(10_000);
      server.close();
      return { received: count };
    }
    case "flood": {
      const payload = new Uint8Array(1000);
      const results = await Promise.allSettled(
        Array.from({ length: count }, () => server.send(FrameType.BINARY, payload)),
      );
      const reasons = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
      server.close();
      return {
        fulfilled: results.length - reasons.length,
        closed: reasons.filter((reason) => isShmrpcError(reason, "ECLOSED")).length,
        other: reasons.filter((reason) => !isShmrpcError(reason, "ECLOSED")).map(String),
      };
    }
    case "corrupt": {
      const words = new Int32Array(sab);
      const tail = (Offset.RING1_CONTROL + RingOffset.TAIL) / 4;
      const consumerWait = (Offset.RING1_CONTROL + RingOffset.CONSUMER_WAIT) / 4;
      const capacity = words[Offset.CAPACITY_S2C / 4]!;
      Atomics.store(words, tail, capacity + 7); // more than a ring ahead of any head
      Atomics.exchange(words, consumerWait, 0);
      Atomics.notify(words, consumerWait);
      const clientState = Offset.CLIENT_STATE / 4;
      while (Atomics.load(words, clientState) !== PeerState.FAILED) Atomics.wait(words, clientState, PeerState.OPEN, 10);
      try {
        await server.send(FrameType.TEXT, "after the failure");
        return { sendError: "none" };
      } catch (error) {
        return { sendError: String(error), closed: isShmrpcError(error, "ECLOSED") };
      } finally {
        server.close();
      }
    }
  }
}

run(workerData as PeerData).then(
  (result) => parentPort?.postMessage(result),
  (error: unknown) => parentPort?.postMessage({ error: String(error) }),
);
