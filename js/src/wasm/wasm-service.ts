/**
 * A C service compiled to WebAssembly (shmrpc_wasm_service), run in a
 * dedicated Worker and called from this thread (a browser page, or a
 * Worker) through a channel in the module's shared memory. The transport
 * (transport/transport.ts) of this route:
 *
 * 1. the segment: the page creates the module's shared WebAssembly.Memory,
 *    the C side formats the segment in its heap and says where it is;
 * 2. the doorbell: Atomics between this thread and the Worker. This side
 *    parks with Atomics.waitAsync (never blocking a page's main thread);
 *    the Worker parks in memory.atomic.wait32, which Atomics.notify wakes,
 *    and wakes this side with memory.atomic.notify;
 * 3. liveness: a Worker that fails (its module trapped, or an uncaught
 *    error) or is terminated is the peer's death, and the channel fails
 *    what waits for it (RpcClient calls fail with UNAVAILABLE);
 * 4. close: the channel closes, the C service returns, the Worker ends.
 *
 * Cross-origin isolation is required (SharedArrayBuffer): serve the page
 * with Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp.
 */
import type { Channel } from "../channel/channel.js";
import { AtomicsDoorbell } from "../channel/doorbell.js";
import { crossOriginIsolationMessage, type SegmentRegion } from "../channel/segment.js";
import { ShmrpcError } from "../errors.js";
import { openChannel, type Connection, type Transport, type TransportChannel, type TransportChannelOptions } from "../transport/transport.js";
import type { HostMessage, StartMessage } from "./host-messages.js";
import { memoryImport, type MemoryImport } from "./memory-import.js";

/** The part of a Worker this transport uses (a DOM Worker has it). */
export interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "error", listener: (event: { message?: string; preventDefault?(): void }) => void): void;
  terminate(): unknown;
}

/** A compiled service module and the memory it imports: load once, start as often as needed. */
export interface WasmModule {
  readonly module: WebAssembly.Module;
  readonly memory: MemoryImport;
}

export interface WasmServiceOptions {
  /** The service: a loaded module (loadWasmModule), its bytes, or the URL of its .wasm file. */
  module: WasmModule | BufferSource | URL | string;
  /** Client -> service ring bytes, a power of two in [64, 2^30]. Default 1 MiB. */
  capacityC2S?: number;
  /** Service -> client ring bytes, a power of two in [64, 2^30]. Default 1 MiB. */
  capacityS2C?: number;
  /** How long the C side spins before parking, in microseconds. Default 50. */
  serviceSpinMicros?: number;
  /** Options of this side's channel (spinMicros, maxMessageBytes, ...). */
  channel?: Partial<TransportChannelOptions>;
  /** Starts the Worker; default: a module Worker running this package's wasm/worker.js. */
  createWorker?: () => WorkerLike;
}

function requireIsolation(): void {
  if (typeof SharedArrayBuffer === "undefined" || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    throw new TypeError(crossOriginIsolationMessage);
  }
}

