/**
 * Client streaming and bidirectional streaming end to end: the generated
 * RpcTestClient against the C test service (tests/services,
 * rpc_test_streams.c) hosted in-process. Sum reads its stream on the
 * dispatch thread, Chat on a worker thread; both emit StreamStopped with
 * the messages they read and the status that ended their stream, which is
 * how these tests see what reached C.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { Channel, FrameType } from "../../js/src/index.js";
import { EnvelopeKind, encodeEnvelope, parseEnvelope, type Envelope } from "../../js/src/internal.js";
import { InProcessService } from "../../js/src/node.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient, Status, isRpcError, type RpcClientOptions } from "../../js/src/rpc/index.js";
import { RpcTest, RpcTestClient, StreamStopped, SumItem, type SumReply } from "./gen/rpc_test_pb.js";

const servicesDir = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");
const library = path.join(servicesDir, "libshmrpc_rpc_test.so");
const STREAM_STOPPED = "rpctest.RpcTest/StreamStopped";
/** The C server's default request window (shmrpc_server_options_t.request_window). */
const SERVER_WINDOW = 16;

function start(t: TestContext, rpcOptions: Partial<RpcClientOptions> = {}) {
  const service = new InProcessService({ library });
  const rpc = new RpcClient(service.channel, rpcOptions);
  t.after(async () => {
    rpc.close();
    assert.equal(await service.close(), 0, "the service exits cleanly");
  });
  const stopped = () =>
    new Promise<StreamStopped>((resolve) => {
      const off = rpc.onEvent(STREAM_STOPPED, StreamStopped, (event) => (off(), resolve(event)));
    });
  return { rpc, client: new RpcTestClient(rpc), stopped };
}

const isStatus = (code: number, text?: RegExp) => (error: unknown) => isRpcError(error, code) && (text === undefined || text.test(error.message));

/** A reply's fields (a decoded message also carries `$unknown`). */
const totals = ({ total, count, timeLeftMs }: SumReply) => ({ total, count, timeLeftMs });

/** Resolves when `signal` aborts (never otherwise). */
const aborted = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));

