import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";

import {
  Channel,
  FrameType,
  createSegment,
  encodeFrame,
  type ChannelOptions,
  type Message,
} from "../../js/src/index.js";
import { Offset, PeerState, RingOffset, WaitValue } from "../../js/src/channel/layout.js";
import { RecordingDoorbell } from "./helpers/recording-doorbell.js";
import { RING0, RING1, bytes, clientWithRawPeer, isCode, word } from "./helpers/raw-channel-peer.js";
import { readVector, sharedCopyOfVector } from "./helpers/vectors.js";

/** A client and a server on one fresh segment, talking through Atomics in this thread. */
function pair(
  t: TestContext,
  capacity = 256,
  clientOptions: Partial<ChannelOptions> = {},
  serverOptions: Partial<ChannelOptions> = {},
) {
  const sab = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
  const client = new Channel(sab, { side: "client", ...clientOptions });
  const server = new Channel(sab, { side: "server", ...serverOptions });
  t.after(() => {
    client.close();
    server.close();
  });
  return { sab, words: new Int32Array(sab), client, server };
}

/** Collects `count` messages from an async iterable. */
async function take(source: AsyncIterable<Message>, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  if (count === 0) return messages;
  for await (const message of source) {
    messages.push(message);
    if (messages.length === count) break;
  }
  return messages;
}

describe("golden vectors", () => {
  test("the server attached to segment_64_wrapped receives BINARY 20..39, then TEXT", (t) => {
    const sab = sharedCopyOfVector("channel/segment_64_wrapped.bin");
    const server = new Channel(sab, { side: "server", doorbell: new RecordingDoorbell() });
    t.after(() => server.close());
    assert.deepEqual(server.receiveSync(0), { type: FrameType.BINARY, data: bytes(20).map((_, i) => 20 + i) });
    assert.deepEqual(server.receiveSync(0), { type: FrameType.TEXT, data: "wrap-around!" });
    assert.equal(server.receiveSync(0), undefined);
    assert.equal(new Int32Array(sab)[word(RING0 + RingOffset.HEAD)], 92, "head handed back up to the tail");
  });

  test("an async iterator over segment_64_wrapped yields the same two messages", async (t) => {
    const sab = sharedCopyOfVector("channel/segment_64_wrapped.bin");
    const server = new Channel(sab, { side: "server", doorbell: new RecordingDoorbell() });
    t.after(() => server.close());
    const [first, second] = await take(server, 2);
    assert.equal(first?.type, FrameType.BINARY);
    assert.deepEqual(first?.data, Uint8Array.from({ length: 20 }, (_, i) => 20 + i));
    assert.deepEqual(second, { type: FrameType.TEXT, data: "wrap-around!" });
  });

  test("a 100-byte BINARY message in a 64-byte ring is split exactly as the golden fragments", async (t) => {
    const { client, fromClient } = clientWithRawPeer(t, 64);
    const sent = client.send(FrameType.BINARY, Uint8Array.from({ length: 100 }, (_, i) => i));
    let done = false;
    void sent.then(() => (done = true));
    const stream: number[] = [];
    while (!done || fromClient.readable() > 0) {
      const available = fromClient.readable();
      const chunk = new Uint8Array(available);
      fromClient.copyOut(0, available, chunk);
      stream.push(...chunk);
      fromClient.consume(available);
      fromClient.release();
      client.wake(); // what the doorbell would do: the producer waits for space
      await nextTurn();
    }
    assert.deepEqual(Uint8Array.from(stream), readVector("channel/fragments_binary_100_cap64.bin"));
  });

  test("a message that fits is written as the seed's frame bytes", async (t) => {
    const { client, fromClient } = clientWithRawPeer(t, 64);
    await client.send(FrameType.TEXT, "h\u00e9llo \u2713");
    client.flush();
    const frame = new Uint8Array(fromClient.readable());
    fromClient.copyOut(0, frame.length, frame);
    assert.deepEqual(frame, readVector("channel/frame_text_utf8.bin"));
  });
});

