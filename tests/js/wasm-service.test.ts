/**
 * C services compiled to WebAssembly (build/wasm/services), hosted by
 * WasmService in a Worker (worker_threads here; the browser tests run the
 * same in Chromium): raw frames against echo.wasm, typed calls against
 * greeter.wasm, a deadline the C handler sees, and a Worker that dies
 * mid-call.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import type { Worker } from "node:worker_threads";
import { FrameType, RpcClient, RpcError, Status } from "shmrpc";
import { GreeterClient } from "../../examples/greeter/gen/greeter_pb.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";
import { startWasmServiceInNode } from "./helpers/wasm-node.js";

/** A service whose Worker ends with the test, passed or failed (a live Worker keeps Node running). */
async function start(t: TestContext, ...args: Parameters<typeof startWasmServiceInNode>) {
  const service = await startWasmServiceInNode(...args);
  t.after(() => service.terminate());
  return service;
}

const limit = { timeout: 60000 };

test("echo.wasm sends every TEXT, BINARY and COMMAND message back, also one larger than the ring", limit, async (t) => {
  const service = await start(t, "echo", { capacityC2S: 4096, capacityS2C: 4096 });
  const replies = service.channel[Symbol.asyncIterator]();
  const large = Uint8Array.from({ length: 50_000 }, (_, i) => (i * 7) & 0xff);
  const sent: Array<[FrameType, Uint8Array | string]> = [
    [FrameType.TEXT, "hello, wasm"],
    [FrameType.BINARY, Uint8Array.of(1, 2, 3)],
    [FrameType.COMMAND, new TextEncoder().encode('{"op":"ping"}')],
    [FrameType.BINARY, large],
  ];
  for (const [type, data] of sent) await service.channel.send(type, data);
  for (const [type, data] of sent) {
    const { value } = await replies.next();
    assert.equal(value.type, type);
    assert.deepEqual(value.data, data);
  }
  assert.equal(await service.close(), 0);
});

test("greeter.wasm answers typed unary and streaming calls; a deadline stops a stream that waits for credit", limit, async (t) => {
  const service = await start(t, "greeter");
  const greeter = new GreeterClient(new RpcClient(service.channel, { streamWindow: 1 }));
  assert.equal((await greeter.sayHello({ name: "wasm" })).message, "Hello, wasm!");
  const messages: string[] = [];
  for await (const reply of greeter.streamGreetings({ name: "wasm", count: 3 })) messages.push(reply.message);
  assert.deepEqual(messages, ["Hello #1, wasm!", "Hello #2, wasm!", "Hello #3, wasm!"]);
  // A stream far larger than the client's window: the C handler waits for
  // credit until its deadline, then its write fails and it returns.
  const started = Date.now();
  await assert.rejects(
    async () => {
      for await (const _ of greeter.streamGreetings({ name: "slow", count: 1_000_000 }, { timeoutMs: 200 })) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    (error: unknown) => error instanceof RpcError && error.code === Status.DEADLINE_EXCEEDED,
  );
  assert.ok(Date.now() - started < 5000);
  assert.equal((await greeter.sayHello({ name: "again" })).message, "Hello, again!");
  assert.equal(await service.close(), 0);
});

test("rpc_test_single.wasm: a deadline and a cancel reach the C handler", limit, async (t) => {
  const service = await start(t, "rpc_test_single");
  const rpc = new RpcTestClient(new RpcClient(service.channel));
  const echoed = await rpc.echo({ text: "t" }, { timeoutMs: 5000 });
  assert.ok(echoed.timeLeftMs > 0n && echoed.timeLeftMs <= 5000n, `time left ${echoed.timeLeftMs}`);
  assert.equal((await rpc.echo({ text: "t" })).timeLeftMs, -1n);
  // Hang answers only from its cancel hook: the C side's deadline runs it.
  await assert.rejects(rpc.hang({}, { timeoutMs: 100 }), (error: unknown) => error instanceof RpcError && error.code === Status.DEADLINE_EXCEEDED);
  const controller = new AbortController();
  const cancelled = rpc.hang({}, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(cancelled, (error: unknown) => error instanceof RpcError && error.code === Status.CANCELLED);
  // The hooks ran in C: its counter says so (a GetStats after the cancel is read after it).
  for (let tries = 0; ; tries++) {
    const stats = await rpc.getStats({});
    if (stats.hangsCancelled === 2) {
      assert.equal(stats.callsInFlight, 0);
      break;
    }
    assert.ok(tries < 100, `hangs cancelled in C: ${stats.hangsCancelled}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(await service.close(), 0);
});

test("a Worker terminated mid-call fails the pending calls with UNAVAILABLE", limit, async (t) => {
  const workers: Worker[] = [];
  const service = await start(t, "greeter", {}, workers);
  const greeter = new GreeterClient(new RpcClient(service.channel, { streamWindow: 1 }));
  const stream = greeter.streamGreetings({ name: "x", count: 1_000_000 });
  const iterator = stream[Symbol.asyncIterator]();
  assert.equal((await iterator.next()).value.sequence, 1);
  const pending = greeter.sayHello({ name: "never" });
  service.terminate();
  await assert.rejects(pending, (error: unknown) => error instanceof RpcError && error.code === Status.UNAVAILABLE);
  await assert.rejects(
    async () => {
      for (;;) if ((await iterator.next()).done) break;
    },
    (error: unknown) => error instanceof RpcError && error.code === Status.UNAVAILABLE,
  );
  assert.equal(await service.close(), undefined);
});