describe("request streams end to end (C service in-process)", { timeout: 60000 }, () => {
  test("client streaming: an async iterable in, the one response out; a plain array works too", async (t) => {
    const { client, stopped } = start(t);
    const event = stopped();
    async function* values() {
      for (let i = 1; i <= 100; i++) yield { value: BigInt(i) };
    }
    const reply = await client.sum(values());
    assert.equal(reply.total, 5050n);
    assert.equal(reply.count, 100);
    const seen = await event;
    assert.equal(seen.sent, 100);
    assert.equal(seen.status, Status.OK);
    assert.deepEqual(totals(await client.sum([{ value: 2n }, { value: 3n }])), { total: 5n, count: 2, timeLeftMs: -1n });
    assert.deepEqual(totals(await client.sum([])), { total: 0n, count: 0, timeLeftMs: 0n }, "an empty stream is a stream");
  });

  test("bidirectional: each answer arrives while the requests are still being sent", async (t) => {
    const { client, stopped } = start(t);
    const event = stopped();
    // Ping-pong: the next request is made only after the answer to the last one.
    let answered = () => {};
    async function* requests() {
      for (let i = 1; i <= 50; i++) {
        const next = new Promise<void>((resolve) => (answered = resolve));
        yield { value: BigInt(i) };
        await next;
      }
    }
    let count = 0;
    let total = 0n;
    for await (const reply of client.chat(requests())) {
      count++;
      total += BigInt(count);
      assert.deepEqual(totals(reply), { total, count, timeLeftMs: -1n });
      answered();
    }
    assert.equal(count, 50);
    assert.equal((await event).status, Status.OK);
  });

  test("credit holds: a client sending without end to a slow handler stays within the server's window", async (t) => {
    const { client, stopped } = start(t);
    const event = stopped();
    let produced = 0;
    let closed = false;
    const stopAt = 30;
    function* endless() {
      try {
        for (;;) {
          produced++;
          yield { value: 1n, delayMs: 2, last: produced === stopAt };
        }
      } finally {
        closed = true;
      }
    }
    const reply = await client.sum(endless());
    assert.equal(reply.count, stopAt, "the handler stopped at the item that said so");
    assert.ok(produced <= stopAt + SERVER_WINDOW + 1, `the client took ${produced} requests for a handler that read ${stopAt}`);
    assert.ok(closed, "the source was closed (return()) once the server answered");
    assert.equal((await event).sent, stopAt);
  });

  test("many messages to a slow bidirectional handler: every one arrives, in order", async (t) => {
    const { client } = start(t, { streamWindow: 4 });
    let produced = 0;
    let maxAhead = 0;
    let received = 0;
    async function* requests() {
      for (let i = 1; i <= 400; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - received);
        yield { value: BigInt(i), delayMs: i % 50 === 0 ? 5 : 0 };
      }
    }
    for await (const reply of client.chat(requests())) {
      received++;
      assert.equal(reply.count, received);
      if (received % 100 === 0) await sleep(10); // a slow consumer too
    }
    assert.equal(received, 400);
    // Requests the server has not answered: its window, the replies in the client's window, one in hand.
    assert.ok(maxAhead <= SERVER_WINDOW + 4 + 2, `the client ran ${maxAhead} requests ahead`);
  });

  for (const kind of ["sum", "chat"] as const) {
    test(`${kind}: an abort mid-stream cancels the call and the C handler's read sees CANCELLED`, async (t) => {
      const { client, stopped } = start(t);
      const event = stopped();
      const controller = new AbortController();
      let sent = 0;
      async function* requests() {
        for (; sent < 3; sent++) yield { value: 1n };
        await aborted(controller.signal);
      }
      const call =
        kind === "sum"
          ? client.sum(requests(), { signal: controller.signal })
          : (async () => {
              for await (const reply of client.chat(requests(), { signal: controller.signal })) if (reply.count === 3) controller.abort();
            })();
      if (kind === "sum") setTimeout(() => controller.abort(), 200);
      await assert.rejects(call, isStatus(Status.CANCELLED));
      const seen = await event;
      assert.equal(seen.status, Status.CANCELLED, "the handler saw the cancel");
      assert.equal(seen.sent, 3);
    });
  }

  test("a deadline reaches the C handler, and ends a handler blocked in a read", async (t) => {
    const { client, stopped } = start(t);
    const reply = await client.sum([{ value: 1n }], { timeoutMs: 5000 });
    assert.ok(reply.timeLeftMs > 4000n && reply.timeLeftMs <= 5000n, `the handler had ${reply.timeLeftMs} ms left`);
    const chatted = [];
    for await (const answer of client.chat([{ value: 1n }], { timeoutMs: 5000 })) chatted.push(answer.timeLeftMs);
    assert.ok(chatted.length === 1 && chatted[0]! > 4000n, `the Chat handler had ${chatted[0]} ms left`);

    const event = stopped();
    const started = performance.now();
    async function* oneThenWait() {
      yield { value: 7n };
      await sleep(5000, undefined, { ref: false });
    }
    await assert.rejects(client.sum(oneThenWait(), { timeoutMs: 100 }), isStatus(Status.DEADLINE_EXCEEDED));
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 99 && elapsed < 2000, `failed after ${elapsed.toFixed(1)} ms`);
    const seen = await event;
    // The server's clock or the client's CANCEL, whichever came first, ended the read.
    assert.ok(seen.status === Status.DEADLINE_EXCEEDED || seen.status === Status.CANCELLED, `the read ended with ${seen.status}`);
    assert.equal(seen.sent, 1);
  });

  test("an error from the handler mid-stream: the answers before it, then the error", async (t) => {
    const { client } = start(t);
    const items = [{ value: 1n }, { value: 2n }, { value: 3n, status: Status.FAILED_PRECONDITION, errorMessage: "three is too many" }, { value: 4n }];
    const answers: SumReply[] = [];
    await assert.rejects(
      (async () => {
        for await (const reply of client.chat(items)) answers.push(reply);
      })(),
      (error: unknown) => isRpcError(error, Status.FAILED_PRECONDITION) && error.statusMessage === "three is too many" && error.method === "rpctest.RpcTest/Chat",
    );
    assert.deepEqual(
      answers.map((a) => a.count),
      [1, 2],
    );
    await assert.rejects(client.sum(items), isStatus(Status.FAILED_PRECONDITION, /three is too many/));
  });

  test("a request source that throws cancels the call on both sides", async (t) => {
    const { client, stopped } = start(t);
    const event = stopped();
    async function* failing() {
      yield { value: 1n };
      yield { value: 2n };
      throw new Error("boom");
    }
    await assert.rejects(client.sum(failing()), (error: unknown) => isRpcError(error, Status.CANCELLED) && /the request source threw: boom/.test(error.message));
    assert.equal((await event).status, Status.CANCELLED);
    // A request that does not encode fails the call the same way, with INVALID_ARGUMENT.
    await assert.rejects(client.sum([{ value: "x" as never }]), isStatus(Status.INVALID_ARGUMENT, /a request message does not encode/));
  });

  test("wrong arguments throw TypeErrors before anything is sent", (t) => {
    const { rpc } = start(t);
    assert.throws(() => rpc.clientStreaming(RpcTest.methods.sum, 5 as never), TypeError);
    assert.throws(() => rpc.clientStreaming(RpcTest.methods.sum, "abc" as never), TypeError);
    assert.throws(() => rpc.bidiStreaming(RpcTest.methods.sum, []), TypeError, "Sum is not bidirectional");
    assert.throws(() => rpc.clientStreaming(RpcTest.methods.echo as never, []), TypeError);
    assert.equal(rpc.stats.callsStarted, 0);
  });
});