describe("attaching", () => {
  test("publishes the message limit, then OPEN", (t) => {
    const sab = createSegment({ capacityC2S: 64, capacityS2C: 64 });
    const words = new Int32Array(sab);
    const server = new Channel(sab, { side: "server", maxMessageBytes: 4096, doorbell: new RecordingDoorbell() });
    t.after(() => server.close());
    assert.equal(words[word(Offset.SERVER_STATE)], PeerState.OPEN);
    assert.equal(words[word(Offset.SERVER_MAX_MESSAGE)], 4096);
    assert.equal(words[word(Offset.CLIENT_STATE)], PeerState.ABSENT);
    assert.equal(server.state, "open");
  });

  test("never reads the header again: rewriting capacities later changes nothing", async (t) => {
    const { sab, client, server } = pair(t, 64);
    new DataView(sab).setUint32(Offset.CAPACITY_C2S, 1 << 30, true);
    new DataView(sab).setUint32(Offset.CAPACITY_S2C, 1 << 30, true);
    const received = take(server, 20);
    for (let i = 0; i < 20; i++) void client.send(FrameType.BINARY, bytes(40, i));
    const messages = await received;
    messages.forEach((message, i) => assert.deepEqual(message.data, bytes(40, i)));
  });

  test("refuses bad arguments", () => {
    const sab = createSegment({ capacityC2S: 64, capacityS2C: 64 });
    assert.throws(() => new Channel(new ArrayBuffer(512) as unknown as SharedArrayBuffer), TypeError);
    assert.throws(() => new Channel(sab, { side: "middle" as "client" }), TypeError);
    assert.throws(() => new Channel(sab, { maxMessageBytes: -1 }), isCode("EINVAL"));
    assert.throws(() => new Channel(sab, { maxMessageBytes: 2 ** 32 }), isCode("EINVAL"));
    assert.throws(() => new Channel(sab, { spinMicros: "50" as unknown as number }), TypeError);
    assert.throws(() => new Channel(sab, { iteratorBufferMessages: 0 }), isCode("EINVAL"));
    assert.throws(() => new Channel(sab, { doorbell: {} as RecordingDoorbell }), TypeError);
    assert.equal(new Int32Array(sab)[word(Offset.CLIENT_STATE)], PeerState.ABSENT, "no partial attach");
  });
});

