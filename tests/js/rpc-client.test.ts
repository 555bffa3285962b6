/**
 * RpcClient against a fake server written in TypeScript: both ends of one
 * segment in this thread. The fake records every envelope the client sends
 * and answers exactly as each test tells it, so correlation, queueing,
 * timeouts, cancellation, credit and failures can be checked envelope by
 * envelope. (tests/js/rpc-e2e.test.ts runs the same client against C.)
 */
import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";

import { Channel, FrameType, createSegment, isShmrpcError, type ChannelOptions } from "../../js/src/index.js";
import { Offset, RingOffset } from "../../js/src/channel/layout.js";
import { EnvelopeKind, encodeEnvelope, parseEnvelope, type Envelope, type EnvelopeHeader } from "../../js/src/internal.js";
import { RpcClient, Status, isRpcError, type RpcClientOptions } from "../../js/src/rpc/index.js";
import { CountItem, EchoReply, EchoRequest, RpcTest, StreamStopped, SumItem, SumReply } from "./gen/rpc_test_pb.js";

const { echo, count, sum } = RpcTest.methods;
const isStatus = (code: number) => (error: unknown) => isRpcError(error, code);


/** The server end: records what arrives, sends what a test says. */
class FakeServer {
  readonly received: Envelope[] = [];
  private waiters: Array<() => void> = [];

