/**
 * A service that dies with calls in flight: its thread returns without
 * answering or closing (tests/services/channel_test_service.c, "vanish").
 * The host marks the service DEAD for it (docs/PROTOCOL.md section 5), and
 * every pending call fails promptly with UNAVAILABLE instead of waiting for
 * a reply that never comes. The same holds for a thread that ends by
 * pthread_exit ("exit-thread"), which never returns from its entry point.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { InProcessService, packageRoot } from "../../js/src/index.js";
import { RpcClient, Status, isRpcError } from "../../js/src/rpc/index.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";

const library = path.join(packageRoot(), "build/cmake/services/libshmrpc_channel_test.so");
const unavailable = (error: unknown) => isRpcError(error, Status.UNAVAILABLE);

test("calls in flight fail with UNAVAILABLE when the service dies, and later calls at once", { timeout: 10000 }, async () => {
  const service = new InProcessService({ library, config: "vanish" });
  const rpc = new RpcClient(service.channel);
  const client = new RpcTestClient(rpc);
  // No deadlines: only the dead-peer path can end these calls.
  const pending = Array.from({ length: 50 }, (_, i) => client.echo({ text: `call ${i}` }));
  const stream = client.count({ count: 10 });
  for (const call of pending) await assert.rejects(call, unavailable);
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, unavailable);
  assert.equal(rpc.callsInFlight, 0, "no call left behind");
  await assert.rejects(client.echo({ text: "later" }), unavailable);
  assert.equal(await service.exited(), 0);
  rpc.close();
  service.channel.close();
});

test("a service thread that ends by pthread_exit: calls fail with UNAVAILABLE promptly, the exit code says it died", { timeout: 10000 }, async () => {
  const service = new InProcessService({ library, config: "exit-thread" });
  const rpc = new RpcClient(service.channel);
  const client = new RpcTestClient(rpc);
  const started = performance.now();
  const pending = Array.from({ length: 20 }, (_, i) => client.echo({ text: `call ${i}` }));
  for (const call of pending) {
    await assert.rejects(call, (error) => unavailable(error) && /died/.test((error as Error).message));
  }
  // Promptly: the host's mark wakes the client, no timer is involved.
  assert.ok(performance.now() - started < 2000, "calls failed within 2 s");
  assert.equal(await service.exited(), -9, "SHMRPC_EPEERDEAD: the entry point never returned");
  assert.equal(service.running, false);
  rpc.close();
  service.channel.close();
});