describe("sending", () => {
  test("frames sent in one tick are published by one tail store and one doorbell ring", async (t) => {
    const { words, doorbell, client } = clientWithRawPeer(t, 256);
    words[word(RING0 + RingOffset.CONSUMER_WAIT)] = 2; // the peer parked in its loop
    const sends = [];
    for (let i = 0; i < 10; i++) sends.push(client.send(FrameType.BINARY, bytes(10, i)));
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 0, "nothing published synchronously");
    await Promise.all(sends);
    await nextTurn();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 150);
    assert.equal(client.stats.publishes, 1);
    assert.deepEqual(doorbell.rings, [{ offset: RING0 + RingOffset.CONSUMER_WAIT, parked: 2 }]);
    assert.equal(words[word(RING0 + RingOffset.CONSUMER_WAIT)], 0, "the ring cleared the park flag");
  });

  test("a peer that looks again before it sleeps (SPINNING) is left alone", async (t) => {
    const { words, doorbell, client } = clientWithRawPeer(t, 256);
    words[word(RING0 + RingOffset.CONSUMER_WAIT)] = WaitValue.SPINNING;
    await client.send(FrameType.BINARY, bytes(10));
    client.flush();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 15);
    assert.deepEqual(doorbell.rings, []);
    assert.equal(words[word(RING0 + RingOffset.CONSUMER_WAIT)], WaitValue.SPINNING, "the word is the peer's to change");
  });

  test("nobody parked: publishing rings no doorbell", async (t) => {
    const { words, doorbell, client } = clientWithRawPeer(t, 256);
    await client.send(FrameType.COMMAND, bytes(3));
    client.flush();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 8);
    assert.deepEqual(doorbell.rings, []);
  });

  test("trySend writes whole frames only, publishes when full, and refuses what needs fragments", (t) => {
    const { words, client, fromClient } = clientWithRawPeer(t, 64);
    assert.equal(client.trySend(FrameType.BINARY, bytes(27)), true);
    assert.equal(client.trySend(FrameType.TEXT, "x".repeat(27)), true);
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 0, "published later, in a microtask");
    assert.equal(client.trySend(FrameType.COMMAND, bytes(1)), false);
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 64, "a full ring was published at once");
    fromClient.readable();
    fromClient.consume(32);
    fromClient.release();
    assert.equal(client.trySend(FrameType.COMMAND, bytes(1)), true);
    assert.throws(() => client.trySend(FrameType.BINARY, bytes(60)), isCode("EMSGSIZE"));
  });

  test("a full ring keeps sends pending, in order, until the consumer frees space", async (t) => {
    const { client, server } = pair(t, 64);
    const order: number[] = [];
    const sends = Array.from({ length: 30 }, (_, i) =>
      client.send(FrameType.BINARY, bytes(20, i)).then(() => order.push(i)),
    );
    await nextTurn();
    assert.ok(order.length < 30, "the ring cannot hold 30 frames of 25 bytes");
    const messages = await take(server, 30);
    await Promise.all(sends);
    assert.deepEqual(order, [...Array(30).keys()]);
    messages.forEach((message, i) => assert.deepEqual(message.data, bytes(20, i)));
  });

  test("a peer that closes while a send spins for space fails the send; it does not park for good", async (t) => {
    const { words, client, doorbell } = clientWithRawPeer(t, 64, { spinMicros: 50 });
    assert.ok(client.trySend(FrameType.BINARY, bytes(50)));
    // The peer closes during the spin, after the sender last looked at its
    // state: its wake-up finds no parked sender (the word is still 0).
    const now = performance.now.bind(performance);
    let closedDuringSpin = false;
    t.mock.method(performance, "now", () => {
      if (!closedDuringSpin) {
        closedDuringSpin = true;
        Atomics.store(words, word(Offset.SERVER_STATE), PeerState.CLOSED);
      }
      return now();
    });
    const pending = client.send(FrameType.BINARY, bytes(40));
    const outcome = await Promise.race([pending.then(() => "sent", (error: unknown) => error), nextTurn().then(() => "still pending")]);
    assert.ok(closedDuringSpin);
    assert.deepEqual(doorbell.parks, [], "never parked");
    assert.ok(isCode("ECLOSED")(outcome), `the send ended with ${String(outcome)}`);
  });

  test("a send that cannot start before timeoutMs rejects with ETIMEDOUT; later ones may pass it", async (t) => {
    const { client, fromClient } = clientWithRawPeer(t, 64);
    assert.ok(client.trySend(FrameType.BINARY, bytes(50)));
    const big = client.send(FrameType.BINARY, bytes(40), { timeoutMs: 20 });
    const small = client.send(FrameType.BINARY, bytes(4));
    await assert.rejects(big, isCode("ETIMEDOUT"));
    // The timeout dropped the big one: the small one fits in the 9 free bytes.
    await small;
    client.flush();
    assert.equal(fromClient.readable(), 64);
  });

  test("messages over the peer's limit are refused with EMSGSIZE", async (t) => {
    const { client } = pair(t, 256, {}, { maxMessageBytes: 100 });
    await client.send(FrameType.BINARY, bytes(100));
    await assert.rejects(client.send(FrameType.BINARY, bytes(101)), isCode("EMSGSIZE"));
    await assert.rejects(client.send(FrameType.TEXT, "a".repeat(101)), isCode("EMSGSIZE"));
    // 40 UTF-16 units but 120 UTF-8 bytes, caught after encoding in place.
    await assert.rejects(client.send(FrameType.TEXT, "\u2713".repeat(40)), isCode("EMSGSIZE"));
    await assert.rejects(client.sendEncoded(FrameType.COMMAND, 101, () => {}), isCode("EMSGSIZE"));
    assert.throws(() => client.trySend(FrameType.BINARY, bytes(101)), isCode("EMSGSIZE"));
  });

  test("wrong argument types throw a TypeError synchronously", (t) => {
    const { client } = pair(t, 64);
    const misuse: Array<() => unknown> = [
      () => client.send(FrameType.TEXT, bytes(1)),
      () => client.send(FrameType.BINARY, "text" as unknown as Uint8Array),
      () => client.send(FrameType.COMMAND, [1, 2, 3] as unknown as Uint8Array),
      () => client.send(7 as FrameType, bytes(1)),
      () => client.send(FrameType.BINARY, bytes(1), { timeoutMs: "1" as unknown as number }),
      () => client.trySend(FrameType.TEXT, new ArrayBuffer(2) as unknown as string),
      () => client.sendEncoded(FrameType.BINARY, -1, () => {}),
      () => client.sendEncoded(FrameType.BINARY, 1.5, () => {}),
      () => client.sendEncoded(FrameType.BINARY, 1, "write" as unknown as () => void),
      () => client.onMessage("listener" as unknown as () => void),
      () => client.receiveSync("1" as unknown as number),
    ];
    for (const call of misuse) assert.throws(call, TypeError, call.toString());
  });

  test("after close, send rejects and trySend throws ECLOSED", async (t) => {
    const { client } = pair(t, 64);
    client.close();
    client.close(); // idempotent
    assert.equal(client.state, "closed");
    await assert.rejects(client.send(FrameType.TEXT, "late"), isCode("ECLOSED"));
    assert.throws(() => client.trySend(FrameType.TEXT, "late"), isCode("ECLOSED"));
    await assert.rejects(client.sendEncoded(FrameType.BINARY, 1, () => {}), isCode("ECLOSED"));
  });

  test("close rejects pending sends with ECLOSED instead of leaving them hanging", async (t) => {
    const { client } = pair(t, 64);
    const sends = Array.from({ length: 10 }, (_, i) => client.send(FrameType.BINARY, bytes(30, i)));
    await nextTurn();
    client.close();
    const results = await Promise.allSettled(sends);
    assert.equal(results[0]?.status, "fulfilled");
    const rejected = results.filter((result) => result.status === "rejected");
    assert.equal(rejected.length, 9);
    for (const result of rejected) assert.ok(isCode("ECLOSED")((result as PromiseRejectedResult).reason));
  });

  test("sendEncoded writes in place, through scratch across the wrap, or into a queued copy", async (t) => {
    const { sab, client, server } = pair(t, 64);
    const targets: Uint8Array[] = [];
    const writer = (seed: number, length: number) => (target: Uint8Array, offset: number) => {
      targets.push(target);
      target.set(bytes(length, seed), offset);
    };
    const received = take(server, 6);
    for (let i = 0; i < 6; i++) void client.sendEncoded(FrameType.BINARY, 20, writer(i, 20));
    const messages = await received;
    messages.forEach((message, i) => assert.deepEqual(message, { type: FrameType.BINARY, data: bytes(20, i) }));
    assert.equal(targets[0]?.buffer, sab, "the first one was written straight into the ring");
    assert.ok(targets.some((target) => target.buffer !== sab), "the wrapping or queued ones were not");
  });

  test("sendEncoded sends nothing when the writer throws", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64);
    assert.throws(
      () =>
        client.sendEncoded(FrameType.BINARY, 8, () => {
          throw new RangeError("encoder bug");
        }),
      RangeError,
    );
    client.flush();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 0);
    await client.send(FrameType.BINARY, bytes(1));
  });
});

