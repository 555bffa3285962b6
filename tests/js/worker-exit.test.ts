/**
 * A Worker that uses the addon and is terminated mid-call leaves the
 * process running: the addon's code stays mapped after Node unloads it for
 * the Worker (addon.cc KeepCodeLoaded), for the close callbacks of its
 * handles and the deleter of a cross-process mapping that still run then,
 * and no call back into the Worker's JavaScript aborts once it cannot run
 * (wake_glue.cc CallBack). Without each, the process died: a segfault in a
 * close callback or in that deleter after the unload, or "FATAL ERROR:
 * Error::Error napi_define_properties".
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { packageRoot } from "../../js/src/native/addon.js";
import { childReport } from "./helpers/child-report.js";
import { startHost, stopHost } from "./helpers/host-process.js";

const library = path.join(process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services"), "libshmrpc_rpc_test.so");
const scenario = fileURLToPath(new URL("./helpers/worker-exit.js", import.meta.url));

const described = {
  "worker-only": "two in-process services, the addon loaded by the Worker only",
  both: "two in-process services, the addon loaded by this thread too",
  "cross-process": "two connections to shmrpc-host",
  relay: "two connections to shmrpc-host through the relay",
};

for (const mode of ["worker-only", "both", "cross-process", "relay"] as const) {
  test(`a Worker terminated mid-call (${described[mode]}): the process goes on`, { timeout: 60000 }, async (t) => {
    const runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-worker-exit-"));
    t.after(() => rmSync(runtimeDir, { recursive: true, force: true }));
    if (mode === "cross-process" || mode === "relay") {
      // Started here, not in the child: a child that crashes leaves no host behind.
      const { host } = await startHost("exit", library, runtimeDir);
      t.after(() => stopHost(host));
    }
    for (let round = 0; round < 3; round++) {
      const report = await childReport<{ before?: string; after: string }>(scenario, [mode, library, runtimeDir], { timeoutMs: 30000 });
      assert.deepEqual(report, mode === "both" ? { before: "before", after: "after" } : { after: "after" });
    }
  });
}
