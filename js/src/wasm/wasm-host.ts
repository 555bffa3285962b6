/**
 * The Worker's half of a WebAssembly service: instantiates the module over
 * the page's shared memory, has the C side make the segment in its own
 * heap (c/wasm/wasm_host.c), tells the page where it is, then runs the
 * service on this thread until the client closes the channel. The C code
 * parks in memory.atomic.wait32 between messages, so this Worker runs no
 * JavaScript while it serves: the page's Atomics.notify wakes it.
 */
import type { HostMessage, StartMessage } from "./host-messages.js";
import { wasiImports } from "./wasi.js";

interface ServiceExports {
  _initialize?: () => void;
  shmrpc_wasm_segment_create(capacityC2S: number, capacityS2C: number): number;
  shmrpc_wasm_segment_size(segment: number): number;
  shmrpc_wasm_segment_free(segment: number): void;
  shmrpc_wasm_serve(segment: number, spinNanos: number): number;
}

const ENTRY_POINTS = ["shmrpc_wasm_segment_create", "shmrpc_wasm_segment_size", "shmrpc_wasm_segment_free", "shmrpc_wasm_serve"];

function instantiate(start: StartMessage): ServiceExports {
  const imports: WebAssembly.Imports = {};
  const wasi: string[] = [];
  for (const item of WebAssembly.Module.imports(start.module)) {
    if (item.kind === "memory") imports[item.module] = { ...imports[item.module], [item.name]: start.memory };
    else if (item.module === "wasi_snapshot_preview1" && item.kind === "function") wasi.push(item.name);
    else throw new Error(`the module imports ${item.module}.${item.name} (${item.kind}), which a Worker host does not provide`);
  }
  imports.wasi_snapshot_preview1 = wasiImports(start.memory, wasi);
  const exports = new WebAssembly.Instance(start.module, imports).exports as unknown as ServiceExports;
  for (const name of ENTRY_POINTS) {
    if (typeof (exports as unknown as Record<string, unknown>)[name] !== "function") {
      throw new Error(`the module does not export ${name}: build it with shmrpc_wasm_service()`);
    }
  }
  exports._initialize?.();
  return exports;
}

/** Serves the module `start` describes; reports to the page through `post`. Returns when the service does. */
export function serveWasmModule(start: StartMessage, post: (message: HostMessage) => void): void {
  try {
    const service = instantiate(start);
    const segment = service.shmrpc_wasm_segment_create(start.capacityC2S, start.capacityS2C) >>> 0;
    if (segment === 0) {
      throw new Error(`the module could not allocate a segment with rings of ${start.capacityC2S} and ${start.capacityS2C} bytes`);
    }
    post({ kind: "ready", byteOffset: segment, byteLength: service.shmrpc_wasm_segment_size(segment) >>> 0 });
    const status = service.shmrpc_wasm_serve(segment, start.spinNanos >>> 0);
    service.shmrpc_wasm_segment_free(segment);
    post({ kind: "exited", status });
  } catch (error) {
    post({ kind: "failed", message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
}
