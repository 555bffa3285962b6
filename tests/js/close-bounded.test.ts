/**
 * close() of an in-process service completes in bounded time whatever the
 * peer wrote or does (issue 18): a wait word cleared under a parked
 * service, a ring index that makes the ring look full, a service that never
 * returns. Each scenario runs in a child process
 * (helpers/close-scenarios.ts) that is killed after a timeout, so a
 * regression fails the test instead of hanging the run; the child must
 * also exit by itself (a thread left behind must not hold Node open).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { childReport } from "./helpers/child-report.js";

const script = fileURLToPath(new URL("./helpers/close-scenarios.js", import.meta.url));
const CHILD_TIMEOUT_MS = 20000;

interface Settled {
  ms: number;
  value?: unknown;
  error?: string;
}

/** Runs a scenario; its JSON report, or a failure that says the child hung. */
function run(scenario: string, nodeFlags: string[] = []): Promise<Record<string, unknown>> {
  return childReport(script, [scenario], { nodeFlags, timeoutMs: CHILD_TIMEOUT_MS });
}

const timeout = CHILD_TIMEOUT_MS + 5000;

test("a cleared wait word under a parked service: close() still stops it, and a pending receive ends", { timeout }, async () => {
  const report = await run("wait-word");
  const close = report.close as Settled;
  assert.equal(close.value, 0, `close: ${JSON.stringify(close)}`);
  assert.ok(close.ms < 2000, `close took ${close.ms} ms`);
  assert.equal((report.receive as Settled).error, undefined, "the stream ends cleanly");
  assert.equal(report.running, false);
});

test("a wedged ring (head moved back by one capacity): the call without a deadline fails with UNAVAILABLE at close()", { timeout }, async () => {
  const report = await run("wedged-ring");
  assert.equal(report.stalledCalls, 1, "the call waits while the ring looks full");
  assert.equal((report.call as Settled).error, "rpc 14", `call: ${JSON.stringify(report.call)}`);
  const close = report.close as Settled;
  assert.ok(close.ms < 2000, `close took ${close.ms} ms`);
  assert.equal(report.running, false);
});

test("a service that never returns: close() rejects with ETIMEDOUT after the grace period, and Node still exits", { timeout }, async () => {
  const report = await run("stuck");
  const close = report.close as Settled;
  assert.equal(close.error, "ETIMEDOUT", `close: ${JSON.stringify(close)}`);
  assert.ok(close.ms >= 250 && close.ms < 2000, `close took ${close.ms} ms (grace 300)`);
  assert.equal((report.closeAgain as Settled).error, "ETIMEDOUT", "a second close says the same at once");
  assert.ok((report.closeAgain as Settled).ms < 100);
  assert.equal((report.exited as Settled).error, "ETIMEDOUT", "exited() settles too");
  assert.notEqual((report.receive as Settled).ms, undefined, "the pending receive settled");
});

test("an abandoned service that returns after JavaScript let go of everything finds its segment still there", { timeout }, async () => {
  const report = await run("stuck-gc", ["--expose-gc"]);
  assert.equal((report.close as Settled).error, "ETIMEDOUT");
  assert.equal(report.survived, true);
});
