/**
 * The portable entry (`shmrpc`) runs without Node: its module graph
 * reaches no `node:` module and no addon (checked in a fresh process whose
 * module resolution is recorded), and a Worker drives a channel and an
 * RpcClient with it over a region at a non-zero offset of a
 * SharedArrayBuffer, against an echo server on the main thread.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

import { Channel, formatSegment, segmentSize } from "../../js/src/index.js";
import { serveEcho } from "./helpers/echo-server.js";
import type { WorkerReport } from "./helpers/rpc-worker-client.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const runtime = path.resolve(here, "../../js/src");

/** Every URL that importing `entry` in a fresh Node process resolves. */
function modulesLoadedBy(entry: string): string[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), `shmrpc-imports-${process.pid}-`));
  try {
    const log = path.join(dir, "resolved.txt");
    execFileSync(process.execPath, [path.join(here, "helpers/import-probe.js"), entry, log], { stdio: "inherit" });
    return readFileSync(log, "utf8").split("\n").filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isNodeOnly = (url: string) => url.startsWith("node:") || url.endsWith(".node") || !url.startsWith("file:");

describe("the portable entries", () => {
  for (const entry of ["index.js", "internal.js", "rpc/index.js", "codegen-runtime.js"]) {
    test(`${entry} loads no node: module and no addon`, () => {
      const loaded = modulesLoadedBy(path.join(runtime, entry));
      assert.ok(loaded.length > 0, "the recorder saw the graph");
      assert.deepEqual(loaded.filter(isNodeOnly), []);
      assert.deepEqual(loaded.filter((url) => url.includes("/native/") || url.includes("/transport/in-process")), []);
    });
  }

  test("shmrpc (index.js) reaches the channel and the RPC client", () => {
    const loaded = modulesLoadedBy(path.join(runtime, "index.js")).map((url) => fileURLToPath(url));
    for (const part of ["channel/channel.js", "channel/doorbell.js", "rpc/client.js", "rpc/envelope.js"]) {
      assert.ok(loaded.includes(path.join(runtime, part)), part);
    }
  });

  test("shmrpc/node does load Node's modules (the recorder sees them)", () => {
    const loaded = modulesLoadedBy(path.join(runtime, "node.js"));
    assert.ok(loaded.includes("node:fs"), loaded.join("\n"));
  });
});

describe("a Worker with the portable entry", () => {
  test("calls an echo server through a channel at a non-zero offset of a SharedArrayBuffer", { timeout: 60_000 }, async () => {
    const offset = 64 * 3;
    const size = segmentSize(1024, 1024);
    const sab = new SharedArrayBuffer(offset + size + 256);
    new Uint8Array(sab).fill(0xa5);
    const region = formatSegment(sab, offset, { capacityC2S: 1024, capacityS2C: 1024 });
    const server = new Channel(region, { side: "server" });
    const echo = serveEcho(server);
    try {
      const worker = new Worker(new URL("./helpers/rpc-worker-client.js", import.meta.url), { workerData: { region } });
      const exited = once(worker, "exit");
      const [report] = (await once(worker, "message")) as [WorkerReport];
      assert.deepEqual(await exited, [0]);
      assert.deepEqual(
        report.sequential,
        Array.from({ length: 40 }, (_, i) => `echo: call ${i}`),
      );
      assert.deepEqual(
        report.payloadBytes,
        Array.from({ length: 40 }, (_, i) => i * 100),
      );
      assert.deepEqual(
        report.concurrent,
        Array.from({ length: 100 }, (_, i) => `echo: concurrent ${i}`),
      );
      assert.equal(report.sync, "echo: sync");
      assert.equal(echo.requests, 141);
      const bytes = new Uint8Array(sab);
      assert.ok(bytes.subarray(0, offset).every((b) => b === 0xa5), "bytes before the region untouched");
      assert.ok(bytes.subarray(offset + size).every((b) => b === 0xa5), "bytes after the region untouched");
    } finally {
      server.close();
    }
  });
});
