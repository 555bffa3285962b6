/**
 * Live corruption (issue 18): hundreds of seeded trials that scribble over
 * a live segment while RPC calls or channel messages flow
 * (helpers/live-corruption.ts). The process must survive, close() must
 * complete, and every call, send and stream must settle. The trials run in
 * a child process killed after a timeout, so a hang fails the test instead
 * of hanging the run; a crash names its seed on stderr.
 *
 * $SHMRPC_CORRUPTION_TRIALS and $SHMRPC_CORRUPTION_SEED change the count
 * (default 400) and the first seed (default 1); for the long run:
 *
 *   node build/ts/tests/js/helpers/live-corruption.js 1000 1
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { childReport } from "./helpers/child-report.js";

const script = fileURLToPath(new URL("./helpers/live-corruption.js", import.meta.url));
const trials = Number(process.env.SHMRPC_CORRUPTION_TRIALS ?? 400);
const firstSeed = Number(process.env.SHMRPC_CORRUPTION_SEED ?? 1);
// About 40 ms a trial when the machine is loaded, with a wide margin.
const CHILD_TIMEOUT_MS = 60000 + trials * 300;

test(`${trials} seeded trials of scribbles over a live segment: no crash, close() completes, everything settles`, { timeout: CHILD_TIMEOUT_MS + 5000 }, async () => {
  const summary = await childReport(script, [String(trials), String(firstSeed)], { timeoutMs: CHILD_TIMEOUT_MS, reportsFailures: true });
  assert.deepEqual(summary.failures, [], JSON.stringify(summary));
  assert.equal(summary.trials, trials);
  assert.ok((summary.scribbles as number) > trials, "the trials scribbled");
});
