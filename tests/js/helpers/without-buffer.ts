/**
 * Runs a test file again in a child Node without `globalThis.Buffer`, as in
 * a browser: the codec uses Node's Buffer where present and the platform's
 * TextEncoder/TextDecoder elsewhere, and both paths must pass.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** True inside the child run. */
export const WITHOUT_BUFFER = process.env.SHMRPC_TEST_WITHOUT_BUFFER === "1";

/** Runs the test file at `moduleUrl` (its import.meta.url) without Buffer; asserts it passes. */
export function passesWithoutBuffer(moduleUrl: string): void {
  const run = spawnSync(
    process.execPath,
    ["--import", "data:text/javascript,delete globalThis.Buffer", fileURLToPath(moduleUrl)],
    { env: { ...process.env, SHMRPC_TEST_WITHOUT_BUFFER: "1" }, encoding: "utf8" },
  );
  assert.equal(run.status, 0, run.stdout + run.stderr);
}
