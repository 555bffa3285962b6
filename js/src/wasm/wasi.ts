/**
 * The WASI (preview 1) functions a C service compiled by
 * shmrpc_wasm_service may import, for a module that runs in a Worker (or
 * any JavaScript thread) with no file system: clocks, sched_yield,
 * random_get, stdout and stderr to the console, exit. Everything else
 * answers ENOSYS, so a service that opens files learns it cannot, instead
 * of failing to instantiate. Plain ECMAScript: no `node:` module.
 */
const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;
const CLOCK_REALTIME = 0;
const FILETYPE_CHARACTER_DEVICE = 2;

/** proc_exit: the C code called exit(code). */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`the WebAssembly module exited with status ${code}`);
    this.name = "WasiExit";
  }
}

export type WasiImports = Record<string, (...args: never[]) => number | void>;

/** One console line per newline the C code wrote on stdout (1) or stderr (2). */
class ConsoleLines {
  private pending = "";
  private readonly decoder = new TextDecoder();
  constructor(private readonly write: (line: string) => void) {}

  add(bytes: Uint8Array): void {
    this.pending += this.decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = this.pending.indexOf("\n")) >= 0) {
      this.write(this.pending.slice(0, newline));
      this.pending = this.pending.slice(newline + 1);
    }
  }
}

/**
 * Imports for `wasi_snapshot_preview1`, over `memory` (read afresh on
 * every call: the module may have grown it). `names` are the functions the
 * module imports (WebAssembly.Module.imports): each gets an entry.
 */
export function wasiImports(memory: WebAssembly.Memory, names: readonly string[]): WasiImports {
  const view = () => new DataView(memory.buffer);
  const bytes = (pointer: number, length: number) => new Uint8Array(memory.buffer, pointer, length);
  const stdout = new ConsoleLines((line) => console.log(line));
  const stderr = new ConsoleLines((line) => console.error(line));
  const known: WasiImports = {
    clock_time_get(id: number, _precision: bigint, out: number): number {
      const ms = id === CLOCK_REALTIME ? Date.now() : performance.timeOrigin + performance.now();
      view().setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return ERRNO_SUCCESS;
    },
    clock_res_get(_id: number, out: number): number {
      view().setBigUint64(out, 1000n, true);
      return ERRNO_SUCCESS;
    },
    sched_yield: () => ERRNO_SUCCESS,
    random_get(pointer: number, length: number): number {
      // getRandomValues refuses views of shared memory: fill a copy.
      const random = new Uint8Array(length);
      for (let at = 0; at < length; at += 65536) crypto.getRandomValues(random.subarray(at, at + 65536));
      bytes(pointer, length).set(random);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, count: number, written: number): number {
      const lines = fd === 1 ? stdout : fd === 2 ? stderr : undefined;
      if (lines === undefined) return ERRNO_BADF;
      const v = view();
      let total = 0;
      for (let i = 0; i < count; i++) {
        const pointer = v.getUint32(iovs + i * 8, true);
        const length = v.getUint32(iovs + i * 8 + 4, true);
        lines.add(bytes(pointer, length).slice());
        total += length;
      }
      v.setUint32(written, total, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_get(fd: number, out: number): number {
      if (fd > 2) return ERRNO_BADF;
      bytes(out, 24).fill(0);
      view().setUint8(out, FILETYPE_CHARACTER_DEVICE);
      return ERRNO_SUCCESS;
    },
    fd_close: (fd: number) => (fd > 2 ? ERRNO_BADF : ERRNO_SUCCESS),
    fd_seek: () => ERRNO_BADF,
    fd_prestat_get: () => ERRNO_BADF,
    environ_sizes_get(count: number, size: number): number {
      view().setUint32(count, 0, true);
      view().setUint32(size, 0, true);
      return ERRNO_SUCCESS;
    },
    environ_get: () => ERRNO_SUCCESS,
    args_sizes_get(count: number, size: number): number {
      view().setUint32(count, 0, true);
      view().setUint32(size, 0, true);
      return ERRNO_SUCCESS;
    },
    args_get: () => ERRNO_SUCCESS,
    proc_exit(code: number): void {
      throw new WasiExit(code);
    },
  };
  const imports: WasiImports = {};
  for (const name of names) imports[name] = known[name] ?? (() => ERRNO_NOSYS);
  return imports;
}
