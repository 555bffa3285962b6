/**
 * A Worker that uses the addon and is terminated mid-call leaves the
 * process running: its handles close before Node unloads the addon
 * (js/native/handle_closing.h), and no call back into the Worker's
 * JavaScript aborts once it cannot run (wake_glue.cc CallBack). Without
 * either, the process died: a segfault in a close callback after the
 * unload, or "FATAL ERROR: Error::Error napi_define_properties".
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { packageRoot } from "../../js/src/native/addon.js";
import { childReport } from "./helpers/child-report.js";

const library = path.join(process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services"), "libshmrpc_rpc_test.so");
const scenario = fileURLToPath(new URL("./helpers/worker-exit.js", import.meta.url));

for (const mode of ["worker-only", "both"] as const) {
  test(`a Worker with two busy services, terminated mid-call (addon loaded by ${mode === "both" ? "this thread too" : "the Worker only"}): the process goes on`, { timeout: 60000 }, async () => {
    for (let round = 0; round < 3; round++) {
      const report = await childReport<{ before?: string; after: string }>(scenario, [mode, library], { timeoutMs: 30000 });
      assert.deepEqual(report, mode === "both" ? { before: "before", after: "after" } : { after: "after" });
    }
  });
}