describe("sending in place (trySendInPlace)", () => {
  test("the encoder gets the ring's contiguous free space after the header, within the peer's limit", async (t) => {
    const { sab, client, server } = pair(t, 64, {}, { maxMessageBytes: 40 });
    const ranges: Array<[number, number]> = [];
    const encoder = (length: number, seed: number) => (target: Uint8Array, start: number, end: number) => {
      assert.equal(target.buffer, sab, "the ring itself");
      ranges.push([start, end]);
      if (end - start < length) return -1;
      target.set(bytes(length, seed), start);
      return length;
    };
    const received = take(server, 2);
    assert.equal(client.trySendInPlace(FrameType.BINARY, encoder(20, 1)), true);
    assert.deepEqual(ranges[0], [5, 45], "after the 5-byte header, 40 bytes: the peer's limit");
    // 25 bytes used: 39 free up to the end of the data area, 34 after the header.
    assert.equal(client.trySendInPlace(FrameType.COMMAND, encoder(30, 2)), true);
    assert.deepEqual(ranges[1], [30, 64]);
    assert.deepEqual(await received, [
      { type: FrameType.BINARY, data: bytes(20, 1) },
      { type: FrameType.COMMAND, data: bytes(30, 2) },
    ]);
  });

  test("an encoder that finds too little room sends nothing, and a sized send goes on", async (t) => {
    const { words, client, fromClient } = clientWithRawPeer(t, 64);
    assert.equal(client.trySendInPlace(FrameType.BINARY, () => -1), false);
    client.flush();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 0, "nothing published");
    assert.equal(client.stats.messagesSent, 0);
    await client.send(FrameType.BINARY, bytes(3));
    assert.equal(fromClient.readable(), 8, "the sized send's frame alone");
  });

  test("an encoder that throws sends nothing; the channel stays open", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64);
    assert.throws(
      () =>
        client.trySendInPlace(FrameType.BINARY, (target, start) => {
          target[start] = 1;
          throw new RangeError("encoder bug");
        }),
      RangeError,
    );
    client.flush();
    assert.equal(words[word(RING0 + RingOffset.TAIL)], 0);
    assert.equal(client.state, "open");
    await client.send(FrameType.BINARY, bytes(1));
  });

  test("behind a waiting send it returns false without calling the encoder; refused like trySend", async (t) => {
    const { client } = pair(t, 64);
    const waiting = client.send(FrameType.BINARY, bytes(200)); // fragments: waits for the peer to drain
    let called = false;
    assert.equal(
      client.trySendInPlace(FrameType.BINARY, () => {
        called = true;
        return 0;
      }),
      false,
    );
    assert.equal(called, false);
    assert.throws(() => client.trySendInPlace(9 as FrameType, () => 0), TypeError);
    assert.throws(() => client.trySendInPlace(FrameType.BINARY, "encode" as never), TypeError);
    client.close();
    await assert.rejects(waiting, isCode("ECLOSED"));
    assert.throws(() => client.trySendInPlace(FrameType.BINARY, () => 0), isCode("ECLOSED"));
  });
});

