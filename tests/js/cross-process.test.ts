/**
 * The cross-process transport from Node: the shmrpc-host program serves the
 * RPC test service (tests/services/rpc_test_service.c) in a process of its
 * own, and connect() attaches to it by name (docs/PROTOCOL.md section 9).
 * Unary, streaming and events; two and eight connections at once; the host
 * killed with -9 mid-call (every pending call rejects with UNAVAILABLE
 * within 100 ms, the channel reports the server gone) and restarted; a
 * Node client process killed with -9 mid-stream (the host frees its
 * thread, segment and descriptors and serves on). Each on both routes
 * (docs/CROSS-PROCESS.md): the mapping as a SharedArrayBuffer, and the
 * relay through a segment of JavaScript's own.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { isShmrpcError } from "../../js/src/index.js";
import { connect, type CrossProcessConnection } from "../../js/src/node.js";
import { RpcClient, Status, isRpcError } from "../../js/src/rpc/index.js";
import { RpcTest, RpcTestClient, StreamStopped } from "./gen/rpc_test_pb.js";
import { serviceLibrary, startHost as startHostProcess, stopHost } from "./helpers/host-process.js";

const library = serviceLibrary("libshmrpc_rpc_test.so");
const STREAM_STOPPED = "rpctest.RpcTest/StreamStopped";

let runtimeDir = "";
let counter = 0;

/** A shmrpc-host serving the test service under a fresh name, ready to accept. */
function startHost(name = `js${process.pid}-${counter++}`) {
  return startHostProcess(name, library, runtimeDir);
}

/** Entries of /proc/PID/fd or /proc/PID/task. */
const count = (pid: number, what: "fd" | "task") => readdirSync(`/proc/${pid}/${what}`).length;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    assert.ok(i < 1000, `timed out waiting for ${what}`);
    await sleep(5);
  }
}

