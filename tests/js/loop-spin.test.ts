/**
 * The event loop's spin (js/native/loop_spin.cc) with several channels on
 * one loop. JavaScript that one channel's wake-up runs may start a call on
 * another channel, which parks that channel's word with SPINNING: the loop
 * must still watch it before it blocks. When each channel had a prepare
 * handle of its own, a call started from the reply of a channel whose
 * handle ran later waited, with every thread asleep, until something else
 * ended the loop's poll (about 7 s here).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { packageRoot } from "../../js/src/native/addon.js";
import { InProcessService } from "../../js/src/node.js";
import { RpcClient } from "../../js/src/rpc/index.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";

const library = path.join(process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services"), "libshmrpc_rpc_test.so");
/** Far above a round trip (tens of µs) and far below the stall: a liveness bound, not a speed goal. */
const ANSWERED_WITHIN_MS = 2000;

test("a call started from another channel's reply is answered at once, in either order of the channels", { timeout: 60000 }, async () => {
  const opened = [0, 1].map(() => {
    const service = new InProcessService({ library, spinMicros: 200, loopSpinMicros: 200 });
    const rpc = new RpcClient(service.channel);
    return { service, rpc, client: new RpcTestClient(rpc) };
  });
  try {
    for (let round = 0; round < 10; round++) {
      for (const [from, to] of [
        [0, 1],
        [1, 0],
      ] as const) {
        // The loop spin catches the reply on `from`; the call on `to` starts inside its wake-up.
        await opened[from]!.client.echo({ text: "first" });
        const began = performance.now();
        const reply = await opened[to]!.client.echo({ text: `round ${round}` });
        const took = performance.now() - began;
        assert.equal(reply.text, `round ${round}`);
        assert.ok(took < ANSWERED_WITHIN_MS, `channel ${to}'s call, started from channel ${from}'s reply, took ${took.toFixed(0)} ms`);
      }
    }
  } finally {
    for (const { service, rpc } of opened) {
      rpc.close();
      await service.close();
    }
  }
});
