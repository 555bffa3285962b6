/**
 * The limits of the memory a WebAssembly module imports, read from its
 * import section. A module built by shmrpc_wasm_service imports a shared
 * memory whose size it declares (its data and stack at least, and the most
 * it may grow to); the page must create that memory before it
 * instantiates, and JavaScript's WebAssembly API does not reveal the
 * declared limits, so they are read here from the bytes.
 */
export interface MemoryImport {
  readonly module: string;
  readonly name: string;
  /** 64 KiB pages. */
  readonly initial: number;
  /** 64 KiB pages; undefined when the module declares no maximum. */
  readonly maximum: number | undefined;
  readonly shared: boolean;
}

const IMPORT_SECTION = 2;
const enum ImportKind {
  FUNCTION = 0,
  TABLE = 1,
  MEMORY = 2,
  GLOBAL = 3,
}

class Bytes {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.offset >= this.bytes.length) throw new TypeError("not a WebAssembly module: it ends early");
    return this.bytes[this.offset++]!;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new TypeError("not a WebAssembly module: bad LEB128 number");
  }
  name(): string {
    const length = this.u32();
    const start = this.offset;
    this.offset += length;
    return new TextDecoder().decode(this.bytes.subarray(start, this.offset));
  }
  limits(): { initial: number; maximum: number | undefined; shared: boolean } {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = (flags & 1) !== 0 ? this.u32() : undefined;
    return { initial, maximum, shared: (flags & 2) !== 0 };
  }
}

/** The module's memory import, or undefined when it defines its own memory. Throws TypeError for bytes that are not a module. */
export function memoryImport(module: Uint8Array): MemoryImport | undefined {
  const input = new Bytes(module);
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const expected of header) {
    if (input.byte() !== expected) throw new TypeError("not a WebAssembly module (version 1): bad header");
  }
  while (input.offset < module.length) {
    const id = input.byte();
    const size = input.u32();
    const end = input.offset + size;
    if (id !== IMPORT_SECTION) {
      input.offset = end;
      continue;
    }
    for (let count = input.u32(); count > 0; count--) {
      const moduleName = input.name();
      const name = input.name();
      const kind = input.byte();
      switch (kind) {
        case ImportKind.FUNCTION:
          input.u32();
          break;
        case ImportKind.TABLE:
          input.byte();
          input.limits();
          break;
        case ImportKind.MEMORY:
          return { module: moduleName, name, ...input.limits() };
        case ImportKind.GLOBAL:
          input.byte();
          input.byte();
          break;
        default:
          throw new TypeError(`not a WebAssembly module: import kind ${kind}`);
      }
    }
    return undefined;
  }
  return undefined;
}
