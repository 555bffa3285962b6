/**
 * The codegen test schema (tests/proto) as descriptors: a FileDescriptorSet
 * built by protoc, and @bufbuild/protobuf's registry over it. The tests use
 * it to walk the schema generically (random messages, differential checks)
 * without trusting our own generated code.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescMessage, FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** The repository root, found from this compiled file's location. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "tests", "proto", "shmrpc"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root");
    dir = parent;
  }
  return dir;
}

export const PROTO_ROOT = join(repoRoot(), "tests", "proto");
export const PROTO_FILES = ["common", "everything", "service", "streams"].map((n) => `shmrpc/test/${n}.proto`);

/** Runs protoc with the test schema's include path; throws on failure. */
export function protoc(args: string[], input?: Uint8Array): Buffer {
  const run = spawnSync("protoc", [`-I${PROTO_ROOT}`, ...args], { input, maxBuffer: 64 << 20 });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`protoc ${args.join(" ")}: ${run.stderr.toString()}`);
  return run.stdout;
}

let cachedSet: Uint8Array | undefined;

/** FileDescriptorSet of the test schema and its imports, from protoc. */
export function descriptorSetBytes(): Uint8Array {
  if (cachedSet === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "shmrpc-fds-"));
    try {
      const out = join(dir, "set.pb");
      protoc(["--include_imports", `--descriptor_set_out=${out}`, ...PROTO_FILES]);
      cachedSet = new Uint8Array(readFileSync(out));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return cachedSet;
}

let cachedRegistry: FileRegistry | undefined;

export function registry(): FileRegistry {
  cachedRegistry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSetBytes()));
  return cachedRegistry;
}

export function messageDesc(typeName: string): DescMessage {
  const desc = registry().getMessage(typeName);
  if (desc === undefined) throw new Error(`${typeName} is not in the test schema`);
  return desc;
}
