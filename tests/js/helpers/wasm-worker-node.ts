/**
 * A worker_threads script that hosts a WebAssembly service as the browser's
 * Worker does (js/src/wasm/worker.ts), for tests under Node: the same
 * serveWasmModule, fed through parentPort.
 */
import { parentPort } from "node:worker_threads";
import { serveWasmModule, type StartMessage } from "shmrpc/browser";

parentPort!.on("message", (message: StartMessage) => {
  if (message.kind === "start") serveWasmModule(message, (reply) => parentPort!.postMessage(reply));
});