describe("receiving", () => {
  test("every type and size, including fragmented messages 4x the ring, arrives intact", async (t) => {
    const { client, server } = pair(t, 256);
    const text = "h\u00e9llo \u2713 \u{1f600} ".repeat(80); // multi-byte characters across fragment boundaries
    const sent: Array<[FrameType, string | Uint8Array]> = [
      [FrameType.TEXT, ""],
      [FrameType.TEXT, "hi"],
      [FrameType.TEXT, text],
      [FrameType.BINARY, bytes(0)],
      [FrameType.BINARY, bytes(251)],
      [FrameType.BINARY, bytes(252)],
      [FrameType.BINARY, bytes(1024, 9)],
      [FrameType.COMMAND, bytes(1)],
      [FrameType.COMMAND, bytes(255)],
    ];
    const received = take(server, sent.length);
    await Promise.all(sent.map(([type, data]) => client.send(type, data)));
    const messages = await received;
    assert.deepEqual(
      messages,
      sent.map(([type, data]) => ({ type, data })),
    );
    assert.ok((messages[4]!.data as Uint8Array).buffer instanceof ArrayBuffer, "payloads are private copies");
  });

  test("fragments of any size, even empty ones, are reassembled", (t) => {
    const { client, inject } = clientWithRawPeer(t, 64);
    const more = (type: number, payload: number[]) => Uint8Array.of(type | 0x80, 0, 0, 0, payload.length, ...payload);
    inject(more(FrameType.BINARY, [1]));
    inject(more(FrameType.BINARY, []));
    inject(more(FrameType.BINARY, [2, 3, 4, 5, 6, 7, 8]));
    inject(encodeFrame(FrameType.BINARY, Uint8Array.of(9, 10, 11)));
    assert.deepEqual(client.receiveSync(0), { type: FrameType.BINARY, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11) });
    // "✓" is e2 9c 93: split inside the character.
    inject(more(FrameType.TEXT, [0x61, 0xe2]));
    inject(encodeFrame(FrameType.TEXT, Uint8Array.of(0x9c, 0x93)));
    assert.deepEqual(client.receiveSync(0), { type: FrameType.TEXT, data: "a\u2713" });
    inject(more(FrameType.COMMAND, []));
    assert.equal(client.receiveSync(0), undefined, "half a message is not delivered");
    inject(encodeFrame(FrameType.COMMAND, new Uint8Array(0)));
    assert.deepEqual(client.receiveSync(0), { type: FrameType.COMMAND, data: new Uint8Array(0) });
  });

  test("a borrowing listener gets views of the ring while every consumer borrows; otherwise copies", async (t) => {
    const { client, server } = pair(t, 256);
    /** What one listener saw: whether each payload was shared memory, and a copy of it. */
    const listen = (borrow: boolean) => {
      const seen: Array<{ shared: boolean; data: Uint8Array }> = [];
      server.onMessage(
        (message) => {
          const data = message.data as Uint8Array;
          seen.push({ shared: data.buffer instanceof SharedArrayBuffer, data: data.slice() });
        },
        { borrow },
      );
      return seen;
    };
    const arrived = async (seen: unknown[], count: number) => {
      while (seen.length < count) await nextTurn();
    };
    const borrowing = listen(true);
    // Frames of 105 bytes at ring offsets 0, 105 and 210: the third payload wraps around the end.
    const sent = [bytes(100, 1), bytes(100, 2), bytes(100, 3)];
    for (const data of sent) await client.send(FrameType.BINARY, data);
    await arrived(borrowing, 3);
    assert.deepEqual(
      borrowing.map((m) => m.shared),
      [true, true, false],
      "views where the payload is in one piece",
    );
    assert.deepEqual(
      borrowing.map((m) => m.data),
      sent,
    );

    const copying = listen(false);
    await client.send(FrameType.COMMAND, bytes(100, 4));
    await arrived(copying, 1);
    assert.deepEqual([borrowing[3]!.shared, copying[0]!.shared], [false, false], "a copying listener: copies for all");
    assert.deepEqual(borrowing[3]!.data, bytes(100, 4));
  });

  test("onMessage delivers in order until unsubscribed", async (t) => {
    const { client, server } = pair(t, 128);
    const seen: number[] = [];
    let stop = () => {};
    const done = new Promise<void>((resolve) => {
      stop = server.onMessage((message) => {
        seen.push((message.data as Uint8Array)[0]!);
        if (seen.length === 50) resolve();
      });
    });
    for (let i = 0; i < 50; i++) void client.send(FrameType.BINARY, Uint8Array.of(i, 1, 2, 3));
    await done;
    stop();
    await client.send(FrameType.BINARY, Uint8Array.of(99));
    await nextTurn();
    assert.deepEqual(seen, [...Array(50).keys()]);
  });

  test("a drain yields to the event loop between batches and loses nothing", async (t) => {
    const { client, server } = pair(t, 1 << 16);
    const count = 10_000; // more than one drain batch, all in the ring at once
    for (let i = 0; i < count; i++) assert.ok(client.trySend(FrameType.COMMAND, Uint8Array.of(i & 0xff)));
    client.flush();
    const seen: number[] = [];
    let turnsDuringDrain = 0;
    const done = new Promise<void>((resolve) => {
      server.onMessage((message) => {
        seen.push((message.data as Uint8Array)[0]!);
        if (seen.length === count) resolve();
      });
    });
    const ticker = setInterval(() => seen.length > 0 && seen.length < count && turnsDuringDrain++, 0);
    await done;
    clearInterval(ticker);
    assert.deepEqual(seen, Array.from({ length: count }, (_, i) => i & 0xff));
    assert.ok(turnsDuringDrain > 0, "timers ran while the backlog was delivered");
  });

  test("a full iterator buffer stops draining: the sender waits, nothing is lost", async (t) => {
    const { client, server } = pair(t, 128, {}, { iteratorBufferMessages: 4 });
    const iterator = server[Symbol.asyncIterator]();
    let written = 0;
    const sends = Array.from({ length: 200 }, (_, i) =>
      client.send(FrameType.BINARY, bytes(16, i)).then(() => written++),
    );
    for (let i = 0; i < 5; i++) await nextTurn();
    assert.ok(server.stats.messagesReceived <= 4, `received ${server.stats.messagesReceived}`);
    assert.ok(written < 200, "the client is held back");
    for (let i = 0; i < 200; i++) {
      const { value } = await iterator.next();
      assert.deepEqual(value?.data, bytes(16, i));
    }
    await Promise.all(sends);
  });

  test("several iterators each get every message; break detaches one", async (t) => {
    const { client, server } = pair(t, 256);
    const first = take(server, 3);
    const second = take(server, 5);
    for (let i = 0; i < 5; i++) await client.send(FrameType.BINARY, Uint8Array.of(i));
    assert.deepEqual(
      (await first).map((message) => (message.data as Uint8Array)[0]),
      [0, 1, 2],
    );
    assert.deepEqual(
      (await second).map((message) => (message.data as Uint8Array)[0]),
      [0, 1, 2, 3, 4],
    );
  });

  test("after the peer closes, iterators end once everything it sent was delivered", async (t) => {
    const { client, server } = pair(t, 64);
    const sends = Array.from({ length: 10 }, (_, i) => client.send(FrameType.BINARY, bytes(20, i)));
    const closed = new Promise<unknown>((resolve) => server.onClose(resolve));
    const messages: Message[] = [];
    const reading = (async () => {
      for await (const message of server) messages.push(message);
    })();
    await Promise.all(sends);
    client.close();
    await reading;
    assert.equal(messages.length, 10, "nothing published before the close is lost");
    assert.equal(await closed, undefined);
    await assert.rejects(server.send(FrameType.TEXT, "anyone?"), isCode("ECLOSED"));
  });

  test("close ends iterators and close listeners and releases the event loop", async (t) => {
    const doorbell = new RecordingDoorbell();
    const { server } = pair(t, 64, {}, { doorbell });
    const iterator = server[Symbol.asyncIterator]();
    const next = iterator.next();
    let closeError: unknown = "not called";
    server.onClose((error) => (closeError = error));
    assert.deepEqual(doorbell.keepAlives, [true]);
    server.close();
    assert.deepEqual(await next, { value: undefined, done: true });
    assert.equal(closeError, undefined);
    assert.deepEqual(doorbell.keepAlives, [true, false]);
    assert.deepEqual(await server[Symbol.asyncIterator]().next(), { value: undefined, done: true });
  });

  test("pending sends hold the event loop open until they are written", async (t) => {
    const doorbell = new RecordingDoorbell();
    const { client, fromClient } = clientWithRawPeer(t, 64, { doorbell });
    const sends = [client.send(FrameType.BINARY, bytes(50)), client.send(FrameType.BINARY, bytes(50))];
    await sends[0];
    assert.deepEqual(doorbell.keepAlives, [true]);
    assert.deepEqual(doorbell.parks, [RING0 + RingOffset.PRODUCER_WAIT]);
    fromClient.consume(fromClient.readable());
    fromClient.release();
    client.wake();
    await sends[1];
    assert.deepEqual(doorbell.keepAlives, [true, false]);
  });

  test("receiveSync times out, sleeping on consumer_wait = 1 after its spin", (t) => {
    const { words, doorbell, client } = clientWithRawPeer(t, 64, { spinMicros: 0 });
    assert.equal(client.receiveSync(0), undefined);
    assert.equal(client.receiveSync(5), undefined);
    assert.ok(doorbell.waits.length > 0);
    for (const wait of doorbell.waits) {
      assert.equal(wait.offset, RING1 + RingOffset.CONSUMER_WAIT);
      assert.equal(wait.expected, 1);
      assert.ok(wait.timeoutMs > 0 && wait.timeoutMs <= 5);
    }
    assert.equal(words[word(RING1 + RingOffset.CONSUMER_WAIT)], 0);
  });

  test("receiveSync refuses to compete with listeners and ends with ECLOSED after the peer", (t) => {
    const { words, client, inject } = clientWithRawPeer(t, 64);
    const stop = client.onMessage(() => {});
    assert.throws(() => client.receiveSync(0), isCode("EINVAL"));
    stop();
    inject(encodeFrame(FrameType.TEXT, "last"));
    words[word(Offset.SERVER_STATE)] = PeerState.CLOSED;
    assert.deepEqual(client.receiveSync(0), { type: FrameType.TEXT, data: "last" });
    assert.throws(() => client.receiveSync(0), isCode("ECLOSED"));
  });

  test("a peer that failed ends the stream with ECLOSED", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64);
    const iterator = client[Symbol.asyncIterator]();
    await nextTurn();
    words[word(Offset.SERVER_STATE)] = PeerState.FAILED;
    client.wake();
    await assert.rejects(iterator.next(), (error) => isCode("ECLOSED")(error) && /peer failed/.test(String(error)));
  });
});