/** Compiles a service module and reads the memory it imports. TypeError if it imports none, or not a shared one. */
export async function loadWasmModule(source: BufferSource | URL | string): Promise<WasmModule> {
  let bytes: Uint8Array;
  if (typeof source === "string" || source instanceof URL) {
    const response = await fetch(source);
    if (!response.ok) throw new ShmrpcError("EINVAL", `cannot load ${String(source)}: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } else {
    bytes = ArrayBuffer.isView(source)
      ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
      : new Uint8Array(source);
  }
  const memory = memoryImport(bytes);
  if (memory === undefined || !memory.shared || memory.maximum === undefined) {
    throw new TypeError("the module must import a shared memory with a maximum: build it with shmrpc_wasm_service()");
  }
  return { module: await WebAssembly.compile(bytes.slice()), memory };
}

function defaultWorker(): WorkerLike {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "shmrpc wasm service" });
}

/** The Worker and the segment in its memory, as a Transport. */
class WasmWorkerTransport implements Transport {
  readonly side = "client";
  readonly doorbell: AtomicsDoorbell;
  private channel: TransportChannel | undefined;
  private deathReason: string | undefined;

  constructor(
    readonly segment: SegmentRegion,
    private readonly worker: WorkerLike,
  ) {
    this.doorbell = new AtomicsDoorbell(segment);
  }

  start(channel: TransportChannel): void {
    this.channel = channel;
    if (this.deathReason !== undefined) channel.peerDied(this.deathReason);
  }

  /** The Worker is gone without closing: everything waiting for it fails. Once. */
  died(reason: string): void {
    if (this.deathReason !== undefined) return;
    this.deathReason = reason;
    this.channel?.peerDied(reason);
    this.worker.terminate();
  }

  async close(): Promise<void> {
    this.worker.terminate();
  }
}

/** How long close() lets the service return before it terminates the Worker. */
const CLOSE_GRACE_MS = 2000;

/** A C service in a WebAssembly Worker, connected: call it over `channel`. */
export class WasmService implements Connection {
  private exited = false;
  private exitStatus: number | undefined;
  private readonly exitListeners: Array<(status: number | undefined) => void> = [];

  private constructor(
    readonly channel: Channel,
    private readonly transport: WasmWorkerTransport,
  ) {}

  /**
   * Starts the service in a new Worker and connects to it. Throws TypeError
   * when the page is not cross-origin isolated (no SharedArrayBuffer) or the
   * module was not built by shmrpc_wasm_service; ShmrpcError when the
   * service does not start (its message says why).
   *
   * Example usage:
   *
   *   const service = await WasmService.start({ module: "/services/greeter.wasm" });
   *   const greeter = new GreeterClient(new RpcClient(service.channel));
   *   console.log((await greeter.sayHello({ name: "web" })).message);
   */
  static async start(options: WasmServiceOptions): Promise<WasmService> {
    requireIsolation();
    const source = options.module;
    const loaded = isWasmModule(source) ? source : await loadWasmModule(source);
    const memory = new WebAssembly.Memory({
      initial: loaded.memory.initial,
      maximum: loaded.memory.maximum!,
      shared: true,
    });
    const worker = (options.createWorker ?? defaultWorker)();
    let service: WasmService | undefined;
    const ready = new Promise<{ byteOffset: number; byteLength: number }>((resolve, reject) => {
      worker.addEventListener("message", ({ data }) => {
        const message = data as HostMessage;
        if (message.kind === "ready") resolve(message);
        else if (message.kind === "failed") {
          reject(new ShmrpcError("ECLOSED", `the WebAssembly service failed: ${message.message}`));
          service?.transport.died(`the WebAssembly service failed: ${message.message}`);
        } else if (message.kind === "exited") service?.onExit(message.status);
      });
      worker.addEventListener("error", (event) => {
        event.preventDefault?.();
        const reason = `the service's Worker failed: ${event.message ?? "error"}`;
        reject(new ShmrpcError("ECLOSED", reason));
        service?.transport.died(reason);
      });
    });
    const start: StartMessage = {
      kind: "start",
      module: loaded.module,
      memory,
      capacityC2S: options.capacityC2S ?? 1 << 20,
      capacityS2C: options.capacityS2C ?? 1 << 20,
      spinNanos: Math.round((options.serviceSpinMicros ?? 50) * 1000),
    };
    worker.postMessage(start);
    let where: { byteOffset: number; byteLength: number };
    try {
      where = await ready;
    } catch (error) {
      worker.terminate();
      throw error;
    }
    const region = { buffer: memory.buffer as unknown as SharedArrayBuffer, byteOffset: where.byteOffset, byteLength: where.byteLength };
    const transport = new WasmWorkerTransport(region, worker);
    service = new WasmService(openChannel(transport, options.channel), transport);
    return service;
  }

  /**
   * Ends the Worker now, as a crash would: calls in flight fail with
   * UNAVAILABLE, the channel's sends with ECLOSED. For a service that
   * hangs; close() is the orderly way.
   */
  terminate(): void {
    this.transport.died("the service's Worker was terminated");
    this.onExit(undefined);
  }

  /**
   * Closes the channel and resolves with the service's status (0 after an
   * orderly close; undefined when the Worker did not return within 2 s,
   * or had died) once the Worker is gone.
   */
  async close(): Promise<number | undefined> {
    this.channel.close();
    const status = await new Promise<number | undefined>((resolve) => {
      if (this.exited) return resolve(this.exitStatus);
      const timer = setTimeout(() => resolve(undefined), CLOSE_GRACE_MS);
      this.exitListeners.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
    await this.transport.close();
    return status;
  }

  private onExit(status: number | undefined): void {
    if (this.exited) return;
    this.exited = true;
    this.exitStatus = status;
    for (const listener of this.exitListeners.splice(0)) listener(status);
  }
}

function isWasmModule(value: unknown): value is WasmModule {
  return typeof value === "object" && value !== null && (value as WasmModule).module instanceof WebAssembly.Module;
}
