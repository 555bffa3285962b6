// Runs a wasm32-wasi test program built by tests/c/wasm/CMakeLists.txt
// under Node's WASI, over an imported shared memory like the services'
// (the program imports it; Node's WASI is handed it as the export it looks
// for). Exits with the program's status.
//
//   node tests/c/wasm/wasi-run.mjs PROGRAM.wasm VECTORS_DIR
import fs from "node:fs";
import { WASI } from "node:wasi";

const [program, vectors] = process.argv.slice(2);
const module = new WebAssembly.Module(fs.readFileSync(program));
// 64 KiB pages: 1 MiB to start, the 256 MiB the build declares at most.
const memory = new WebAssembly.Memory({ initial: 16, maximum: 4096, shared: true });
const wasi = new WASI({ version: "preview1", args: [program], preopens: { "/vectors": vectors }, returnOnExit: true });
const instance = new WebAssembly.Instance(module, { env: { memory }, wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start({ exports: { ...instance.exports, memory } });
