#!/usr/bin/env node
// Golden files of protoc-gen-shmrpc: regenerates the code for tests/proto
// with `shmrpc gen` and compares it with tests/codegen/golden/ (TypeScript
// under ts/, our C glue under c/; nanopb's own .pb.c/.pb.h are not ours and
// not kept).
//
//   node tests/codegen/golden.mjs --check [--plugin PATH]   fail on any difference
//   node tests/codegen/golden.mjs --update [--plugin PATH]  rewrite the golden files
//
// The TypeScript golden files double as the fixtures the tests import.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GOLDEN = join(ROOT, "tests", "codegen", "golden");
const PROTO_ROOT = join(ROOT, "tests", "proto");
const testProto = (n) => join(PROTO_ROOT, "shmrpc", "test", `${n}.proto`);
// Generated as TypeScript and C.
const PROTOS = ["common", "everything", "service", "streams", "legacy", "recursion", "names"].map(testProto);
// TypeScript only: groups (nanopb has none), names C cannot have, and
// protobuf's own proto2 schemas (plugin.proto brings descriptor.proto).
const TS_ONLY_PROTOS = [testProto("groups"), testProto("clash"),
  "/usr/include/google/protobuf/compiler/plugin.proto"];

function listFiles(dir, keep) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (keep(path)) out.push(relative(dir, path));
  }
  return out.sort();
}

const isOurs = (path) => path.endsWith("_pb.ts") || /\.shmrpc\.[ch]$/.test(path);

function run(plugin, protos, includes, outputs) {
  const args = [join(ROOT, "js", "bin", "shmrpc.js"), "gen", ...protos, ...includes.flatMap((d) => ["-I", d]),
    ...outputs];
  if (plugin !== undefined) args.push("--plugin", plugin);
  return spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] }).status === 0;
}

function generate(plugin) {
  const out = mkdtempSync(join(tmpdir(), "shmrpc-golden-"));
  const ok = run(plugin, PROTOS, [PROTO_ROOT], ["--ts-out", join(out, "ts"), "--c-out", join(out, "c")]) &&
    run(plugin, TS_ONLY_PROTOS, [PROTO_ROOT, "/usr/include"], ["--ts-out", join(out, "ts")]);
  if (!ok) {
    rmSync(out, { recursive: true, force: true });
    process.exit(1);
  }
  return out;
}

function compare(fresh) {
  let differences = 0;
  for (const kind of ["ts", "c"]) {
    const want = listFiles(join(fresh, kind), isOurs);
    const have = listFiles(join(GOLDEN, kind), isOurs);
    for (const file of new Set([...want, ...have])) {
      const a = join(GOLDEN, kind, file);
      const b = join(fresh, kind, file);
      if (!existsSync(a) || !existsSync(b)) {
        console.error(`${kind}/${file}: ${existsSync(a) ? "no longer generated" : "not in golden/"}`);
        differences++;
      } else if (!readFileSync(a).equals(readFileSync(b))) {
        console.error(`${kind}/${file} differs:`);
        spawnSync("diff", ["-u", a, b], { stdio: ["ignore", "inherit", "inherit"] });
        differences++;
      }
    }
  }
  return differences;
}

function update(fresh) {
  for (const kind of ["ts", "c"]) {
    rmSync(join(GOLDEN, kind), { recursive: true, force: true });
    for (const file of listFiles(join(fresh, kind), isOurs)) {
      cpSync(join(fresh, kind, file), join(GOLDEN, kind, file));
    }
  }
}

const args = process.argv.slice(2);
const pluginAt = args.indexOf("--plugin");
const plugin = pluginAt >= 0 ? args[pluginAt + 1] : undefined;
const fresh = generate(plugin);
try {
  if (args.includes("--update")) {
    update(fresh);
    console.log(`golden files updated in ${relative(ROOT, GOLDEN)}`);
  } else {
    const differences = compare(fresh);
    if (differences > 0) {
      console.error(`${differences} golden file(s) differ; if the change is intended run: ` +
        "node tests/codegen/golden.mjs --update");
      process.exitCode = 1;
    } else {
      console.log("golden files match");
    }
  }
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
