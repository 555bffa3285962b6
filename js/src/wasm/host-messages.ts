/**
 * What the page and the Worker that hosts a WebAssembly service say to
 * each other (postMessage), apart from the calls themselves, which travel
 * through the segment: the page hands the Worker the compiled module and
 * the shared memory; the Worker answers where the segment is, then, once
 * the service returns, its status.
 */
export interface StartMessage {
  readonly kind: "start";
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly capacityC2S: number;
  readonly capacityS2C: number;
  /** How long the C side spins before it parks in memory.atomic.wait32. */
  readonly spinNanos: number;
}

export type HostMessage =
  /** The segment is formatted at byteOffset of the memory; the service serves it. */
  | { readonly kind: "ready"; readonly byteOffset: number; readonly byteLength: number }
  /** shmrpc_serve returned this status (0 after the client closed). */
  | { readonly kind: "exited"; readonly status: number }
  /** The module did not start, or trapped while it served. */
  | { readonly kind: "failed"; readonly message: string };
