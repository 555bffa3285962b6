/** Golden vectors (tests/vectors/), found from the compiled test's location. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function repositoryRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "shmrpc") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root (package.json named shmrpc)");
    dir = parent;
  }
}

/** The bytes of tests/vectors/<name>. */
export function readVector(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(repositoryRoot(), "tests/vectors", name)));
}

/** The names of the files in tests/vectors/<folder>, sorted. */
export function vectorNames(folder: string): string[] {
  return readdirSync(path.join(repositoryRoot(), "tests/vectors", folder)).sort();
}

/** A SharedArrayBuffer holding a copy of tests/vectors/<name>. */
export function sharedCopyOfVector(name: string): SharedArrayBuffer {
  const bytes = readVector(name);
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}
