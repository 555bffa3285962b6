/**
 * The in-process transport (transport.ts): JavaScript creates the
 * SharedArrayBuffer, the addon runs a C service library on a native thread
 * over it, and the two sides wake each other only when the other is parked
 * (docs/PROTOCOL.md section 4): JavaScript rings a doorbell (futex_wake in
 * the addon), the native side wakes the event loop through uv_async. The
 * service thread returning is the peer's death.
 */
import type { Channel } from "../channel/channel.js";
import type { SpinStats } from "../channel/spin.js";
import { Offset, PeerState } from "../channel/layout.js";
import { createSegment } from "../channel/segment.js";
import { ShmrpcError } from "../errors.js";
import { loadAddon, type NativeServiceHost } from "../native/addon.js";
import { AddonDoorbell } from "../native/addon-doorbell.js";
import { setNativeCopy } from "../shared-copy.js";
import { openChannel, type Connection, type Transport, type TransportChannel } from "./transport.js";

export interface InProcessOptions {
  /** Path of the service's shared library (exports shmrpc_serve). */
  library: string;
  /** Bytes per ring, a power of two. Default 1 MiB. */
  capacity?: number;
  /**
   * Spin budget of both sides before parking, in microseconds: the service
   * thread's, receiveSync's, and the event loop's when it is about to block
   * while the channel waits for the service. Each adapts below this cap
   * (docs/PROTOCOL.md section 4): it spins while replies come within it and
   * parks at once when they do not. Default 50.
   */
  spinMicros?: number;
  /** Every budget stays at its cap instead of adapting. Default false. */
  spinFixed?: boolean;
  /**
   * The event loop's own budget, if it should differ (0: block at once and
   * let the service wake the loop). Spinning here saves the wake-up of a
   * sleeping loop (microseconds) on every reply that comes within the
   * budget, at the price of that much CPU each time the loop runs idle;
   * timers and I/O that come due meanwhile wait at most that long. Before
   * it, an awaited call spins 5 µs in a microtask (0 turns that off too).
   */
  loopSpinMicros?: number;
  /** The largest message JavaScript accepts. */
  maxMessageBytes?: number;
  /** A string handed to the service (shmrpc_host_t.config). */
  config?: string;
  /** Pin the service thread to this CPU (benchmarks). */
  cpu?: number;
  /**
   * How long close() waits for the service thread to return, in
   * milliseconds. Default 5000 (DEFAULT_CLOSE_GRACE_MS). A thread that has
   * not returned by then (a handler that blocks, a service that ignores the
   * close) is abandoned: close() rejects with ShmrpcError ETIMEDOUT saying
   * so, the thread runs on by itself, keeping the segment's memory and the
   * library loaded until it returns, and it no longer holds Node open.
   */
  closeGraceMs?: number;
}

/** How long close() waits for the service thread by default (InProcessOptions.closeGraceMs). */
export const DEFAULT_CLOSE_GRACE_MS = 5000;

/** The service thread and its segment, as a Transport. */
class InProcessTransport implements Transport {
  readonly side = "client";
  readonly segment: SharedArrayBuffer;
  readonly doorbell = new AddonDoorbell();
  private host: NativeServiceHost | undefined;
  private channel: TransportChannel | undefined;
  private exitListeners: Array<(abandoned?: ShmrpcError) => void> = [];
  private exitCode: number | undefined;
  /** Why close() gave up on the thread, once it did. */
  private abandoned: ShmrpcError | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** The service's state word: its thread leaves OPEN (closes, or the host marks it DEAD) before it returns. */
  private readonly serverState: Int32Array;

  constructor(private readonly options: InProcessOptions) {
    const capacity = options.capacity ?? 1 << 20;
    this.segment = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
    this.serverState = new Int32Array(this.segment, Offset.SERVER_STATE, 1);
  }

  /** Loads the library and starts its service thread over the attached segment. */
  start(channel: TransportChannel): void {
    const { ServiceHost, copyBytes } = loadAddon();
    setNativeCopy(copyBytes);
    const { library, spinMicros, spinFixed, loopSpinMicros, config, cpu } = this.options;
    this.host = new ServiceHost(new Uint8Array(this.segment), library, () => this.onWake(), {
      ...(spinMicros !== undefined && { spinMicros }),
      ...(spinFixed !== undefined && { spinFixed }),
      ...(loopSpinMicros !== undefined && { loopSpinMicros }),
      ...(config !== undefined && { config }),
      ...(cpu !== undefined && { cpu }),
    });
    this.channel = channel;
    this.doorbell.attach(this.host);
    this.doorbell.keepAlive(false);
  }

  get running(): boolean {
    return this.host?.running ?? false;
  }

  get loopWakeUps(): number {
    return this.host?.loopWakeUps ?? 0;
  }

  get loopSpinStats(): SpinStats | undefined {
    return this.host?.loopSpinStats;
  }