describe("request streams from a hostile client (raw envelopes to the C service)", { timeout: 30000 }, () => {
  /** A raw client: the channel alone, envelopes written and read by hand (events skipped). */
  function rawClient(t: TestContext) {
    const service = new InProcessService({ library });
    const channel: Channel = service.channel;
    const replies: Envelope[] = [];
    let wake = () => {};
    const stop = channel.onMessage((message) => {
      if (message.type !== FrameType.COMMAND) return;
      const envelope = parseEnvelope(new Uint8Array(message.data as Uint8Array));
      if (envelope.kind === EnvelopeKind.EVENT) return; // StreamStopped, which the handlers emit
      replies.push(envelope);
      wake();
    });
    t.after(async () => {
      stop();
      assert.equal(await service.close(), 0);
    });
    const send = (envelope: Partial<Parameters<typeof encodeEnvelope>[0]>, body?: Uint8Array) =>
      channel.send(
        FrameType.COMMAND,
        encodeEnvelope({ kind: EnvelopeKind.REQUEST, callId: 0, methodId: 0, schemaHash: 0, status: 0, timeoutUs: 0, credit: 0, ...envelope }, body),
      );
    const next = async (): Promise<Envelope> => {
      for (let i = 0; replies.length === 0; i++) {
        assert.ok(i < 300, "no reply");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 10);
        });
      }
      return replies.shift()!;
    };
    const sum = RpcTest.methods.sum;
    const open = (callId: number) => send({ callId, methodId: sum.id, schemaHash: sum.schemaHash });
    return { send, next, open };
  }

  const item = (fields: Parameters<typeof SumItem.encode>[0]) => SumItem.encode(fields);
  const text = (envelope: Envelope) => new TextDecoder().decode(envelope.body);

  test("more request messages than the credit granted: ERROR INVALID_ARGUMENT naming the rule", async (t) => {
    const { send, next, open } = rawClient(t);
    await open(1);
    const credit = await next();
    assert.deepEqual([credit.kind, credit.callId, credit.credit], [EnvelopeKind.CREDIT, 1, SERVER_WINDOW]);
    // The first message keeps the handler (on the dispatch thread) asleep while the rest arrive:
    // all are sent in one turn, so that a loaded machine cannot let the handler read eight of
    // them (which grants more credit) before the last is sent.
    const sends = [send({ kind: EnvelopeKind.REQUEST_MESSAGE, callId: 1 }, item({ value: 1n, delayMs: 500 }))];
    for (let i = 0; i < SERVER_WINDOW; i++) sends.push(send({ kind: EnvelopeKind.REQUEST_MESSAGE, callId: 1 }, item({ value: 1n })));
    await Promise.all(sends);
    const error = await next();
    assert.deepEqual([error.kind, error.callId, error.status], [EnvelopeKind.ERROR, 1, Status.INVALID_ARGUMENT]);
    assert.equal(text(error), "protocol violation: more request messages than the credit granted");
  });

  test("a corrupt request message, a REQUEST with a body, a message for a unary call: each a clear error", async (t) => {
    const { send, next, open } = rawClient(t);
    await open(2);
    assert.equal((await next()).kind, EnvelopeKind.CREDIT);
    await send({ kind: EnvelopeKind.REQUEST_MESSAGE, callId: 2 }, Uint8Array.of(0x22, 0x7f));
    const corrupt = await next();
    assert.deepEqual([corrupt.kind, corrupt.callId, corrupt.status], [EnvelopeKind.ERROR, 2, Status.INVALID_ARGUMENT]);
    assert.match(text(corrupt), /^request message does not decode: /);

    const sum = RpcTest.methods.sum;
    await send({ callId: 3, methodId: sum.id, schemaHash: sum.schemaHash }, item({ value: 1n }));
    const withBody = await next();
    assert.deepEqual([withBody.kind, withBody.callId, withBody.status], [EnvelopeKind.ERROR, 3, Status.INVALID_ARGUMENT]);
    assert.equal(text(withBody), "rpctest.RpcTest/Sum: protocol violation: the REQUEST of a call with a request stream carries a body");

    const hang = RpcTest.methods.hang;
    await send({ callId: 4, methodId: hang.id, schemaHash: hang.schemaHash });
    await send({ kind: EnvelopeKind.REQUEST_MESSAGE, callId: 4 }, item({ value: 1n }));
    const unary = await next();
    assert.deepEqual([unary.kind, unary.callId, unary.status], [EnvelopeKind.ERROR, 4, Status.INVALID_ARGUMENT]);
    assert.equal(text(unary), "protocol violation: a request stream message for a call without a request stream");
  });
});