  constructor(readonly channel: Channel) {
    channel.onMessage((message) => {
      assert.equal(message.type, FrameType.COMMAND);
      this.received.push(parseEnvelope(message.data as Uint8Array));
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  of(kind: number): Envelope[] {
    return this.received.filter((e) => e.kind === kind);
  }

  /** Resolves once `n` envelopes of `kind` have arrived. */
  async waitFor(kind: number, n: number): Promise<Envelope[]> {
    while (this.of(kind).length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.of(kind);
  }

  send(header: Partial<EnvelopeHeader> & { kind: EnvelopeHeader["kind"] }, body?: Uint8Array): Promise<void> {
    const full = { callId: 0, methodId: 0, schemaHash: 0, status: 0, timeoutUs: 0, credit: 0, ...header };
    return this.channel.send(FrameType.COMMAND, encodeEnvelope(full, body));
  }

  reply(callId: number, text: string): Promise<void> {
    return this.send({ kind: EnvelopeKind.RESPONSE, callId }, EchoReply.encode({ text, callId }));
  }
}

function setup(
  t: TestContext,
  options: Partial<RpcClientOptions> = {},
  serverOptions: Partial<ChannelOptions> = {},
  capacity = 1 << 16,
  clientOptions: Partial<ChannelOptions> = {},
): { rpc: RpcClient; server: FakeServer; client: Channel; sab: SharedArrayBuffer } {
  const sab = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
  const client = new Channel(sab, { side: "client", ...clientOptions });
  const serverChannel = new Channel(sab, { side: "server", ...serverOptions });
  const rpc = new RpcClient(client, options);
  const server = new FakeServer(serverChannel);
  t.after(() => {
    rpc.close();
    client.close();
    serverChannel.close();
  });
  return { rpc, server, client, sab };
}

describe("RpcClient (fake server)", { timeout: 10000 }, () => {
  test("an impossible ring index seen as calls start fails them with UNAVAILABLE; no call method throws", async (t) => {
    // No spin budget: the first call's expect() parks at once and reads the corrupt tail.
    const { rpc, client, sab } = setup(t, {}, {}, 4096, { spinMicros: 0 });
    await nextTurn();
    const words = new Int32Array(sab);
    words[(Offset.RING1_CONTROL + RingOffset.TAIL) / 4] = 1 << 20; // more than the ring holds
    const unary = rpc.unary(echo, { text: "a" });
    const stream = rpc.serverStreaming(count, { count: 1 });
    await assert.rejects(unary, isStatus(Status.UNAVAILABLE));
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, isStatus(Status.UNAVAILABLE));
    assert.equal(client.state, "failed");
    assert.equal(rpc.callsInFlight, 0);
  });

  test("matches replies to calls by id, in any order", async (t) => {
    const { rpc, server } = setup(t);
    const calls = ["a", "b", "c"].map((text) => rpc.unary(echo, { text }));
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 3);
    assert.deepEqual(
      requests.map((r) => EchoRequest.decode(r.body).text),
      ["a", "b", "c"],
    );
    for (const r of requests) {
      assert.equal(r.methodId, echo.id);
      assert.equal(r.schemaHash, echo.schemaHash);
      assert.equal(r.timeoutUs, 0);
    }
    assert.equal(new Set(requests.map((r) => r.callId)).size, 3);
    for (const r of [...requests].reverse()) await server.reply(r.callId, `reply to ${EchoRequest.decode(r.body).text}`);
    assert.deepEqual(
      (await Promise.all(calls)).map((reply) => reply.text),
      ["reply to a", "reply to b", "reply to c"],
    );
    assert.equal(rpc.callsInFlight, 0);
  });

  test("call ids wrap after 2^32 - 1 and skip ids still in flight", async (t) => {
    const { rpc, server } = setup(t);
    (rpc as unknown as { calls: { nextId: number } }).calls.nextId = 0xfffffffe;
    const old = rpc.unary(echo, { text: "old" }); // 0xfffffffe, still in flight below
    const [first] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    assert.equal(first!.callId, 0xfffffffe);
    await server.reply(0xfffffffe, "old"); // it ends: 0xfffffffe is free again
    await old;
    const last = rpc.unary(echo, { text: "last" }); // 0xffffffff
    const wrapped = rpc.unary(echo, { text: "wrapped" }); // 1, never 0
    (rpc as unknown as { calls: { nextId: number } }).calls.nextId = 0xffffffff;
    const skipping = rpc.unary(echo, { text: "skipping" }); // 0xffffffff and 1 in flight: 2
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 4);
    assert.deepEqual(
      requests.slice(1).map((r) => r.callId),
      [0xffffffff, 1, 2],
    );
    for (const r of requests.slice(1)) await server.reply(r.callId, "done");
    await Promise.all([last, wrapped, skipping]);
  });

  test("calls issued in one tick go out in one publish", async (t) => {
    const { rpc, server, client } = setup(t);
    const before = { ...client.stats };
    const calls = Array.from({ length: 100 }, (_, i) => rpc.unary(echo, { text: String(i) }));
    await server.waitFor(EnvelopeKind.REQUEST, 100);
    assert.equal(client.stats.publishes - before.publishes, 1);
    assert.ok(client.stats.doorbellRings - before.doorbellRings <= 1);
    for (const r of server.of(EnvelopeKind.REQUEST)) await server.reply(r.callId, "ok");
    await Promise.all(calls);
  });

  test("at most maxCallsInFlight calls are on the wire; the rest wait their turn", async (t) => {
    const { rpc, server } = setup(t, { maxCallsInFlight: 4 });
    const calls = Array.from({ length: 10 }, (_, i) => rpc.unary(echo, { text: String(i) }));
    await server.waitFor(EnvelopeKind.REQUEST, 4);
    await nextTurn();
    assert.equal(server.of(EnvelopeKind.REQUEST).length, 4);
    assert.equal(rpc.callsInFlight, 4);
    assert.equal(rpc.callsQueued, 6);
    let answered = 0;
    while (answered < 10) {
      const requests = server.of(EnvelopeKind.REQUEST);
      assert.ok(requests.length - answered <= 4, "never more than 4 unanswered");
      const r = requests[answered++] as Envelope;
      await server.reply(r.callId, EchoRequest.decode(r.body).text);
      if (answered < 10) await server.waitFor(EnvelopeKind.REQUEST, Math.min(10, answered + 4));
    }
    assert.deepEqual(
      (await Promise.all(calls)).map((reply) => reply.text),
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
  });

  test("a timeout fails the call with DEADLINE_EXCEEDED and cancels it; the late reply is dropped", async (t) => {
    const { rpc, server } = setup(t);
    const started = performance.now();
    const call = rpc.unary(echo, { text: "slow" }, { timeoutMs: 40 });
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    // What was left of the 40 ms when the request went out, which was before
    // the server saw it (a loaded machine may delay both).
    const seenAfterMs = performance.now() - started;
    assert.ok(
      request!.timeoutUs <= 40000 && request!.timeoutUs >= (40 - seenAfterMs) * 1000 - 1000,
      `timeout_us ${request!.timeoutUs}, seen after ${seenAfterMs.toFixed(1)} ms`,
    );
    await assert.rejects(call, (error: unknown) => {
      assert.ok(isRpcError(error, Status.DEADLINE_EXCEEDED));
      assert.equal(error.method, "rpctest.RpcTest/Echo");
      return true;
    });
    assert.ok(performance.now() - started >= 39);
    const [cancel] = await server.waitFor(EnvelopeKind.CANCEL, 1);
    assert.equal(cancel!.callId, request!.callId);
    await server.reply(request!.callId, "too late");
    // An idle client does not read: the next call's reply comes after the late one.
    const next = rpc.unary(echo, { text: "next" });
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 2);
    await server.reply(requests[1]!.callId, "next");
    assert.equal((await next).text, "next");
    assert.equal(rpc.stats.lateReplies, 1);
  });

  test("timeoutMs <= 0 fails at once without sending", async (t) => {
    const { rpc, server } = setup(t);
    await assert.rejects(rpc.unary(echo, {}, { timeoutMs: 0 }), isStatus(Status.DEADLINE_EXCEEDED));
    await nextTurn();
    assert.equal(server.received.length, 0);
  });

  test("an abort fails the call with CANCELLED and cancels it on the server", async (t) => {
    const { rpc, server } = setup(t);
    const controller = new AbortController();
    const call = rpc.unary(echo, { text: "x" }, { signal: controller.signal });
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    controller.abort(new Error("user left"));
    await assert.rejects(call, (error: unknown) => isRpcError(error, Status.CANCELLED) && /user left/.test(error.message));
    const [cancel] = await server.waitFor(EnvelopeKind.CANCEL, 1);
    assert.equal(cancel!.callId, request!.callId);
  });

  test("an already aborted signal fails the call without sending it", async (t) => {
    const { rpc, server } = setup(t);
    await assert.rejects(rpc.unary(echo, {}, { signal: AbortSignal.abort() }), isStatus(Status.CANCELLED));
    await nextTurn();
    assert.equal(server.received.length, 0);
  });

  test("an abort of a queued call takes it out of the queue", async (t) => {
    const { rpc, server } = setup(t, { maxCallsInFlight: 1 });
    const first = rpc.unary(echo, { text: "first" });
    const controller = new AbortController();
    const second = rpc.unary(echo, { text: "second" }, { signal: controller.signal });
    const third = rpc.unary(echo, { text: "third" });
    controller.abort();
    await assert.rejects(second, isStatus(Status.CANCELLED));
    const [r1] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.reply(r1!.callId, "1");
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 2);
    assert.equal(EchoRequest.decode(requests[1]!.body).text, "third");
    await server.reply(requests[1]!.callId, "3");
    assert.equal((await first).text, "1");
    assert.equal((await third).text, "3");
    assert.equal(server.of(EnvelopeKind.CANCEL).length, 0);
  });

  test("an ERROR reply rejects with the server's status and message", async (t) => {
    const { rpc, server } = setup(t);
    const call = rpc.unary(echo, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.ERROR, callId: request!.callId, status: Status.NOT_FOUND }, new TextEncoder().encode("no such thing"));
    await assert.rejects(call, (error: unknown) => {
      assert.ok(isRpcError(error, Status.NOT_FOUND));
      assert.equal(error.codeName, "NOT_FOUND");
      assert.equal(error.statusMessage, "no such thing");
      assert.equal(error.method, echo.path);
      return true;
    });
  });

