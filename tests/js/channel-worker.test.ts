/**
 * A real second thread as the peer: a worker attaches to the same
 * SharedArrayBuffer as the server (helpers/channel-peer.ts), both sides wake
 * each other through AtomicsDoorbell.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, test } from "node:test";
import { Worker } from "node:worker_threads";

import { Channel, FrameType, createSegment, isShmrpcError, type Message } from "../../js/src/index.js";
import { Offset, PeerState } from "../../js/src/channel/layout.js";
import { checksum, sequenceOf, type PeerData, type Scenario } from "./helpers/channel-peer.js";

const CAPACITY = 16 << 10;
const TIMEOUT = { timeout: 30_000 };
const isCode = (code: string) => (error: unknown) => isShmrpcError(error) && error.code === code;

/** Starts the peer; `result` resolves with what it posts, once it has exited. */
function startPeer(sab: SharedArrayBuffer, scenario: Scenario, count?: number) {
  const data: PeerData = { sab, scenario, ...(count !== undefined && { count }) };
  const worker = new Worker(new URL("./helpers/channel-peer.js", import.meta.url), { workerData: data });
  // Both listeners from the start: a worker that posts and exits may emit both in one go.
  const posting = once(worker, "message");
  const exiting = once(worker, "exit");
  const result = (async () => {
    const [posted] = (await posting) as [Record<string, unknown>];
    await exiting;
    assert.equal(posted.error, undefined, `the peer failed: ${String(posted.error)}`);
    return posted;
  })();
  return { worker, result };
}

function setup(capacity = CAPACITY) {
  const sab = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
  return { sab, client: new Channel(sab, { side: "client" }) };
}

/** Test message `i`: TEXT is "<i>:xxx...", BINARY and COMMAND start with i as a little-endian u32. */
function message(i: number, size: number): Message {
  const type = ([FrameType.TEXT, FrameType.BINARY, FrameType.COMMAND] as const)[i % 3]!;
  if (type === FrameType.TEXT) return { type, data: `${i}:`.padEnd(Math.max(size, 8), "x") };
  const data = new Uint8Array(Math.max(size, 4));
  data.forEach((_, j) => (data[j] = (j * 7 + i) & 0xff));
  new DataView(data.buffer).setUint32(0, i, true);
  return { type, data };
}

