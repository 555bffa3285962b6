#!/usr/bin/env node
// Keeps the TypeScript runtime's layers apart (run by scripts/test.sh):
// - the portable entries (shmrpc, shmrpc/internal, shmrpc/rpc and
//   shmrpc/pb, which is codegen-runtime.ts, and shmrpc/browser with its
//   Worker script) reach no `node:` module, no
//   other package, nothing under native/ and of transport/ only the
//   interface (transport.ts), so they load in a browser page and a Worker;
// - the codec (js/src/pb/) reaches nothing under rpc/ or channel/.
// It follows the static imports and exports (and any import()) of the
// TypeScript sources, resolving "./x.js" to "./x.ts".
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../js/src");
const specifiers = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Every module `entry` reaches: file paths, and the specifiers that are not relative. */
function graph(entry) {
  const files = new Map(); // file -> the file that imported it first
  const external = [];
  const pending = [[path.join(src, entry), "(entry)"]];
  while (pending.length > 0) {
    const [file, from] = pending.pop();
    if (files.has(file)) continue;
    files.set(file, from);
    const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    for (const match of text.matchAll(specifiers)) {
      const specifier = match[1] ?? match[2] ?? match[3];
      if (!specifier.startsWith(".")) {
        external.push(`${path.relative(src, file)} imports ${specifier}`);
        continue;
      }
      const target = path.resolve(path.dirname(file), specifier.replace(/\.js$/, ".ts"));
      if (!existsSync(target)) throw new Error(`${path.relative(src, file)}: cannot resolve ${specifier}`);
      pending.push([target, file]);
    }
  }
  return { files: [...files.keys()].map((file) => path.relative(src, file)), external };
}

const problems = [];
for (const entry of ["index.ts", "internal.ts", "rpc/index.ts", "codegen-runtime.ts", "browser.ts", "wasm/worker.ts"]) {
  const { files, external } = graph(entry);
  for (const line of external) problems.push(`portable entry ${entry}: ${line}`);
  for (const file of files) {
    if (/^native\//.test(file) || (/^transport\//.test(file) && file !== "transport/transport.ts")) {
      problems.push(`portable entry ${entry} reaches ${file}`);
    }
  }
}
for (const file of graph("pb/index.ts").files) {
  if (/^(rpc|channel)\//.test(file)) problems.push(`the codec (pb/index.ts) reaches ${file}`);
}

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("check-layers: the portable entries and the codec keep to their layers");
