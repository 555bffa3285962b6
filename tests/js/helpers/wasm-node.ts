/**
 * Runs WebAssembly services (build/wasm/services/*.wasm) the way a page does,
 * with WasmService, over a worker_threads Worker instead of a DOM one.
 */
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { WasmService, loadWasmModule, type WasmModule, type WasmServiceOptions, type WorkerLike } from "shmrpc/browser";
import { packageRoot } from "../../../js/src/native/addon.js";

const modules = new Map<string, Promise<WasmModule>>();

/** build/wasm/services/<name>.wasm, compiled once per process. */
export function wasmServiceModule(name: string): Promise<WasmModule> {
  let loaded = modules.get(name);
  if (loaded === undefined) {
    const file = path.join(packageRoot(), "build/wasm/services", `${name}.wasm`);
    loaded = loadWasmModule(fs.readFileSync(file));
    modules.set(name, loaded);
  }
  return loaded;
}

/** A worker_threads Worker that runs serveWasmModule, as a WorkerLike; `workers` records them. */
export function nodeWorker(workers: Worker[] = []): WorkerLike {
  const worker = new Worker(new URL("./wasm-worker-node.js", import.meta.url));
  workers.push(worker);
  return {
    postMessage: (message) => worker.postMessage(message),
    addEventListener(type: "message" | "error", listener: (event: never) => void) {
      if (type === "message") worker.on("message", (data) => (listener as (e: { data: unknown }) => void)({ data }));
      else worker.on("error", (error: Error) => (listener as (e: { message: string }) => void)({ message: error.message }));
    },
    terminate: () => worker.terminate(),
  } as WorkerLike;
}

export async function startWasmServiceInNode(
  name: string,
  options: Omit<WasmServiceOptions, "module" | "createWorker"> = {},
  workers?: Worker[],
): Promise<WasmService> {
  return WasmService.start({ ...options, module: await wasmServiceModule(name), createWorker: () => nodeWorker(workers) });
}
