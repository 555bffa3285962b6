/**
 * Sends encodings through C: the codegen_reencode program (built from
 * tests/codegen/reencode.c) decodes each with nanopb as the message type
 * it is given (shmrpc.test.Everything by default) and encodes it again.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

import { repoRoot } from "./schema.js";

/**
 * The program, from $SHMRPC_CODEGEN_REENCODE or the build scripts/setup.sh
 * makes (or a codegen-only build in build-codegen). Throws when it is not
 * built: a test that would skip instead could hide that nanopb never saw
 * our encodings.
 */
export function findReencoder(): string {
  const fromEnv = process.env.SHMRPC_CODEGEN_REENCODE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const root = repoRoot();
  const candidates = [
    join(root, "build", "cmake", "codegen", "tests", "codegen_reencode"),
    join(root, "build-codegen", "tests", "codegen_reencode"),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(`codegen_reencode is not built (looked for ${candidates.join(", ")}): run scripts/setup.sh`);
  }
  return found;
}

export type Reencoded = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

function frame(chunks: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    const head = Buffer.alloc(4);
    head.writeUInt32LE(chunk.length);
    parts.push(head, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  }
  return Buffer.concat(parts);
}

/**
 * Re-encodes every message with nanopb in one run of the program, as
 * `type` (a name from tests/codegen/reencode.c; default Everything).
 */
export function reencodeInC(program: string, messages: Uint8Array[], type = "Everything"): Reencoded[] {
  const run = spawnSync(program, [type], { input: frame(messages), maxBuffer: 256 << 20 });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`${program} failed: ${run.stderr.toString()}`);
  const out = run.stdout;
  const results: Reencoded[] = [];
  let pos = 0;
  while (pos < out.length) {
    const len = out.readUInt32LE(pos);
    pos += 4;
    if (len === 0xffffffff) {
      const errorLen = out.readUInt32LE(pos);
      results.push({ ok: false, error: out.subarray(pos + 4, pos + 4 + errorLen).toString() });
      pos += 4 + errorLen;
    } else {
      results.push({ ok: true, bytes: new Uint8Array(out.subarray(pos, pos + len)) });
      pos += len;
    }
  }
  if (results.length !== messages.length) throw new Error("codegen_reencode answered too few messages");
  return results;
}
