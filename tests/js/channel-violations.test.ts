/**
 * What a channel does with shared memory it cannot trust: a peer (or a
 * scribble) that writes an impossible ring index or frame header fails the
 * channel with EPROTO wherever this side reads it (a drain, the event
 * loop's spin, expect() as it parks, peerDied(), receiveSync, a send),
 * wakes a sleeping peer, and nothing is thrown at a caller that did not
 * ask to read.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";

import { FrameType, encodeFrame } from "../../js/src/index.js";
import { Offset, PeerState, RingOffset } from "../../js/src/channel/layout.js";
import type { RecordingDoorbell } from "./helpers/recording-doorbell.js";
import { RING0, RING1, bytes, clientWithRawPeer, isCode, word } from "./helpers/raw-channel-peer.js";

describe("the event loop's spin", () => {
  for (const handOff of [false, true]) {
    test(`an impossible index seen while spinning fails the channel with EPROTO (${handOff ? "hand-off spin before a native one" : "spin of a JavaScript doorbell"})`, async (t) => {
      const { words, doorbell, client } = clientWithRawPeer(t, 64);
      if (handOff) (doorbell as RecordingDoorbell & { watchesBeforeBlocking: boolean }).watchesBeforeBlocking = true;
      const ended = new Promise<unknown>((resolve) => client.onClose(resolve));
      client.onMessage(() => {}, { passive: true });
      await nextTurn(); // the listener's first drain has run
      client.expect(true); // parks: the spin is queued as a microtask, and nothing else reads the ring
      words[word(RING1 + RingOffset.TAIL)] = 1 << 20; // more than the ring holds
      assert.ok(isCode("EPROTO")(await ended));
      assert.equal(client.state, "failed");
    });
  }
});

describe("an impossible index seen outside a drain", () => {
  test("by expect(true) as it parks: expect() returns and the channel fails with EPROTO", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64, { spinMicros: 0 });
    const ended = new Promise<unknown>((resolve) => client.onClose(resolve));
    client.onMessage(() => {}, { passive: true });
    await nextTurn(); // the listener's first drain has run
    words[word(RING1 + RingOffset.TAIL)] = 1 << 20; // more than the ring holds
    client.expect(true); // no spin budget: parks at once, reading the tail
    assert.ok(isCode("EPROTO")(await ended));
    assert.equal(client.state, "failed");
    await assert.rejects(client.send(FrameType.TEXT, "x"), isCode("EPROTO"));
  });

  test("by peerDied() as it looks for unread messages: it returns and the channel fails with EPROTO", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64);
    const ended = new Promise<unknown>((resolve) => client.onClose(resolve));
    words[word(RING1 + RingOffset.TAIL)] = -1; // behind our head
    client.peerDied("its thread ended");
    assert.ok(isCode("EPROTO")(await ended));
    assert.equal(client.state, "failed");
  });
});

describe("protocol violations", () => {
  const violations: Array<[string, (inject: (bytes: Uint8Array) => void, words: Int32Array) => void]> = [
    ["a reserved type", (inject) => inject(Uint8Array.of(5, 0, 0, 0, 0))],
    ["a header cut short", (inject) => inject(Uint8Array.of(1, 0, 0))],
    ["a length beyond the published bytes", (inject) => inject(Uint8Array.of(1, 0, 0, 0, 10, 1, 2, 3, 4, 5))],
    ["a huge length", (inject) => inject(Uint8Array.of(1, 0xff, 0xff, 0xff, 0xff, 0))],
    [
      "a fragment of another type",
      (inject) => inject(Uint8Array.of(0x81, 0, 0, 0, 1, 7, 0x00, 0, 0, 0, 1, 0x41)),
    ],
    ["a message over our limit", (inject) => inject(encodeFrame(FrameType.BINARY, bytes(33)))],
    [
      "fragments adding up over our limit",
      (inject) => {
        inject(Uint8Array.of(0x81, 0, 0, 0, 20, ...bytes(20)));
        inject(Uint8Array.of(0x01, 0, 0, 0, 13, ...bytes(13)));
      },
    ],
    ["a tail more than a ring ahead", (_, words) => (words[word(RING1 + RingOffset.TAIL)] = 65)],
    ["a tail behind our head", (_, words) => (words[word(RING1 + RingOffset.TAIL)] = -1)],
  ];

  for (const [what, corrupt] of violations) {
    test(`${what} fails the channel with EPROTO`, async (t) => {
      const { words, doorbell, client, inject } = clientWithRawPeer(t, 64, { maxMessageBytes: 32 });
      const closed = new Promise<unknown>((resolve) => client.onClose(resolve));
      const iterator = client[Symbol.asyncIterator]();
      await nextTurn();
      words[word(RING1 + RingOffset.PRODUCER_WAIT)] = 1; // the peer sleeps waiting for space
      corrupt(inject, words);
      client.wake();
      await assert.rejects(iterator.next(), isCode("EPROTO"));
      assert.ok(isCode("EPROTO")(await closed));
      assert.equal(client.state, "failed");
      assert.equal(words[word(Offset.CLIENT_STATE)], PeerState.FAILED);
      assert.ok(
        doorbell.rings.some((ring) => ring.offset === RING1 + RingOffset.PRODUCER_WAIT),
        "the sleeping peer was woken",
      );
      await assert.rejects(client.send(FrameType.TEXT, "x"), isCode("EPROTO"));
      assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    });
  }

  test("receiveSync throws EPROTO and fails the channel", (t) => {
    const { words, client, inject } = clientWithRawPeer(t, 64);
    inject(Uint8Array.of(9, 0, 0, 0, 0));
    assert.throws(() => client.receiveSync(0), isCode("EPROTO"));
    assert.equal(words[word(Offset.CLIENT_STATE)], PeerState.FAILED);
    assert.throws(() => client.receiveSync(0), isCode("EPROTO"));
  });

  test("a head that moved backwards fails a pending send with EPROTO", async (t) => {
    const { words, client } = clientWithRawPeer(t, 64);
    const sends = [client.send(FrameType.BINARY, bytes(50)), client.send(FrameType.BINARY, bytes(50))];
    await sends[0];
    words[word(RING0 + RingOffset.HEAD)] = 100;
    client.wake();
    await assert.rejects(sends[1]!, isCode("EPROTO"));
    assert.equal(client.state, "failed");
  });
});
