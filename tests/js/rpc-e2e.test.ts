/**
 * End to end: JavaScript → C → JavaScript. The addon hosts the test service
 * libraries of tests/services (built by CMake into build/cmake/services, or
 * $SHMRPC_SERVICES_DIR) on a native thread; the generated RpcTestClient
 * calls them through an RpcClient.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { isShmrpcError } from "../../js/src/index.js";
import { InProcessService, type InProcessOptions } from "../../js/src/node.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient, Status, isRpcError, type MethodDescriptor, type RpcClientOptions } from "../../js/src/rpc/index.js";
import { EchoReply, EchoRequest, RpcTest, RpcTestClient, StreamStopped } from "./gen/rpc_test_pb.js";

const servicesDir = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");
const STREAM_STOPPED = "rpctest.RpcTest/StreamStopped";
const isStatus = (code: number) => (error: unknown) => isRpcError(error, code);

interface Setup {
  service: InProcessService;
  rpc: RpcClient;
  client: RpcTestClient;
}

function start(t: TestContext, library = "rpc_test", options: Partial<InProcessOptions> = {}, rpcOptions: Partial<RpcClientOptions> = {}): Setup {
  const service = new InProcessService({ library: path.join(servicesDir, `libshmrpc_${library}.so`), ...options });
  const rpc = new RpcClient(service.channel, rpcOptions);
  t.after(async () => {
    rpc.close();
    assert.equal(await service.close(), 0, "the service exits cleanly");
  });
  return { service, rpc, client: new RpcTestClient(rpc) };
}

/** Polls GetStats until `check` accepts them (the server updates its counters a moment after a reply). */
async function statsUntil(client: RpcTestClient, check: (s: Awaited<ReturnType<RpcTestClient["getStats"]>>) => boolean) {
  for (let i = 0; ; i++) {
    const stats = await client.getStats({});
    if (check(stats)) return stats;
    assert.ok(i < 200, `server stats never settled: ${JSON.stringify(stats, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
    await sleep(5);
  }
}

describe("RPC end to end (C service in-process)", { timeout: 60000 }, () => {
  test("the host's config reaches the service's setup hook, which may refuse: the channel closes, calls fail, exited() has its code", async () => {
    const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so"), config: "refuse" });
    const rpc = new RpcClient(service.channel);
    const client = new RpcTestClient(rpc);
    await assert.rejects(client.echo({ text: "x" }), isStatus(Status.UNAVAILABLE));
    assert.equal(await service.exited(), -1, "SHMRPC_EINVAL from the setup hook");
    rpc.close();
    await service.close();
  });

  test("a unary call round-trips with the request's fields and the handler's context", async (t) => {
    const { client } = start(t);
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const reply = await client.echo({ text: "héllo ✓", payload });
    assert.equal(reply.text, "héllo ✓");
    assert.deepEqual(reply.payload, payload);
    assert.equal(reply.peer, "in-process", "the host's label, set by shmrpc_serve_service");
    assert.equal(reply.timeLeftMs, -1n);
    assert.ok(reply.callId > 0);
    const timed = await client.echo({ text: "x" }, { timeoutMs: 5000 });
    assert.ok(timed.timeLeftMs > 4000n && timed.timeLeftMs <= 5000n, `time left ${timed.timeLeftMs}`);
  });

  test("every status a handler returns reaches the caller with its message", async (t) => {
    const { client } = start(t);
    for (let status = 1; status <= 16; status++) {
      await assert.rejects(client.echo({ status, errorMessage: `status ${status}` }), (error: unknown) => {
        assert.ok(isRpcError(error, status), `status ${status}: ${String(error)}`);
        assert.equal(error.statusMessage, `status ${status}`);
        assert.equal(error.method, "rpctest.RpcTest/Echo");
        return true;
      });
    }
    await assert.rejects(client.echo({ status: 99 }), isStatus(Status.UNKNOWN));
  });

  test("the runtime's own statuses: UNIMPLEMENTED, FAILED_PRECONDITION, INVALID_ARGUMENT", async (t) => {
    const { rpc } = start(t);
    const echo = RpcTest.methods.echo;
    await assert.rejects(rpc.unary({ ...echo, id: 1 }, {}), (error: unknown) => {
      assert.ok(isRpcError(error, Status.UNIMPLEMENTED));
      assert.equal(error.statusMessage, "unknown method id 0x00000001");
      return true;
    });
    await assert.rejects(rpc.unary({ ...echo, schemaHash: echo.schemaHash ^ 1 }, {}), isStatus(Status.FAILED_PRECONDITION));
    // A MessageType of its own (a generated codec's $encode pass would win over encodedSize and encodeInto).
    const { $encode, $read, ...plain } = EchoRequest;
    const garbage: MethodDescriptor<object, EchoReply> = {
      ...echo,
      requestType: {
        ...plain,
        encodedSize: () => 2,
        encodeInto: (_message, target, offset) => {
          target.set([0x0a, 0x7f], offset); // a string running past the end
          return offset + 2;
        },
      },
    };
    await assert.rejects(rpc.unary(garbage, {}), (error: unknown) => isRpcError(error, Status.INVALID_ARGUMENT) && /does not decode/.test(error.message));
  });

  test("a service library with one handler answers UNIMPLEMENTED for the others", async (t) => {
    const { client } = start(t, "rpc_minimal");
    assert.equal((await client.echo({ text: "tiny" })).text, "tiny");
    await assert.rejects(client.getStats({}), isStatus(Status.UNIMPLEMENTED));
    await assert.rejects(
      (async () => {
        for await (const _ of client.count({ count: 1 })) assert.fail("no message expected");
      })(),
      isStatus(Status.UNIMPLEMENTED),
    );
  });

  test("a deadline hit while the handler sleeps fails the call on time", async (t) => {
    const { client } = start(t);
    const started = performance.now();
    await assert.rejects(client.echo({ delayMs: 400 }, { timeoutMs: 50 }), isStatus(Status.DEADLINE_EXCEEDED));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 49 && elapsed < 300, `failed after ${elapsed.toFixed(1)} ms`);
    // The service goes on once its handler wakes; the late reply is dropped.
    assert.equal((await client.echo({ text: "after" })).text, "after");
    const stats = await statsUntil(client, (s) => s.callsInFlight === 0);
    assert.ok(stats.callsAbandoned >= 1n);
  });

  test("a deferred handler's deadline fires too, and an abort cancels", async (t) => {
    const { client } = start(t);
    await assert.rejects(client.echoDeferred({ delayMs: 300 }, { timeoutMs: 30 }), isStatus(Status.DEADLINE_EXCEEDED));
    const controller = new AbortController();
    const call = client.echoDeferred({ delayMs: 300 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(call, isStatus(Status.CANCELLED));
    await statsUntil(client, (s) => s.callsInFlight === 0);
  });

  test("a handler that never answers: the deadline fires and nothing leaks", async (t) => {
    const { client } = start(t);
    const hangs = Array.from({ length: 20 }, () => client.hang({}, { timeoutMs: 40 }));
    for (const hang of hangs) await assert.rejects(hang, isStatus(Status.DEADLINE_EXCEEDED));
    // The cancel hook finished every one: the call table is empty and no call memory is held.
    const stats = await statsUntil(client, (s) => s.hangsCancelled === 20);
    assert.equal(stats.callsInFlight, 0);
    assert.equal(stats.callsAlive, 0);
  });

  test("10,000 concurrent calls complete out of order", async (t) => {
    const { client, rpc } = start(t, "rpc_test", {}, { maxCallsInFlight: 10000 });
    const n = 10000;
    const order: number[] = [];
    const calls = Array.from({ length: n }, (_, i) =>
      client.echoDeferred({ text: String(i), delayMs: (i * 7919) % 23 }).then((reply) => {
        assert.equal(reply.text, String(i));
        order.push(i);
      }),
    );
    assert.equal(rpc.callsInFlight, n);
    await Promise.all(calls);
    assert.equal(order.length, n);
    let inversions = 0;
    for (let i = 1; i < n; i++) if ((order[i] as number) < (order[i - 1] as number)) inversions++;
    assert.ok(inversions > 100, `only ${inversions} replies overtook an earlier call`);
    await statsUntil(client, (s) => s.callsInFlight === 0 && s.callsAlive === 0);
  });

  test("more calls than maxCallsInFlight queue and all complete", async (t) => {
    const { client, rpc } = start(t, "rpc_test", {}, { maxCallsInFlight: 16 });
    const calls = Array.from({ length: 2000 }, (_, i) => client.echo({ text: String(i) }));
    assert.equal(rpc.callsInFlight, 16);
    assert.equal(rpc.callsQueued, 2000 - 16);
    const replies = await Promise.all(calls);
    replies.forEach((reply, i) => assert.equal(reply.text, String(i)));
  });

  test("calls issued in one tick reach C in one publish", async (t) => {
    const { client, service } = start(t);
    await client.echo({}); // the service is up and parked
    const before = service.channel.stats.publishes;
    const calls = Array.from({ length: 64 }, (_, i) => client.echo({ text: String(i) }));
    const publishedInTick = service.channel.stats.publishes;
    await Promise.all(calls);
    assert.equal(publishedInTick, before, "nothing is published before the tick ends");
    assert.ok(service.channel.stats.publishes - before <= 2, `${service.channel.stats.publishes - before} publishes`);
  });

  test("requests and replies larger than the ring are fragmented both ways", async (t) => {
    // 15 times the ring; nanopb (Debian's build, 16-bit pb_size_t) caps a bytes field at 65535.
    const { client, rpc } = start(t, "rpc_test", { capacity: 4096 });
    const payload = Uint8Array.from({ length: 60000 }, (_, i) => (i * 31) & 0xff);
    const reply = await client.echo({ text: "big", payload });
    assert.equal(reply.payload.length, payload.length);
    assert.deepEqual(reply.payload, payload);
    assert.equal((await client.echo({ text: "small" })).text, "small");
    // The sync loop moves a request that waits for ring space on itself.
    assert.deepEqual(rpc.unarySync(RpcTest.methods.echo, { payload }).payload, payload);
  });

  test("bytes and string fields of 1 MiB and 16 MiB reach C and come back", async (t) => {
    const { client } = start(t);
    for (const size of [1 << 20, 16 << 20]) {
      const payload = Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >>> 11)) & 0xff);
      const text = "é".repeat(size / 2); // size bytes of UTF-8
      const reply = await client.echo({ text, payload });
      assert.equal(reply.payload.length, size);
      assert.ok(Buffer.from(reply.payload).equals(payload), `${size}-byte payload came back changed`);
      assert.ok(reply.text === text, `${size}-byte text came back changed`);
    }
  });

  test("beyond the 64 MiB message limit a request or its reply fails with RESOURCE_EXHAUSTED", async (t) => {
    const { client } = start(t);
    // The service has opened (and published its limit) once it answers: a
    // message sent before that is not checked against the limit.
    assert.equal((await client.echo({ text: "up" })).text, "up");
    const limit = 64 << 20;
    await assert.rejects(
      client.echo({ payload: new Uint8Array(limit) }),
      (error: unknown) => isRpcError(error, Status.RESOURCE_EXHAUSTED) && /larger than the server accepts/.test(error.message),
    );
    // A request that just fits (envelope 28, tag 1, length 4): C decodes
    // it, but its echo carries more fields and exceeds the limit.
    await assert.rejects(
      client.echo({ payload: new Uint8Array(limit - 33) }),
      (error: unknown) => isRpcError(error, Status.RESOURCE_EXHAUSTED) && /larger than the client accepts/.test(error.message),
    );
    assert.equal((await client.echo({ text: "still fine" })).text, "still fine");
  });

  test("an Echo asked to fail with status -1 (SHMRPC_DEFERRED's value) is answered UNKNOWN, not left pending", async (t) => {
    const { client } = start(t);
    // Before the fix the call stayed deferred: DEADLINE_EXCEEDED after 5 s.
    await assert.rejects(client.echo({ status: -1 }, { timeoutMs: 5000 }), isStatus(Status.UNKNOWN));
    assert.equal((await client.getStats({})).callsInFlight, 0, "no call left in the server");
  });

  test("a reply larger than the client accepts fails with RESOURCE_EXHAUSTED", async (t) => {
    const { client } = start(t, "rpc_test", { maxMessageBytes: 4096 });
    await assert.rejects(client.echo({ payload: new Uint8Array(30000) }), (error: unknown) => isRpcError(error, Status.RESOURCE_EXHAUSTED) && /larger than the client accepts/.test(error.message));
    assert.equal((await client.echo({ text: "still fine" })).text, "still fine");
  });

  for (const method of ["count", "countDeferred"] as const) {
    test(`${method}: a slow consumer slows the producer and loses nothing`, async (t) => {
      const { client, rpc } = start(t, "rpc_test", { capacity: 1 << 16 }, { streamWindow: 8 });
      const stopped = new Promise<StreamStopped>((resolve) => {
        const off = rpc.onEvent(STREAM_STOPPED, StreamStopped, (e) => (off(), resolve(e)));
      });
      const stream = client[method]({ count: 3000, payloadBytes: 200 });
      let next = 0;
      let maxBuffered = 0;
      for await (const item of stream) {
        assert.equal(item.index, next);
        assert.equal(item.payload.length, 200);
        assert.equal(item.payload[199], next & 0xff);
        next++;
        maxBuffered = Math.max(maxBuffered, (stream as unknown as { buffered: number }).buffered);
        if (next % 300 === 0) await sleep(10);
      }
      assert.equal(next, 3000);
      assert.ok(maxBuffered <= 8, `${maxBuffered} messages buffered with a window of 8`);
      const event = await stopped;
      assert.equal(event.sent, 3000);
      assert.equal(event.status, Status.OK);
    });

    test(`${method}: cancelling in the middle stops the C producer`, async (t) => {
      const { client, rpc } = start(t, "rpc_test", {}, { streamWindow: 16 });
      const stopped = new Promise<StreamStopped>((resolve) => {
        const off = rpc.onEvent(STREAM_STOPPED, StreamStopped, (e) => (off(), resolve(e)));
      });
      let taken = 0;
      for await (const item of client[method]({ count: 1_000_000 })) {
        assert.equal(item.index, taken++);
        if (taken === 50) break;
      }
      const event = await stopped;
      assert.equal(event.status, Status.CANCELLED, "the handler's write saw the cancel");
      assert.ok(event.sent >= 50 && event.sent <= 50 + 16 + 16, `the producer sent ${event.sent}`);
      await statsUntil(client, (s) => s.callsInFlight === 0 && s.callsAlive === 0);
    });
  }

  test("unarySync returns the reply and handles async calls' replies meanwhile", async (t) => {
    const { client, rpc } = start(t);
    const pending = client.echoDeferred({ text: "async", delayMs: 5 });
    const reply = rpc.unarySync(RpcTest.methods.echo, { text: "sync" });
    assert.equal(reply.text, "sync");
    for (let i = 0; i < 100; i++) assert.equal(rpc.unarySync(RpcTest.methods.echo, { text: String(i) }).text, String(i));
    assert.throws(() => rpc.unarySync(RpcTest.methods.hang, {}, { timeoutMs: 30 }), isStatus(Status.DEADLINE_EXCEEDED));
    assert.throws(() => rpc.unarySync(RpcTest.methods.echo, { status: Status.NOT_FOUND }), isStatus(Status.NOT_FOUND));
    assert.equal((await pending).text, "async");
  });

  test("a channel has one RpcClient at a time; its successor continues the call ids and never gets its replies", async (t) => {
    const { service, rpc, client } = start(t);
    const first = await client.echo({ text: "A" });
    assert.throws(
      () => new RpcClient(service.channel),
      (error: unknown) => isShmrpcError(error, "EINVAL") && /already has an open RpcClient/.test(error.message),
    );
    // A call of A's still in flight when A closes: nothing the server
    // sends for it may reach B.
    const late = assert.rejects(client.echoDeferred({ text: "A, late", delayMs: 30 }), isStatus(Status.UNAVAILABLE));
    rpc.close();
    await late;
    const successor = new RpcClient(service.channel);
    t.after(() => successor.close());
    const b = new RpcTestClient(successor);
    const replies = await Promise.all(["B1", "B2", "B3"].map((text) => b.echo({ text })));
    assert.deepEqual(
      replies.map((r) => r.text),
      ["B1", "B2", "B3"],
    );
    for (const reply of replies) assert.ok(reply.callId > first.callId + 1, `call id ${reply.callId} continues after ${first.callId + 1}`);
    await sleep(60);
    assert.equal((await b.echo({ text: "B4" })).text, "B4");
  });

  test("calls after close, and calls pending at close, fail with UNAVAILABLE", async (t) => {
    const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so") });
    const rpc = new RpcClient(service.channel);
    const client = new RpcTestClient(rpc);
    t.after(() => rpc.close());
    assert.equal((await client.echo({ text: "up" })).text, "up");
    const pending = assert.rejects(client.hang({}), isStatus(Status.UNAVAILABLE));
    const stream = client.count({ count: 1_000_000 });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    assert.equal(await service.close(), 0);
    await pending;
    await assert.rejects(
      (async () => {
        for (;;) if ((await iterator.next()).done) break;
      })(),
      isStatus(Status.UNAVAILABLE),
    );
    await assert.rejects(client.echo({}), isStatus(Status.UNAVAILABLE));
    assert.throws(() => rpc.unarySync(RpcTest.methods.echo, {}), isStatus(Status.UNAVAILABLE));
  });
});
