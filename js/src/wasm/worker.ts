/**
 * The script of the dedicated Worker that hosts a WebAssembly service in a
 * browser (startWasmService starts it as a module Worker). One service per
 * Worker: the C code owns this thread while it serves.
 */
import type { HostMessage, StartMessage } from "./host-messages.js";
import { serveWasmModule } from "./wasm-host.js";

interface WorkerScope {
  onmessage: ((event: MessageEvent<StartMessage>) => void) | null;
  postMessage(message: HostMessage): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event) => {
  if (event.data?.kind === "start") serveWasmModule(event.data, (message) => scope.postMessage(message));
};
