/**
 * The in-process transport: JavaScript creates the SharedArrayBuffer, the
 * addon runs a C service library on a native thread over it, and the two
 * sides wake each other only when the other is parked (docs/PROTOCOL.md
 * section 4): JavaScript rings a doorbell (futex_wake in the addon), the
 * native side wakes the event loop through uv_async.
 */
import { Channel } from "../channel/channel.js";
import type { Doorbell } from "../channel/doorbell.js";
import { createSegment } from "../channel/segment.js";
import { setNativeCopy } from "../shared-copy.js";
import { loadAddon, type NativeServiceHost } from "../native/addon.js";

export interface InProcessOptions {
  /** Path of the service's shared library (exports shmrpc_serve). */
  library: string;
  /** Bytes per ring, a power of two. Default 1 MiB. */
  capacity?: number;
  /**
   * Spin budget of both sides before parking, in microseconds: the service
   * thread's, receiveSync's, and the event loop's when it is about to block
   * while the channel waits for the service. Default 50.
   */
  spinMicros?: number;
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
  private channelActive = false;
  private exitWaiters = 0;

  /**
   * The addon's LoopSpin looks at the ring before the loop blocks. Read
   * once: it only stops when the host is torn down with its environment.
   */
  watchesBeforeBlocking = false;

  attach(host: NativeServiceHost): void {
    this.host = host;
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
    this.host?.keepAlive(this.channelActive || this.exitWaiters > 0);
  }
}

/** A C service running on a native thread of this process. */
export class InProcessService {
  readonly channel: Channel;
  private readonly host: NativeServiceHost;
  private readonly doorbell: NativeDoorbell;
  private exitListeners: Array<() => void> = [];
  private exitCode: number | undefined;

  /** Loads the library and starts its service thread. */
  constructor(options: InProcessOptions) {
    if (typeof options?.library !== "string") {
      throw new TypeError("InProcessService: options.library must be a path string");
    }
    for (const name of ["spinMicros", "loopSpinMicros"] as const) {
      const value = options[name];
      if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
        throw new TypeError(`InProcessService: options.${name} must be a number of microseconds >= 0`);
      }
    }
    const capacity = options.capacity ?? 1 << 20;
    const segment = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
    this.doorbell = new NativeDoorbell();
    this.channel = new Channel(segment, {
      side: "client",
      doorbell: this.doorbell,
      ...(options.spinMicros !== undefined && { spinMicros: options.spinMicros }),
      ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
    });
    const { ServiceHost, copyBytes } = loadAddon();
    setNativeCopy(copyBytes);
    try {
      this.host = new ServiceHost(new Uint8Array(segment), options.library, () => this.onWake(), {
        ...(options.spinMicros !== undefined && { spinMicros: options.spinMicros }),
        ...(options.loopSpinMicros !== undefined && { loopSpinMicros: options.loopSpinMicros }),
        ...(options.config !== undefined && { config: options.config }),
        ...(options.cpu !== undefined && { cpu: options.cpu }),
      });
    } catch (error) {
      this.channel.close();
      throw error;
    }
    this.doorbell.attach(this.host);
    this.doorbell.keepAlive(false);
  }

  /** True while the service thread runs. */
  get running(): boolean {
    return this.host.running;
  }

  /**
   * How often the service had to wake the event loop because JavaScript
   * slept in it waiting for a message (see loopSpinMicros).
   */
  get loopWakeUps(): number {
    return this.host.loopWakeUps;
  }

  /**
   * Closes the channel and resolves with the service's exit code (0 after an
   * orderly shutdown, a negative SHMRPC_E* code otherwise) once its thread
   * has returned.
   */
  close(): Promise<number> {
    this.channel.close();
    return this.exited();
  }

  /** Resolves with the exit code once the service thread has returned. */
  exited(): Promise<number> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode);
    if (!this.host.running) return Promise.resolve(this.reap());
    this.doorbell.holdForExit(+1);
    return new Promise((resolve) => {
      this.exitListeners.push(() => {
        this.doorbell.holdForExit(-1);
        resolve(this.reap());
      });
    });
  }

  private reap(): number {
    this.exitCode ??= this.host.join();
    return this.exitCode;
  }

  private onWake(): void {
    this.channel.wake();
    if (!this.host.running && this.exitListeners.length > 0) {
      const listeners = this.exitListeners;
      this.exitListeners = [];
      for (const listener of listeners) listener();
    }
  }
}
