/**
 * A Transport to a JavaScript peer in a worker thread (tests; the shape a
 * browser Worker transport takes): the segment is a region this side
 * formats inside a larger SharedArrayBuffer, the doorbell is Atomics, and
 * the worker's exit is the peer's death.
 */
import { Worker } from "node:worker_threads";

import { AtomicsDoorbell, formatSegment, segmentSize } from "../../../js/src/index.js";
import type { Transport, TransportChannel } from "../../../js/src/transport/transport.js";

/** What the worker script receives as workerData. */
export interface WorkerPeerData {
  region: Uint8Array;
  /** What the peer does: see helpers/worker-peer.ts. */
  behaviour: "echo" | "exit-on-hang";
}

export class WorkerTransport implements Transport {
  readonly side = "client";
  readonly segment: Uint8Array;
  readonly doorbell: AtomicsDoorbell;
  worker: Worker | undefined;
  readonly errors: unknown[] = [];

  constructor(
    private readonly behaviour: WorkerPeerData["behaviour"],
    capacity = 4096,
    offset = 256,
  ) {
    const buffer = new SharedArrayBuffer(offset + segmentSize(capacity, capacity));
    this.segment = formatSegment(buffer, offset, { capacityC2S: capacity, capacityS2C: capacity });
    this.doorbell = new AtomicsDoorbell(this.segment);
  }

  start(channel: TransportChannel): void {
    const workerData: WorkerPeerData = { region: this.segment, behaviour: this.behaviour };
    this.worker = new Worker(new URL("./worker-peer.js", import.meta.url), { workerData });
    this.worker.on("error", (error) => this.errors.push(error));
    this.worker.on("exit", (code) => channel.peerDied(`the worker exited with code ${code}`));
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
