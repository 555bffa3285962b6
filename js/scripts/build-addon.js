#!/usr/bin/env node
// Builds the Node addon offline against the headers of the running Node.
// node-gyp downloads headers unless --nodedir names a prefix holding
// include/node (../shared/FACTS.md), so derive it from this Node binary.
// `configure` + `build` rather than `rebuild`: rebuild wipes build/, where
// the CMake and TypeScript outputs live too.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const nodedir = path.resolve(path.dirname(process.execPath), "..");
if (!existsSync(path.join(nodedir, "include/node/node_api.h"))) {
  console.error(
    `build-addon: no Node headers under ${nodedir}/include/node; ` +
      "install the Node development headers (Debian: libnode-dev) or set " +
      "npm_config_nodedir to a prefix that has them.",
  );
  process.exit(1);
}
const require = createRequire(import.meta.url);
const gyp = require.resolve("node-gyp/bin/node-gyp.js");
const args = [`--nodedir=${process.env.npm_config_nodedir || nodedir}`, "--jobs=2"];
for (const step of ["configure", "build"]) {
  execFileSync(process.execPath, [gyp, step, ...args], { cwd: root, stdio: "inherit" });
}