  /** Waits for the service thread within the grace period (the caller closed the channel). */
  async close(): Promise<void> {
    await this.closeWithin(this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
  }

  /**
   * Resolves with the exit code once the service thread has returned; if it
   * has not within `graceMs`, abandons it and rejects with ETIMEDOUT.
   */
  closeWithin(graceMs: number): Promise<number> {
    const exited = this.exited();
    if (this.exitCode === undefined && this.abandoned === undefined && this.graceTimer === undefined) {
      this.graceTimer = setTimeout(() => this.abandon(graceMs), graceMs);
    }
    return exited;
  }

  /** Resolves with the exit code once the service thread has returned. */
  exited(): Promise<number> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    if (this.abandoned) return Promise.reject(this.abandoned);
    if (!this.running) return Promise.resolve(this.reap());
    this.doorbell.holdForExit(+1);
    return new Promise((resolve, reject) => {
      this.exitListeners.push((abandoned) => {
        this.doorbell.holdForExit(-1);
        if (abandoned) reject(abandoned);
        else resolve(this.reap());
      });
    });
  }

  /** The thread returned: its exit code, and the addon lets go of everything. */
  private reap(): number {
    if (this.exitCode === undefined) {
      this.exitCode = this.host ? this.host.join() : 0;
      this.release();
    }
    return this.exitCode;
  }

  /**
   * Drops every native hold on JavaScript (the wake callback, the loop
   * handles), so that the service is collected once unreachable.
   */
  private release(): void {
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.host?.release();
    this.channel = undefined;
  }

  /** The grace period passed: give up on the thread, settle every waiter. */
  private abandon(graceMs: number): void {
    this.graceTimer = undefined;
    if (this.exitCode !== undefined) return;
    if (!this.running) {
      this.notifyExit(undefined); // it returned just now; its wake-up is on the way
      return;
    }
    this.abandoned = new ShmrpcError(
      "ETIMEDOUT",
      `the service thread (${this.options.library}) did not return within ${graceMs} ms of close(): abandoned; ` +
        "it runs on by itself, keeping its segment and library in memory until it returns, and no longer holds Node open",
    );
    this.release();
    this.notifyExit(this.abandoned);
  }

  private notifyExit(abandoned: ShmrpcError | undefined): void {
    const listeners = this.exitListeners;
    this.exitListeners = [];
    for (const listener of listeners) listener(abandoned);
  }

  private onWake(): void {
    this.channel?.wake();
    // A reply's wake-up asks the addon nothing: only once the service left
    // OPEN may its thread have returned.
    if (Atomics.load(this.serverState, 0) <= PeerState.OPEN || this.running) return;
    this.channel?.peerDied("the service thread returned");
    if (this.exitListeners.length > 0) this.notifyExit(undefined);
  }
}

/** A C service running on a native thread of this process. */
export class InProcessService implements Connection {
  readonly channel: Channel;
  private readonly transport: InProcessTransport;
  private readonly graceMs: number;

  /** Loads the library and starts its service thread. */
  constructor(options: InProcessOptions) {
    if (typeof options?.library !== "string") {
      throw new TypeError("InProcessService: options.library must be a path string");
    }
    if (options.spinFixed !== undefined && typeof options.spinFixed !== "boolean") {
      throw new TypeError("InProcessService: options.spinFixed must be a boolean");
    }
    for (const name of ["spinMicros", "loopSpinMicros"] as const) {
      const value = options[name];
      if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
        throw new TypeError(`InProcessService: options.${name} must be a number of microseconds >= 0`);
      }
    }
    const grace = options.closeGraceMs;
    if (grace !== undefined && (typeof grace !== "number" || !(grace >= 0) || grace > 2 ** 31 - 1)) {
      throw new TypeError("InProcessService: options.closeGraceMs must be a number of milliseconds in [0, 2^31 - 1]");
    }
    this.graceMs = grace ?? DEFAULT_CLOSE_GRACE_MS;
    this.transport = new InProcessTransport(options);
    this.channel = openChannel(this.transport, {
      ...(options.spinMicros !== undefined && { spinMicros: options.spinMicros }),
      ...(options.spinFixed !== undefined && { spinFixed: options.spinFixed }),
      ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
    });
  }

  /** True while the service thread runs. */
  get running(): boolean {
    return this.transport.running;
  }

  /**
   * How often the service had to wake the event loop because JavaScript
   * slept in it waiting for a message (see loopSpinMicros).
   */
  get loopWakeUps(): number {
    return this.transport.loopWakeUps;
  }

  /**
   * The event loop's spin for replies (loopSpinMicros): its adaptive budget
   * now, and how many of its waits ended while spinning or parked.
   */
  get loopSpinStats(): SpinStats | undefined {
    return this.transport.loopSpinStats;
  }

  /**
   * Closes the channel (pending calls and sends fail at once) and resolves
   * with the service's exit code (0 after an orderly shutdown, a negative
   * SHMRPC_E* code otherwise) once its thread has returned. Completes
   * within options.closeGraceMs whatever the service does or wrote into
   * the segment: a thread that has not returned by then is abandoned and
   * close() rejects with ShmrpcError ETIMEDOUT (so does every later
   * close() and exited()).
   */
  close(): Promise<number> {
    this.channel.close();
    return this.transport.closeWithin(this.graceMs);
  }

  /**
   * Resolves with the exit code once the service thread has returned (no
   * time limit before close(); rejects with ETIMEDOUT once close()
   * abandoned the thread).
   */
  exited(): Promise<number> {
    return this.transport.exited();
  }
}
