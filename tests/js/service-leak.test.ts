/**
 * A closed InProcessService leaves nothing behind (issue 18): its segment,
 * its native thread state and its callbacks are collected, and memory,
 * threads and descriptors stay flat over thousands of create/close cycles.
 * Runs helpers/service-cycles.ts in a child with --expose-gc (killed after
 * a timeout). The tolerances catch a leak of 16 KiB per cycle over the
 * small-ring run and one of 2 MiB per cycle over the large-ring run.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { childReport } from "./helpers/child-report.js";

const script = fileURLToPath(new URL("./helpers/service-cycles.js", import.meta.url));
const CHILD_TIMEOUT_MS = 120000;

interface Snapshot {
  rssMiB: number;
  threads: number;
  fds: number;
}
interface Report {
  cycles: number;
  measured: number;
  baseline: Snapshot;
  end: Snapshot;
  collected: number;
  hostsCollected: number;
}

function cycles(count: number, ring: number, messages: number): Promise<Report> {
  return childReport<Report>(script, [String(count), String(ring), String(messages)], { nodeFlags: ["--expose-gc"], timeoutMs: CHILD_TIMEOUT_MS });
}

function assertFlat(report: Report, toleranceMiB: number): void {
  const grew = report.end.rssMiB - report.baseline.rssMiB;
  const detail = JSON.stringify(report);
  assert.ok(grew < toleranceMiB, `RSS grew ${grew.toFixed(1)} MiB over ${report.measured} cycles (tolerance ${toleranceMiB}): ${detail}`);
  assert.equal(report.end.threads, report.baseline.threads, `threads: ${detail}`);
  assert.equal(report.end.fds, report.baseline.fds, `descriptors: ${detail}`);
  // A few of the last services may still be reachable from the last tick's frames.
  assert.ok(report.collected >= report.cycles - 5, `only ${report.collected} of ${report.cycles} services were collected: ${detail}`);
  assert.ok(report.hostsCollected >= report.cycles - 5, `only ${report.hostsCollected} of ${report.cycles} addon wrappers were collected: ${detail}`);
}

test("3,000 services with 4 KiB rings, created and closed: memory, threads and descriptors stay flat, every service is collected", { timeout: CHILD_TIMEOUT_MS + 5000 }, async () => {
  // A 16 KiB-per-cycle leak would add 41 MiB over the 2,700 measured cycles.
  assertFlat(await cycles(3000, 4096, 0), 20);
});

test("200 services with 1 MiB rings and traffic: memory stays flat, every service is collected", { timeout: CHILD_TIMEOUT_MS + 5000 }, async () => {
  // A 2 MiB-per-cycle leak would add 360 MiB over the 180 measured cycles.
  assertFlat(await cycles(200, 1 << 20, 4), 64);
});
