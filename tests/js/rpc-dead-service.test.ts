/**
 * A service that dies with calls in flight: its thread returns without
 * answering or closing (tests/services/channel_test_service.c, "vanish").
 * The host closes the service's side for it, and every pending call fails
 * promptly with UNAVAILABLE instead of waiting for a reply that never comes.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { packageRoot } from "../../js/src/native/addon.js";
import { InProcessService } from "../../js/src/node.js";
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
