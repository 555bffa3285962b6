/**
 * A call cancelled while its REQUEST waits in the server's backlog (the
 * dispatch thread is inside a streaming handler that waits for credit, and
 * keeps later REQUESTs for after it) must stay cancelled. Found by the
 * soak run (issue 18): the CANCEL found no call in the table and was
 * dropped, the REQUEST was dispatched later as if nobody had given up, its
 * stream waited for credit that the client would never send, and the
 * dispatch thread, and with it every later call, was stuck for good.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { packageRoot } from "../../js/src/native/addon.js";
import { InProcessService } from "../../js/src/node.js";
import { RpcClient, Status, isRpcError } from "../../js/src/rpc/index.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";

const library = path.join(packageRoot(), "build/cmake/services/libshmrpc_rpc_test.so");

test("streams cancelled while queued behind a stream waiting for credit do not wedge the server", { timeout: 20000 }, async () => {
  const service = new InProcessService({ library });
  const rpc = new RpcClient(service.channel);
  const client = new RpcTestClient(rpc);
  try {
    await runStreams(client, rpc);
  } finally {
    rpc.close();
  }
  assert.equal(await service.close(), 0);
});

async function runStreams(client: RpcTestClient, rpc: RpcClient): Promise<void> {
  const outcomes: Array<Promise<string>> = [];
  for (let i = 0; i < 100; i++) {
    // Every other stream is cancelled within a few milliseconds, most of
    // them while their REQUEST is still queued in the server.
    const abort = new AbortController();
    if (i % 2 === 0) setTimeout(() => abort.abort(), i % 10);
    const stream = client.count({ count: 200, payloadBytes: 100 }, { signal: abort.signal });
    outcomes.push(
      (async () => {
        let items = 0;
        for await (const _ of stream) items++;
        return items === 200 ? "complete" : `only ${items} items`;
      })().catch((error: unknown) => (isRpcError(error, Status.CANCELLED) ? "cancelled" : String(error))),
    );
  }
  // Bounded: a wedged server leaves the uncancelled streams waiting forever.
  const all = await Promise.race([
    Promise.all(outcomes),
    new Promise<string[]>((resolve) => setTimeout(() => resolve([`${rpc.callsInFlight} calls still in flight after 8 s`]), 8000)),
  ]);
  assert.equal(all.length, 100, all.join("; "));
  assert.equal(all.filter((o) => o === "complete").length + all.filter((o) => o === "cancelled").length, 100, all.join("; "));
  assert.ok(all.filter((o) => o === "complete").length >= 50, "every stream that was not cancelled completes");
  const stats = await client.getStats({}, { timeoutMs: 2000 });
  assert.equal(stats.callsInFlight, 0, "the server holds no call");
}
