/**
 * The in-process transport (transport.ts): JavaScript creates the
 * SharedArrayBuffer, the addon runs a C service library on a native thread
 * over it, and the two sides wake each other only when the other is parked
 * (docs/PROTOCOL.md section 4): JavaScript rings a doorbell (futex_wake in
 * the addon), the native side wakes the event loop through uv_async. The
 * service thread returning is the peer's death.
 */
import type { Channel } from "../channel/channel.js";
import type { Doorbell } from "../channel/doorbell.js";
import type { SpinStats } from "../channel/spin.js";
import { Offset, PeerState } from "../channel/layout.js";
import { createSegment } from "../channel/segment.js";
import { loadAddon, type NativeServiceHost } from "../native/addon.js";
import { LoopHold } from "../native/loop-hold.js";
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
   * timers and I/O that come due meanwhile wait at most that long.
   */
  loopSpinMicros?: number;
  /** The largest message JavaScript accepts. */
  maxMessageBytes?: number;
  /** A string handed to the service (shmrpc_host_t.config). */
  config?: string;
  /** Pin the service thread to this CPU (benchmarks). */
  cpu?: number;
}

/** Doorbell over the addon; holds the loop open for the channel and for close(). */
class NativeDoorbell implements Doorbell {
  private host: NativeServiceHost | undefined;
  private hold: LoopHold | undefined;
  private channelActive = false;
  private exitWaiters = 0;

  /**
   * The addon's LoopSpin looks at the ring before the loop blocks. Read
   * once: it only stops when the host is torn down with its environment.
   */
  watchesBeforeBlocking = false;

  attach(host: NativeServiceHost): void {
    this.host = host;
    this.hold = new LoopHold(host);
    this.watchesBeforeBlocking = host.loopSpins;
  }
  ring(waitWordOffset: number): void {
    this.host?.ring(waitWordOffset);
  }
  wait(waitWordOffset: number, expected: number, timeoutMs: number): boolean {
    return this.host ? this.host.wait(waitWordOffset, expected, timeoutMs) : false;
  }
  keepAlive(active: boolean): void {
    this.channelActive = active;
    this.update();
  }
  holdForExit(delta: number): void {
    this.exitWaiters += delta;
    this.update();
  }
  private update(): void {
    this.hold?.set(this.channelActive || this.exitWaiters > 0);
  }
}

/** The service thread and its segment, as a Transport. */
class InProcessTransport implements Transport {
  readonly side = "client";
  readonly segment: SharedArrayBuffer;
  readonly doorbell = new NativeDoorbell();
  private host: NativeServiceHost | undefined;
  private channel: TransportChannel | undefined;
  private exitListeners: Array<() => void> = [];
  private exitCode: number | undefined;
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

  /** Resolves once the service thread has returned (the caller closed the channel). */
  async close(): Promise<void> {
    await this.exited();
  }

  /** Resolves with the exit code once the service thread has returned. */
  exited(): Promise<number> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    if (!this.running) return Promise.resolve(this.reap());
    this.doorbell.holdForExit(+1);
    return new Promise((resolve) => {
      this.exitListeners.push(() => {
        this.doorbell.holdForExit(-1);
        resolve(this.reap());
      });
    });
  }

  private reap(): number {
    this.exitCode ??= this.host ? this.host.join() : 0;
    return this.exitCode;
  }

  private onWake(): void {
    this.channel?.wake();
    // A reply's wake-up asks the addon nothing: only once the service left
    // OPEN may its thread have returned.
    if (Atomics.load(this.serverState, 0) <= PeerState.OPEN || this.running) return;
    this.channel?.peerDied("the service thread returned");
    if (this.exitListeners.length > 0) {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const listener of listeners) listener();
    }
  }
}

/** A C service running on a native thread of this process. */
export class InProcessService implements Connection {
  readonly channel: Channel;
  private readonly transport: InProcessTransport;

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
   * Closes the channel and resolves with the service's exit code (0 after an
   * orderly shutdown, a negative SHMRPC_E* code otherwise) once its thread
   * has returned.
   */
  close(): Promise<number> {
    this.channel.close();
    return this.transport.exited();
  }

  /** Resolves with the exit code once the service thread has returned. */
  exited(): Promise<number> {
    return this.transport.exited();
  }
}