for (const relay of [false, true]) {
  const route = relay ? "relayed" : "direct";

  async function open(name: string): Promise<{ connection: CrossProcessConnection; rpc: RpcClient; client: RpcTestClient }> {
    const connection = await connect(name, { runtimeDir, relay });
    assert.equal(connection.relayed, relay);
    const rpc = new RpcClient(connection.channel);
    return { connection, rpc, client: new RpcTestClient(rpc) };
  }

  describe(`cross-process transport (shmrpc-host), ${route}`, { timeout: 60000 }, () => {
    before(() => {
      runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-js-"));
    });
    after(() => rmSync(runtimeDir, { recursive: true, force: true }));

    test("unary calls, a stream and its event, through a service in another process", async () => {
      const { name, host } = await startHost();
      const { connection, rpc, client } = await open(name);
      assert.equal(connection.serverPid, host.pid);
      const payload = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
      for (let i = 0; i < 100; i++) {
        const reply = await client.echo({ text: `call ${i}`, payload });
        assert.equal(reply.text, `call ${i}`);
        assert.deepEqual(reply.payload, payload);
      }
      assert.equal(rpc.unarySync(RpcTest.methods.echo, { text: "sync" }).text, "sync");
      const stopped = new Promise<StreamStopped>((resolve) => {
        const off = rpc.onEvent(STREAM_STOPPED, StreamStopped, (e) => (off(), resolve(e)));
      });
      let next = 0;
      for await (const item of client.countDeferred({ count: 500, payloadBytes: 100 })) {
        assert.equal(item.index, next++);
        assert.equal(item.payload[99], (next - 1) & 0xff);
      }
      assert.equal(next, 500);
      const event = await stopped;
      assert.equal(event.sent, 500);
      assert.equal(event.status, Status.OK);
      rpc.close();
      connection.close();
      assert.equal(connection.connected, false);
      await stopHost(host);
    });

    for (const clients of [2, 8]) {
      test(`${clients} connections at once, each with its own segment`, async () => {
        const { name, host } = await startHost();
        const opened = await Promise.all(Array.from({ length: clients }, () => open(name)));
        await Promise.all(
          opened.map(async ({ client }, c) => {
            for (let i = 0; i < 200; i++) {
              const calls = Array.from({ length: 8 }, (_, k) => client.echo({ text: `${c}/${i}/${k}` }));
              const replies = await Promise.all(calls);
              replies.forEach((reply, k) => assert.equal(reply.text, `${c}/${i}/${k}`));
            }
          }),
        );
        for (const { rpc, connection } of opened) {
          rpc.close();
          connection.close();
        }
        await stopHost(host);
      });
    }

    test("kill -9 of the server fails every pending call with UNAVAILABLE within 100 ms; a restarted server takes new connections", async () => {
      const first = await startHost();
      const { connection, rpc, client } = await open(first.name);
      assert.equal((await client.echo({ text: "up" })).text, "up");
      const pending = [
        ...Array.from({ length: 10 }, () => client.hang({ text: "forever" })),
        ...Array.from({ length: 10 }, () => client.echoDeferred({ text: "late", delayMs: 30000 })),
      ];
      const outcomes = pending.map((call) =>
        call.then(
          () => assert.fail("a call to a dead server succeeded"),
          (error: unknown) => {
            assert.ok(isRpcError(error, Status.UNAVAILABLE), String(error));
            // The transport's reason (channel.peerDied) reaches the caller.
            assert.match((error as Error).message, new RegExp(`the server process \\(pid ${first.host.pid}\\) is gone`));
            return performance.now();
          },
        ),
      );
      await sleep(50); // the calls are with the server
      const killedAt = performance.now();
      first.host.kill("SIGKILL");
      const rejectedAt = await Promise.all(outcomes);
      const slowest = Math.max(...rejectedAt) - killedAt;
      assert.ok(slowest < 100, `the last call failed ${slowest.toFixed(1)} ms after kill -9`);
      assert.equal(connection.connected, false);
      await assert.rejects(client.echo({ text: "after" }), (error: unknown) => isRpcError(error, Status.UNAVAILABLE));
      rpc.close();
      connection.close();

      // The dead server's socket is still there, and stale.
      assert.ok(statSync(path.join(runtimeDir, `${first.name}.sock`)).isSocket());
      await assert.rejects(connect(first.name, { runtimeDir, relay }), (error: unknown) => isShmrpcError(error, "ENOSERVER"));
      const second = await startHost(first.name);
      const again = await open(first.name);
      assert.equal((await again.client.echo({ text: "back" })).text, "back");
      again.rpc.close();
      again.connection.close();
      await stopHost(second.host);
    });

    test("kill -9 of the server of an idle connection: onClose reports it with the reason, calls fail at once", async () => {
      const { name, host } = await startHost();
      const { connection, rpc, client } = await open(name);
      assert.equal((await client.echo({ text: "up" })).text, "up");
      const closed = new Promise<Error | undefined>((resolve) => connection.channel.onClose(resolve));
      host.kill("SIGKILL");
      const error = await closed;
      assert.ok(isShmrpcError(error, "EPEERDEAD"), String(error));
      assert.match(error!.message, new RegExp(`the server process \\(pid ${host.pid}\\) is gone`));
      assert.equal(connection.connected, false);
      await assert.rejects(client.echo({ text: "after" }), (e: unknown) => isRpcError(e, Status.UNAVAILABLE));
      rpc.close();
      await connection.close();
    });

    test("kill -9 of a client process mid-stream: the host frees what it held and serves on", async () => {
      const { name, host, log } = await startHost();
      const pid = host.pid!;
      await until(() => count(pid, "task") === 2, "an idle host (main thread and monitor)");
      const fdsBefore = count(pid, "fd");
      const helper = new URL("./helpers/xproc-stream-client.js", import.meta.url);
      const child = spawn(process.execPath, [helper.pathname, name, runtimeDir, route], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
      await until(() => out.includes("streaming"), "the client's stream");
      // The connection's thread, the service's timer and stream threads.
      assert.ok(count(pid, "task") >= 5);
      assert.ok(count(pid, "fd") > fdsBefore);
      child.kill("SIGKILL");
      await until(() => count(pid, "task") === 2, "the host's threads to end");
      await until(() => count(pid, "fd") === fdsBefore, "the host's descriptors to close");
      await until(() => log().includes(`disconnect pid=${child.pid}`), "the disconnect in the log");
      assert.match(log(), new RegExp(`disconnect pid=${child.pid} .* hung-up`));
      const after = await open(name);
      assert.equal((await after.client.echo({ text: "still here" })).text, "still here");
      after.rpc.close();
      after.connection.close();
      await stopHost(host);
    });

    test("clear errors: no server, bad arguments", async () => {
      await assert.rejects(connect("nobody-listens", { runtimeDir, relay }), (error: unknown) => {
        assert.ok(isShmrpcError(error, "ENOSERVER"));
        assert.match((error as Error).message, /nobody-listens\.sock/);
        return true;
      });
      await assert.rejects(connect("../escape", { runtimeDir, relay }), (error: unknown) => isShmrpcError(error, "EINVAL"));
      await assert.rejects(connect(42 as unknown as string), TypeError);
    });
  });
}
