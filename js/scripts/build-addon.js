#!/usr/bin/env node
// Builds the Node addon offline against the headers of the running Node.
// It is the package's `install` script, so npm runs it instead of its own
// default for a package with a binding.gyp (`node-gyp rebuild`, which
// downloads headers unless told where they are and wipes build/, where the
// CMake and TypeScript outputs live too). Hence `configure` + `build` with
// --nodedir: $npm_config_nodedir if set, else the prefix of this Node binary
// (which must hold include/node/node_api.h).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

function fail(message) {
  console.error(`build-addon: ${message}`);
  process.exit(1);
}

/** node-gyp: the package's own (a dev dependency), else the one npm ships. */
function findNodeGyp() {
  try {
    return createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
  } catch {
    const fromNpm = process.env.npm_config_node_gyp;
    if (fromNpm && existsSync(fromNpm)) return fromNpm;
    return fail("node-gyp not found: run this through npm (`npm run build:addon`) or install node-gyp");
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const nodedir = process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), "..");
if (!existsSync(path.join(nodedir, "include/node/node_api.h"))) {
  fail(
    `no Node headers under ${nodedir}/include/node (Node ${process.version} at ${process.execPath}); ` +
      "install the Node development headers (Debian: libnode-dev) or set " +
      "npm_config_nodedir to a prefix that has them.",
  );
}
/**
 * `--dir DIR`: build in DIR (its build/Release/shmrpc.node) rather than in
 * the package, for another Node version beside the package's own build
 * (scripts/test-node-versions.sh). DIR links to the sources binding.gyp names.
 */
function buildDir(argv) {
  const at = argv.indexOf("--dir");
  if (at === -1) return root;
  const dir = argv[at + 1];
  if (dir === undefined) fail("--dir needs a directory");
  mkdirSync(dir, { recursive: true });
  for (const name of ["binding.gyp", "js", "c", "node_modules"]) {
    const link = path.join(dir, name);
    if (!existsSync(link)) symlinkSync(path.join(root, name), link);
  }
  return path.resolve(dir);
}

const cwd = buildDir(process.argv.slice(2));
const gyp = findNodeGyp();
const args = [`--nodedir=${nodedir}`, "--jobs=2"];
for (const step of ["configure", "build"]) {
  execFileSync(process.execPath, [gyp, step, ...args], { cwd, stdio: "inherit" });
}
