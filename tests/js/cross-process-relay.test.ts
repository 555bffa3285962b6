/**
 * The cross-process relay (docs/CROSS-PROCESS.md; c/include/shmrpc/relay.h),
 * the route Electron takes, forced here with `connect(name, { relay: true })`
 * against a real shmrpc-host serving the RPC test service. What the
 * parameterised suite of tests/js/cross-process.test.ts does not show:
 * which route connect() picks, messages larger than both segments' rings
 * both ways and a stream through small rings, a server that stops with a
 * call pending, and a close that ends the relay's threads and descriptors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { connect, type CrossProcessConnection } from "../../js/src/node.js";
import { RpcClient, Status, isRpcError } from "../../js/src/rpc/index.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";
import { serviceLibrary, startHost, stopHost, type HostProcess } from "./helpers/host-process.js";

const library = serviceLibrary("libshmrpc_rpc_test.so");
/** Rings of 4 KiB on both segments: every larger message is fragmented on each. */
const CAPACITY = 4096;

/** Messages the relay forwarded: [to the server, to JavaScript]. */
function relayCounts(connection: CrossProcessConnection): [number, number] {
  return (connection as unknown as { transport: { client: { relayCounts: [number, number] } } }).transport.client.relayCounts;
}

/** Threads and descriptors of this process. */
function resources(): { threads: number; fds: number } {
  return { threads: readdirSync("/proc/self/task").length, fds: readdirSync("/proc/self/fd").length };
}

describe("the cross-process relay", { timeout: 60000 }, () => {
  let runtimeDir = "";
  let server: HostProcess;
  let counter = 0;

  before(async () => {
    runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-relay-"));
    server = await startHost(`relay${process.pid}`, library, runtimeDir);
  });
  after(async () => {
    await stopHost(server.host);
    rmSync(runtimeDir, { recursive: true, force: true });
  });

  async function open(options: { relay?: boolean; capacity?: number } = { relay: true }) {
    const connection = await connect(server.name, { runtimeDir, ...options });
    const rpc = new RpcClient(connection.channel);
    return { connection, rpc, client: new RpcTestClient(rpc) };
  }

  test("connect() maps directly in Node unless asked to relay; relay: false insists on the direct route", async () => {
    for (const [options, relayed] of [[{}, false], [{ relay: false }, false], [{ relay: true }, true]] as const) {
      const { connection, rpc, client } = await open(options);
      assert.equal(connection.relayed, relayed, JSON.stringify(options));
      assert.equal((await client.echo({ text: "which way" })).text, "which way");
      rpc.close();
      await connection.close();
      // Counted once the relay's threads have ended: the request and the reply.
      assert.deepEqual(relayCounts(connection), relayed ? [1, 1] : [0, 0]);
    }
    await assert.rejects(connect(server.name, { runtimeDir, relay: "yes" as unknown as boolean }), TypeError);
  });

  test("messages larger than both rings pass both ways, and a stream through small rings", async () => {
    const { connection, rpc, client } = await open({ relay: true, capacity: CAPACITY });
    for (const size of [CAPACITY - 100, CAPACITY * 3 + 7, 100_000]) {
      const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff);
      const reply = await client.echo({ text: `${size} bytes`, payload });
      assert.equal(reply.text, `${size} bytes`);
      assert.deepEqual(reply.payload, payload);
    }
    let next = 0;
    for await (const item of client.countDeferred({ count: 300, payloadBytes: 1500 })) {
      assert.equal(item.index, next++);
      assert.equal(item.payload.length, 1500);
    }
    assert.equal(next, 300);
    rpc.close();
    await connection.close();
    const [up, down] = relayCounts(connection);
    assert.ok(up >= 4 && down >= 304, `relayed ${up} up, ${down} down`);
  });

  test("the host stops with a call pending: the call fails with UNAVAILABLE and the channel reports closed", async () => {
    const own = await startHost(`relay${process.pid}-stop${counter++}`, library, runtimeDir);
    const connection = await connect(own.name, { runtimeDir, relay: true });
    const rpc = new RpcClient(connection.channel);
    const client = new RpcTestClient(rpc);
    assert.equal((await client.echo({ text: "up" })).text, "up");
    const failed = assert.rejects(client.hang({ text: "until the host stops" }), (error: unknown) => isRpcError(error, Status.UNAVAILABLE));
    const closed = new Promise<Error | undefined>((resolve) => connection.channel.onClose(resolve));
    await stopHost(own.host);
    await failed;
    await closed;
    assert.equal(connection.connected, false);
    rpc.close();
    await connection.close();
  });

  test("close() ends the relay's two threads and closes its descriptors, with 2 clients at once", async () => {
    // A first connection starts libuv's thread pool (connect runs on it).
    const warm = await open();
    warm.rpc.close();
    await warm.connection.close();
    const before = resources();
    const opened = [await open(), await open()];
    const during = resources();
    assert.equal(during.threads, before.threads + 4, "two relay threads per connection");
    assert.ok(during.fds > before.fds);
    await Promise.all(opened.map(async ({ client }, c) => assert.equal((await client.echo({ text: `client ${c}` })).text, `client ${c}`)));
    for (const { rpc, connection } of opened) {
      rpc.close();
      await connection.close();
      assert.equal(connection.connected, false);
    }
    // A joined thread can stay listed in /proc for a moment after close() returns.
    for (let i = 0; i < 200 && resources().threads !== before.threads; i++) await sleep(10);
    assert.deepEqual(resources(), before);
  });
});
