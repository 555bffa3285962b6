import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { isShmrpcError } from "../../js/src/index.js";
import { Offset, RingOffset, SEGMENT_HEADER_BYTES } from "../../js/src/channel/layout.js";
import { RingConsumer, RingProducer, type RingLocation } from "../../js/src/channel/ring.js";
import { createSegment } from "../../js/src/channel/segment.js";

const isProtocolError = (error: unknown) => isShmrpcError(error, "EPROTO");
const TAIL = (Offset.RING0_CONTROL + RingOffset.TAIL) / 4;
const HEAD = (Offset.RING0_CONTROL + RingOffset.HEAD) / 4;

/** Ring 0 of a fresh segment whose shared tail and head are both `start`. */
function ringAt(capacity: number, start: number) {
  const sab = createSegment({ capacityC2S: capacity, capacityS2C: 64 });
  const words = new Int32Array(sab);
  words[TAIL] = start | 0;
  words[HEAD] = start | 0;
  const location: RingLocation = {
    controlOffset: Offset.RING0_CONTROL,
    dataOffset: SEGMENT_HEADER_BYTES,
    capacity,
  };
  return { sab, words, producer: new RingProducer(sab, location), consumer: new RingConsumer(sab, location) };
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

/** Every byte of the segment except ring 0's data area and its tail/head words. */
function outsideRing0(sab: SharedArrayBuffer, capacity: number): number[] {
  const bytes = [...new Uint8Array(sab)];
  for (const word of [TAIL, HEAD]) bytes.fill(0, word * 4, word * 4 + 4);
  return [...bytes.slice(0, SEGMENT_HEADER_BYTES), ...bytes.slice(SEGMENT_HEADER_BYTES + capacity)];
}

describe("ring byte stream", () => {
  for (const capacity of [64, 256]) {
    test(`wraps around at every offset of a ${capacity}-byte ring`, () => {
      const lengths = [0, 1, 5, 63, 64, 65, capacity - 1, capacity].filter((n) => n <= capacity);
      for (let start = 0; start < capacity; start++) {
        for (const length of lengths) {
          const { sab, words, producer, consumer } = ringAt(capacity, start);
          const before = outsideRing0(sab, capacity);
          const bytes = pattern(length, start);
          assert.equal(producer.writable(), capacity);
          producer.write(bytes);
          assert.equal(consumer.readable(), 0, "nothing is visible before publish");
          assert.equal(producer.publish(), length > 0);
          assert.equal(words[TAIL]! >>> 0, start + length);
          assert.equal(consumer.readable(), length);
          const copy = new Uint8Array(length);
          consumer.copyOut(0, length, copy);
          assert.deepEqual(copy, bytes, `start ${start}, length ${length}`);
          if (length > 0) assert.equal(consumer.byteAt(length - 1), bytes[length - 1]);
          consumer.consume(length);
          assert.equal(consumer.release(), length > 0);
          assert.equal(words[HEAD]! >>> 0, start + length);
          assert.equal(producer.writable(), capacity);
          assert.deepEqual(outsideRing0(sab, capacity), before, "no byte outside the ring data changed");
        }
      }
    });
  }

  test("writes a slice of the source and reads at an offset past the head", () => {
    const { producer, consumer } = ringAt(64, 60);
    const source = pattern(100, 3);
    producer.write(source, 10, 30);
    producer.publish();
    const copy = new Uint8Array(15);
    consumer.copyOut(5, 15, copy);
    assert.deepEqual(copy, source.subarray(15, 30));
  });

  test("reads a big-endian u32 across the end of the data area", () => {
    const { producer, consumer } = ringAt(64, 62);
    producer.write(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    producer.publish();
    assert.equal(consumer.uint32At(0), 0xdeadbeef);
  });

  test("counters run past 2^32", () => {
    const start = 0xffffffff - 20;
    const { words, producer, consumer } = ringAt(64, start);
    const bytes = pattern(50, 1);
    producer.write(bytes);
    producer.publish();
    assert.equal(words[TAIL]! >>> 0, (start + 50) % 2 ** 32);
    assert.equal(consumer.readable(), 50);
    const copy = new Uint8Array(50);
    consumer.copyOut(0, 50, copy);
    assert.deepEqual(copy, bytes);
  });

  test("a full ring holds exactly its capacity", () => {
    const { producer, consumer } = ringAt(64, 5);
    producer.write(pattern(64, 0));
    assert.equal(producer.writable(), 0);
    assert.equal(producer.hasRoom(1), false);
    assert.equal(producer.unpublished, 64);
    producer.publish();
    assert.equal(producer.unpublished, 0);
    assert.equal(consumer.readable(), 64);
    consumer.consume(10);
    assert.equal(producer.writable(), 0, "consumed space returns only once released");
    consumer.release();
    assert.equal(producer.writable(), 10);
  });

  test("each side loads its own index once and never reads it back", () => {
    const { words, producer, consumer } = ringAt(64, 10);
    words[TAIL] = 40; // a peer rewriting our tail changes nothing
    producer.write(pattern(4, 0));
    producer.publish();
    assert.equal(words[TAIL], 14);
    words[HEAD] = 13;
    consumer.consume(4);
    consumer.release();
    assert.equal(words[HEAD], 14);
  });
});

describe("index validation", () => {
  test("the producer refuses a head ahead of its tail or more than a ring behind", () => {
    for (const head of [11, 10 - 65, 10 + 2 ** 31]) {
      const { words, producer } = ringAt(64, 10);
      words[HEAD] = head | 0;
      assert.throws(() => producer.writable(), isProtocolError, `head ${head}`);
    }
  });

  test("the producer accepts every head from a full ring to an empty one", () => {
    const { words, producer } = ringAt(64, 100);
    producer.write(pattern(64, 0));
    for (let head = 100; head <= 164; head++) {
      words[HEAD] = head;
      assert.equal(producer.writable(), head - 100);
    }
  });

  test("the consumer refuses a tail behind its head or more than a ring ahead", () => {
    for (const tail of [9, 10 + 65, 10 - 2 ** 31]) {
      const { words, consumer } = ringAt(64, 10);
      words[TAIL] = tail | 0;
      assert.throws(() => consumer.readable(), isProtocolError, `tail ${tail}`);
    }
  });

  test("the producer reloads the head only when its known free space is too small", () => {
    const { words, producer } = ringAt(64, 0);
    assert.ok(producer.hasRoom(64));
    producer.write(pattern(8, 0));
    words[HEAD] = 1000; // impossible, but not read while 56 known-free bytes suffice
    assert.ok(producer.hasRoom(56));
    assert.throws(() => producer.hasRoom(57), isProtocolError);
  });
});
