/**
 * shmrpc/browser: C services compiled to WebAssembly (CMake's
 * shmrpc_wasm_service), each run in a dedicated Worker and called from a
 * browser page or Worker over a channel in the module's shared memory. The
 * portable runtime (shmrpc: channels, RpcClient, generated clients) works
 * over it unchanged. Plain ECMAScript modules, no `node:` module: the page
 * loads them as they are, or through a bundler that keeps
 * `new URL("./wasm/worker.js", import.meta.url)` (Vite, webpack 5, esbuild
 * with that file as a second entry point). docs/BROWSER.md has the details.
 */
export { WasmService, loadWasmModule } from "./wasm/wasm-service.js";
export type { WasmModule, WasmServiceOptions, WorkerLike } from "./wasm/wasm-service.js";
export type { MemoryImport } from "./wasm/memory-import.js";
export { memoryImport } from "./wasm/memory-import.js";
export { serveWasmModule } from "./wasm/wasm-host.js";
export type { HostMessage, StartMessage } from "./wasm/host-messages.js";
