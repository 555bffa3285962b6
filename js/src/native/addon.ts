/**
 * Loads the Node addon (binding.gyp → build/Release/shmrpc.node). The addon
 * is glue only: it hosts a C service library on a native thread and performs
 * the futex calls JavaScript cannot make.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SpinStats } from "../channel/spin.js";
import type { NativeLoopHold } from "./loop-hold.js";

export interface NativeServiceHostOptions {
  /** The service's spin budget before it parks, in microseconds. */
  spinMicros?: number;
  /**
   * How long the event loop, about to block while JavaScript waits for the
   * service, watches the ring first, in microseconds. Default: spinMicros.
   */
  loopSpinMicros?: number;
  /** A string handed to the service as shmrpc_host_t.config. */
  config?: string;
  /** Pin the service thread to this CPU (benchmarks). */
  cpu?: number;
  /** Both budgets stay at their caps instead of adapting. */
  spinFixed?: boolean;
}

/** The addon's ServiceHost (js/native/service_host.h). */
export interface NativeServiceHost extends NativeLoopHold {
  /** futex_wake on one of the segment's four wait words. */
  ring(waitWordOffset: number): void;
  /** futex_wait while the word equals `expected`; false on timeout. */
  wait(waitWordOffset: number, expected: number, timeoutMs: number): boolean;
  /** Holds the event loop open while true. */
  keepAlive(active: boolean): void;
  /** Waits for the service thread to return; its exit code (0 or SHMRPC_E*). */
  join(): number;
  /**
   * Lets go of the service: joins its thread if it returned, else leaves
   * it to finish on its own (it keeps the segment's memory and the library
   * until then); closes the handles and drops the wake callback, after
   * which the addon holds nothing of JavaScript's and never calls it.
   * True if the thread had returned. Idempotent.
   */
  release(): boolean;
  readonly running: boolean;
  /** How often the service woke the event loop (uv_async_send). */
  readonly loopWakeUps: number;
  /** Whether the event loop spins for the service before it blocks (loopSpinMicros > 0). */
  readonly loopSpins: boolean;
  /** The event loop spin's policy (js/native/wake_glue.h SpinStats). */
  readonly loopSpinStats: SpinStats;
}

/** Options of the addon's xprocConnect (js/native/xproc_client.h). */
export interface NativeXprocOptions {
  runtimeDir?: string;
  capacityC2S?: number;
  capacityS2C?: number;
  timeoutMs?: number;
  loopSpinMicros?: number;
  loopSpinFixed?: boolean;
}

/** The addon's XprocClient: one cross-process connection (js/native/xproc_client.h). */
export interface NativeXprocClient extends NativeLoopHold {
  /**
   * The direct route: a SharedArrayBuffer over the memory the server
   * shares. Throws an Error with code EXTERNAL_REFUSED where the runtime
   * refuses buffers over memory V8 did not allocate (Electron).
   */
  mapSegment(): SharedArrayBuffer;
  /**
   * The relay route: JavaScript's own segment (formatted, its client side
   * open), relayed to the server's by two native threads (c/include/shmrpc/relay.h).
   */
  startRelay(segment: Uint8Array, options: { spinMicros?: number; spinFixed?: boolean }): void;
  /** The mapping's SharedArrayBuffer once mapSegment() made it (undefined when relayed, or closed). */
  readonly buffer: SharedArrayBuffer | undefined;
  /** The ring capacities the server granted: [client to server, server to client]. */
  readonly capacities: [number, number];
  /** futex_wake on one of the segment's four wait words (JavaScript's segment on either route). */
  ring(waitWordOffset: number): void;
  /** futex_wait while the word equals `expected`; false on timeout. */
  wait(waitWordOffset: number, expected: number, timeoutMs: number): boolean;
  /** Holds the event loop open while true. */
  keepAlive(active: boolean): void;
  /** Stops the relay, stops watching and closes the connection's descriptors. */
  close(): void;
  readonly serverPid: number;
  /** False once the socket hung up (the server is gone) or after close(). */
  readonly connected: boolean;
  /** Messages the relay forwarded: [to the server, to JavaScript]. */
  readonly relayCounts: [number, number];
  /** How often the server (or the relay) woke the event loop. */
  readonly loopWakeUps: number;
  /** Whether the event loop spins for the server before it blocks. */
  readonly loopSpins: boolean;
  /** The event loop spin's policy (js/native/wake_glue.h SpinStats), once a route is chosen. */
  readonly loopSpinStats: SpinStats;
}

/** NativeXprocClient.mapSegment's error code where buffers over outside memory are refused. */
export const EXTERNAL_REFUSED = "ERR_SHMRPC_EXTERNAL_REFUSED";

export interface NativeAddon {
  /**
   * Attaches to the server listening under `name` (docs/PROTOCOL.md 9).
   * Rejects with an Error whose `code` is a ShmrpcErrorCode.
   */
  xprocConnect(
    name: string,
    options: NativeXprocOptions,
    onWake: () => void,
    onServerGone: () => void,
  ): Promise<NativeXprocClient>;
  /** Pins the calling thread to one CPU (-1: every CPU again; threads it starts inherit its set); false if the OS refused. */
  pinThread(cpu: number): boolean;
  /** target.set(source, targetOffset) as one native memcpy. */
  copyBytes(target: Uint8Array, targetOffset: number, source: Uint8Array): void;
  ServiceHost: new (
    segment: Uint8Array,
    library: string,
    onWake: () => void,
    options?: NativeServiceHostOptions,
  ) => NativeServiceHost;
}

let cached: NativeAddon | undefined;

/** The repository (package) root: the nearest package.json named "shmrpc". */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "shmrpc") {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("shmrpc: cannot find the package root");
    dir = parent;
  }
}

/** Loads the addon once; $SHMRPC_ADDON overrides its path. */
export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const file = process.env.SHMRPC_ADDON ?? path.join(packageRoot(), "build/Release/shmrpc.node");
  if (!existsSync(file)) {
    throw new Error(`shmrpc: the addon is not built (${file} is missing); run \`npm run build:addon\``);
  }
  cached = createRequire(import.meta.url)(file) as NativeAddon;
  return cached;
}