describe("a worker peer", () => {
  for (const scenario of ["echo-async", "echo-sync"] as const) {
    test(`echoes every type and size (${scenario})`, TIMEOUT, async () => {
      const { sab, client } = setup();
      const peer = startPeer(sab, scenario);
      const replies = client[Symbol.asyncIterator]();
      const sizes = [0, 1, 4096, CAPACITY - 5, CAPACITY - 1, 4 * CAPACITY];
      const payload = (size: number, seed: number) => Uint8Array.from({ length: size }, (_, j) => (j * 13 + seed) & 0xff);
      let sent = 0;
      for (const size of sizes) {
        const cases: Message[] = [
          { type: FrameType.TEXT, data: "\u00e9\u2713".repeat(size >> 2) + "a".repeat(size & 3) },
          { type: FrameType.BINARY, data: payload(size, 1) },
          { type: FrameType.COMMAND, data: payload(size, 2) },
        ];
        for (const sentMessage of cases) {
          await client.send(sentMessage.type, sentMessage.data);
          sent++;
          const reply = await replies.next();
          assert.deepEqual(reply, { value: sentMessage, done: false }, `type ${sentMessage.type}, size ${size}`);
        }
      }
      client.close();
      assert.deepEqual(await peer.result, { echoed: sent });
    });
  }

  test("a slow consumer holds the sender back without losing or reordering 20 000 messages", TIMEOUT, async () => {
    const { sab, client } = setup(4096);
    const count = 20_000;
    const peer = startPeer(sab, "slow-consumer", count);
    let hash = 2166136261;
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < count; i++) {
      const sent = message(i, (i * 37) % 300);
      hash = checksum(hash, sent);
      sends.push(client.send(sent.type, sent.data));
    }
    await Promise.all(sends);
    const result = await peer.result;
    assert.deepEqual(
      { received: result.received, inOrder: result.inOrder, checksum: result.checksum },
      { received: count, inOrder: true, checksum: hash },
    );
    assert.ok(client.stats.parks > 0, "the sender had to wait for space");
    assert.ok((result.parks as number) > 0, "the consumer slept when the ring was empty");
    assert.equal(sequenceOf(message(123, 0)), 123);
    client.close();
  });

  test("the peer closing mid-stream rejects pending sends with ECLOSED and ends iterators", TIMEOUT, async () => {
    const { sab, client } = setup();
    const incoming = (async () => {
      let count = 0;
      for await (const _ of client) count++;
      return count;
    })();
    const peer = startPeer(sab, "close-after", 100);
    const payload = new Uint8Array(1000);
    const results = await Promise.allSettled(
      Array.from({ length: 5000 }, () => client.send(FrameType.BINARY, payload)),
    );
    assert.deepEqual(await peer.result, { received: 100 });
    const rejected = results.filter((result): result is PromiseRejectedResult => result.status === "rejected");
    assert.ok(results.length - rejected.length >= 100, "the first 100 went through");
    assert.ok(rejected.length > 0, "the ring cannot hold the rest");
    for (const { reason } of rejected) assert.ok(isCode("ECLOSED")(reason), String(reason));
    assert.equal(await incoming, 0, "the iterator ended with the peer");
    await assert.rejects(client.send(FrameType.TEXT, "anyone?"), isCode("ECLOSED"));
    client.close();
  });

  test("closing while the peer floods us rejects its pending sends with ECLOSED", TIMEOUT, async () => {
    const { sab, client } = setup();
    const peer = startPeer(sab, "flood", 5000);
    let received = 0;
    for await (const incoming of client) {
      assert.equal((incoming.data as Uint8Array).length, 1000);
      if (++received === 100) break;
    }
    client.close();
    const result = await peer.result;
    assert.deepEqual(result.other, []);
    assert.equal((result.fulfilled as number) + (result.closed as number), 5000);
    assert.ok((result.fulfilled as number) >= 100);
    assert.ok((result.closed as number) > 0);
  });

  test("misuse while traffic flows fails clearly and disturbs nothing", TIMEOUT, async () => {
    const { sab, client } = setup();
    const peer = startPeer(sab, "echo-async");
    const replies = client[Symbol.asyncIterator]();
    assert.throws(() => client.send(FrameType.TEXT, new Uint8Array(3) as unknown as string), TypeError);
    assert.throws(() => client.send(FrameType.BINARY, "text" as unknown as Uint8Array), TypeError);
    assert.throws(() => client.send(9 as FrameType, new Uint8Array(3)), TypeError);
    assert.throws(() => client.receiveSync(0), isCode("EINVAL"));
    await client.send(FrameType.TEXT, "still fine");
    assert.deepEqual((await replies.next()).value, { type: FrameType.TEXT, data: "still fine" });
    client.close();
    await assert.rejects(client.send(FrameType.TEXT, "after close"), isCode("ECLOSED"));
    assert.deepEqual(await replies.next(), { value: undefined, done: true });
    assert.deepEqual(await peer.result, { echoed: 1 });
  });

  test("an impossible index from the peer fails the channel with EPROTO", TIMEOUT, async () => {
    const { sab, client } = setup();
    const iterator = client[Symbol.asyncIterator]();
    const next = iterator.next();
    const peer = startPeer(sab, "corrupt");
    await assert.rejects(next, isCode("EPROTO"));
    assert.equal(client.state, "failed");
    assert.equal(new Int32Array(sab)[Offset.CLIENT_STATE / 4], PeerState.FAILED);
    await assert.rejects(client.send(FrameType.TEXT, "x"), isCode("EPROTO"));
    const result = await peer.result;
    assert.equal(result.closed, true, `the peer's send after our failure: ${String(result.sendError)}`);
  });
});