  for (const status of [Status.OK, 17, 0xffffffff]) {
    test(`an ERROR with status ${status} rejects with UNKNOWN naming the value`, async (t) => {
      const { rpc, server } = setup(t);
      const call = rpc.unary(echo, {});
      const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
      await server.send({ kind: EnvelopeKind.ERROR, callId: request!.callId, status }, new TextEncoder().encode("odd"));
      await assert.rejects(call, (error: unknown) => {
        assert.ok(isRpcError(error, Status.UNKNOWN));
        assert.equal(error.codeName, "UNKNOWN");
        assert.match(error.statusMessage, new RegExp(`^protocol violation: .*status ${status}\\b.*"odd"`));
        return true;
      });
      assert.equal(rpc.stats.malformed, 1);
    });
  }

  test("a STREAM_END with a status beyond 16 throws UNKNOWN naming the value", async (t) => {
    const { rpc, server } = setup(t);
    const stream = rpc.serverStreaming(count, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.STREAM_END, callId: request!.callId, status: 17 });
    await assert.rejects(
      (async () => {
        for await (const _ of stream);
      })(),
      (error: unknown) => isRpcError(error, Status.UNKNOWN) && /status 17\b/.test(error.statusMessage),
    );
  });

  test("a response that does not decode fails the call with INTERNAL", async (t) => {
    const { rpc, server } = setup(t);
    const call = rpc.unary(echo, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.RESPONSE, callId: request!.callId }, Uint8Array.of(0x0a, 0x7f));
    await assert.rejects(call, isStatus(Status.INTERNAL));
  });

  test("malformed and unsolicited envelopes are counted and dropped", async (t) => {
    const { rpc, server } = setup(t);
    const call = rpc.unary(echo, { text: "x" });
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.channel.send(FrameType.COMMAND, Uint8Array.of(1, 2, 3));
    await server.send({ kind: EnvelopeKind.REQUEST, callId: request!.callId });
    await server.reply(request!.callId + 1000, "stranger");
    await server.channel.send(FrameType.TEXT, "not for RPC");
    await server.reply(request!.callId, "mine");
    assert.equal((await call).text, "mine");
    assert.equal(rpc.stats.malformed, 2);
    assert.equal(rpc.stats.lateReplies, 1);
  });

  test("a request larger than the server accepts fails with RESOURCE_EXHAUSTED", async (t) => {
    const { rpc, server } = setup(t, {}, { maxMessageBytes: 100 });
    await assert.rejects(rpc.unary(echo, { payload: new Uint8Array(200) }), isStatus(Status.RESOURCE_EXHAUSTED));
    const small = rpc.unary(echo, { text: "fits" });
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.reply(request!.callId, "ok");
    assert.equal((await small).text, "ok");
  });

  test("requests of every size reach the server intact: encoded in the ring, or sized and copied where they would cross its end", async (t) => {
    const { rpc, server } = setup(t, {}, {}, 4096);
    // Text up to 190 bytes, and bytes up to 3 KiB at every alignment (a long
    // payload goes into the ring through the aligned copy).
    const requests = Array.from({ length: 90 }, (_, i) => ({
      text: "x".repeat((i * 37) % 190),
      payload: Uint8Array.from({ length: (i * 211) % 3000 }, (_, k) => (k * 7 + i) & 0xff),
    }));
    for (const [i, sent] of requests.entries()) {
      const call = rpc.unary(echo, sent);
      const [request] = (await server.waitFor(EnvelopeKind.REQUEST, i + 1)).slice(i);
      const received = EchoRequest.decode(request!.body);
      assert.deepEqual([received.text, received.payload], [sent.text, sent.payload], `request ${i}`);
      await server.reply(request!.callId, `ok ${i}`);
      assert.equal((await call).text, `ok ${i}`);
    }
  });

  test("a request with a value of the wrong type fails with INVALID_ARGUMENT; nothing is sent, later calls go on", async (t) => {
    const { rpc, server } = setup(t);
    await assert.rejects(rpc.unary(echo, { text: 5 as never }), isStatus(Status.INVALID_ARGUMENT));
    await assert.rejects(rpc.unary(echo, { payload: "bytes" as never }), isStatus(Status.INVALID_ARGUMENT));
    assert.equal(rpc.callsInFlight, 0);
    const call = rpc.unary(echo, { text: "fine" });
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 1);
    assert.equal(requests.length, 1, "only the good request went out");
    assert.equal(EchoRequest.decode(requests[0]!.body).text, "fine");
    await server.reply(requests[0]!.callId, "ok");
    assert.equal((await call).text, "ok");
  });

  test("close() fails pending calls with UNAVAILABLE, cancels them, and refuses later calls", async (t) => {
    const { rpc, server } = setup(t, { maxCallsInFlight: 1 });
    const sent = rpc.unary(echo, {});
    const queued = rpc.unary(echo, {});
    await server.waitFor(EnvelopeKind.REQUEST, 1);
    rpc.close();
    await assert.rejects(sent, isStatus(Status.UNAVAILABLE));
    await assert.rejects(queued, isStatus(Status.UNAVAILABLE));
    await server.waitFor(EnvelopeKind.CANCEL, 1);
    await assert.rejects(rpc.unary(echo, {}), isStatus(Status.UNAVAILABLE));
    assert.throws(() => rpc.unarySync(echo, {}), isStatus(Status.UNAVAILABLE));
  });

  test("the peer closing fails pending calls and later calls with UNAVAILABLE", async (t) => {
    const { rpc, server } = setup(t);
    const call = rpc.unary(echo, {});
    await server.waitFor(EnvelopeKind.REQUEST, 1);
    server.channel.close();
    await assert.rejects(call, isStatus(Status.UNAVAILABLE));
    await assert.rejects(rpc.unary(echo, {}), isStatus(Status.UNAVAILABLE));
  });

  test("a stream grants credit as the consumer takes messages", async (t) => {
    const { rpc, server } = setup(t, { streamWindow: 4 });
    const stream = rpc.serverStreaming(count, { count: 10 })[Symbol.asyncIterator]();
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    assert.equal(request!.credit, 4);
    const id = request!.callId;
    const item = (index: number) => server.send({ kind: EnvelopeKind.STREAM_MESSAGE, callId: id }, CountItem.encode({ index }));
    for (let i = 0; i < 4; i++) await item(i);
    assert.equal((await stream.next()).value.index, 0);
    await nextTurn();
    assert.equal(server.of(EnvelopeKind.CREDIT).length, 0, "one message taken: below half a window");
    assert.equal((await stream.next()).value.index, 1);
    const [credit] = await server.waitFor(EnvelopeKind.CREDIT, 1);
    assert.equal(credit!.callId, id);
    assert.equal(credit!.credit, 2);
    for (let i = 4; i < 6; i++) await item(i);
    for (let i = 2; i < 6; i++) assert.equal((await stream.next()).value.index, i);
    await server.send({ kind: EnvelopeKind.STREAM_END, callId: id });
    assert.equal((await stream.next()).done, true);
  });

  test("a server that sends beyond its credit fails the stream", async (t) => {
    const { rpc, server } = setup(t, { streamWindow: 2 });
    const stream = rpc.serverStreaming(count, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    for (let i = 0; i < 3; i++) {
      await server.send({ kind: EnvelopeKind.STREAM_MESSAGE, callId: request!.callId }, CountItem.encode({ index: i }));
    }
    // Nobody consumes yet, so no credit goes back before the third arrives.
    await server.waitFor(EnvelopeKind.CANCEL, 1);
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const it of stream) seen.push(it.index);
      })(),
      (error: unknown) => isRpcError(error, Status.INTERNAL) && /credit/.test(error.message),
    );
    assert.deepEqual(seen, [0, 1]);
  });

  test("a stream ending with an error throws it after the messages before it", async (t) => {
    const { rpc, server } = setup(t);
    const stream = rpc.serverStreaming(count, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.STREAM_MESSAGE, callId: request!.callId }, CountItem.encode({ index: 7 }));
    await server.send({ kind: EnvelopeKind.STREAM_END, callId: request!.callId, status: Status.ABORTED }, new TextEncoder().encode("gave up"));
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const it of stream) seen.push(it.index);
      })(),
      (error: unknown) => isRpcError(error, Status.ABORTED) && error.statusMessage === "gave up",
    );
    assert.deepEqual(seen, [7]);
  });

  test("leaving a for-await loop early cancels the stream", async (t) => {
    const { rpc, server } = setup(t);
    const stream = rpc.serverStreaming(count, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.STREAM_MESSAGE, callId: request!.callId }, CountItem.encode({ index: 0 }));
    for await (const it of stream) {
      assert.equal(it.index, 0);
      break;
    }
    const [cancel] = await server.waitFor(EnvelopeKind.CANCEL, 1);
    assert.equal(cancel!.callId, request!.callId);
    assert.equal(rpc.callsInFlight, 0);
  });

  test("events reach listeners by name or id until they unsubscribe", async (t) => {
    const { rpc, server } = setup(t);
    const byName: number[] = [];
    const byId: number[] = [];
    const name = "rpctest.RpcTest/StreamStopped";
    const stopName = rpc.onEvent(name, StreamStopped, (e) => byName.push(e.sent));
    const stopId = rpc.onEvent(0xef824f57, StreamStopped, (e) => byId.push(e.sent));
    const emit = (sent: number) => server.send({ kind: EnvelopeKind.EVENT, methodId: 0xef824f57 }, StreamStopped.encode({ sent }));
    await emit(1);
    await emit(2);
    const roundTrip = async () => {
      const call = rpc.unary(echo, {});
      const requests = await server.waitFor(EnvelopeKind.REQUEST, server.of(EnvelopeKind.REQUEST).length + 1);
      await server.reply(requests.at(-1)!.callId, "");
      await call;
    };
    await roundTrip();
    stopName();
    await emit(3);
    await roundTrip();
    stopId();
    await server.send({ kind: EnvelopeKind.EVENT, methodId: 42 });
    await roundTrip();
    assert.deepEqual(byName, [1, 2]);
    assert.deepEqual(byId, [1, 2, 3]);
    assert.equal(rpc.stats.unhandledEvents, 1);
  });

  test("random bytes from the server never break the client", async (t) => {
    const { rpc, server } = setup(t);
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const call = rpc.unary(echo, { text: "survivor" });
    const stream = rpc.serverStreaming(count, {});
    const requests = await server.waitFor(EnvelopeKind.REQUEST, 2);
    const ids = requests.map((r) => r.callId);
    for (let i = 0; i < 2000; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256));
      if (bytes.length >= 8 && random() < 0.5) {
        bytes[0] = 1; // mostly valid headers with garbage bodies,
        bytes[1] = [EnvelopeKind.RESPONSE, EnvelopeKind.ERROR, EnvelopeKind.STREAM_MESSAGE, EnvelopeKind.EVENT][i % 4]!;
        new DataView(bytes.buffer).setUint32(4, 0x7fff0000 + i, true); // for calls that do not exist
      }
      await server.channel.send(FrameType.COMMAND, bytes);
    }
    await server.reply(ids[0]!, "still here");
    assert.equal((await call).text, "still here");
    await server.send({ kind: EnvelopeKind.STREAM_END, callId: ids[1]! });
    for await (const _ of stream) assert.fail("no message was sent for the stream");
    assert.ok(rpc.stats.malformed + rpc.stats.lateReplies + rpc.stats.unhandledEvents >= 1900);
  });

  test("a second RpcClient on the channel throws; a successor continues the ids, so the old client's late reply misses it", async (t) => {
    const { rpc, server, client } = setup(t);
    assert.throws(
      () => new RpcClient(client),
      (error: unknown) => isShmrpcError(error, "EINVAL") && /already has an open RpcClient/.test(error.message),
    );
    const old = assert.rejects(rpc.unary(echo, { text: "A" }), isStatus(Status.UNAVAILABLE));
    const [a] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    rpc.close();
    await old;
    const successor = new RpcClient(client);
    t.after(() => successor.close());
    assert.throws(() => new RpcClient(client), (error: unknown) => isShmrpcError(error, "EINVAL"));
    const call = successor.unary(echo, { text: "B" });
    const [, b] = await server.waitFor(EnvelopeKind.REQUEST, 2);
    assert.notEqual(b!.callId, a!.callId);
    await server.reply(a!.callId, "for A");
    await server.reply(b!.callId, "for B");
    assert.equal((await call).text, "for B");
    assert.equal(successor.stats.lateReplies, 1);
  });

  test("arguments of the wrong type throw TypeErrors", (t) => {
    const { rpc } = setup(t);
    assert.throws(() => new RpcClient({} as Channel), TypeError);
    assert.throws(() => rpc.unary(count as never, {}), TypeError);
    assert.throws(() => rpc.serverStreaming(echo as never, {}), TypeError);
    assert.throws(() => rpc.unary(echo, {}, { timeoutMs: "1" as never }), TypeError);
    assert.throws(() => rpc.onEvent(-1, StreamStopped, () => {}), TypeError);
    assert.throws(() => new RpcClient(rpc["channel"], { maxCallsInFlight: 0 }), TypeError);
  });

  test("a request stream sends only within the credit the server grants, then REQUEST_END", async (t) => {
    const { rpc, server } = setup(t);
    let produced = 0;
    function* values() {
      for (let i = 1; i <= 3; i++) {
        produced++;
        yield { value: BigInt(i) };
      }
    }
    const call = rpc.clientStreaming(sum, values());
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    assert.equal(request!.body.length, 0, "the REQUEST of a request stream carries no message");
    const id = request!.callId;
    await nextTurn();
    assert.equal(produced, 0, "nothing taken from the source before credit");
    assert.equal(server.of(EnvelopeKind.REQUEST_MESSAGE).length, 0);
    await server.send({ kind: EnvelopeKind.CREDIT, callId: id, credit: 2 });
    await server.waitFor(EnvelopeKind.REQUEST_MESSAGE, 2);
    for (let i = 0; i < 5; i++) await nextTurn();
    assert.equal(server.of(EnvelopeKind.REQUEST_MESSAGE).length, 2, "two granted, two sent");
    assert.equal(produced, 2);
    await server.send({ kind: EnvelopeKind.CREDIT, callId: id, credit: 5 });
    await server.waitFor(EnvelopeKind.REQUEST_END, 1);
    const messages = server.of(EnvelopeKind.REQUEST_MESSAGE);
    assert.deepEqual(
      messages.map((m) => [m.callId, SumItem.decode(m.body).value]),
      [[id, 1n], [id, 2n], [id, 3n]],
    );
    await server.send({ kind: EnvelopeKind.RESPONSE, callId: id }, SumReply.encode({ total: 6n, count: 3 }));
    assert.equal((await call).total, 6n);
  });

  test("CREDIT for a call without a request stream fails that call", async (t) => {
    const { rpc, server } = setup(t);
    const call = rpc.unary(echo, {});
    const [request] = await server.waitFor(EnvelopeKind.REQUEST, 1);
    await server.send({ kind: EnvelopeKind.CREDIT, callId: request!.callId, credit: 1 });
    await assert.rejects(call, (error: unknown) => isRpcError(error, Status.INTERNAL) && /a CREDIT for a call without a request stream/.test(error.message));
    await server.waitFor(EnvelopeKind.CANCEL, 1);
    assert.equal(rpc.stats.malformed, 1);
  });
});
