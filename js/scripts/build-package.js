#!/usr/bin/env node
// The package's `prepack` step: compiles the runtime (js/src) into
// build/ts/js/src afresh, so that `npm pack` ships exactly the JavaScript and
// type declarations of the current sources (package.json `files`). The addon
// is not packed: the package's `install` script builds it on the user's
// machine (js/scripts/build-addon.js).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
rmSync(path.join(root, "build/ts/js/src"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.pack.json")], { cwd: root, stdio: "inherit" });
