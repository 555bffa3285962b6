/**
 * End to end through the addon: JavaScript on the main thread, a C service
 * library (tests/services/channel_test_service.c) on the addon's native
 * thread, one SharedArrayBuffer between them.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";

import { FrameType, InProcessService, isShmrpcError, packageRoot, type Message } from "../../js/src/index.js";

const services = path.join(packageRoot(), "build/cmake/services");
const library = path.join(services, "libshmrpc_channel_test.so");
const RING = 64 << 10;

function patterned(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + seed) & 0xff;
  return bytes;
}

function fnv1a(hash: number, bytes: Uint8Array): number {
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  return hash;
}

async function nextMessage(replies: AsyncIterator<Message>): Promise<Message> {
  const reply = await replies.next();
  assert.equal(reply.done, false, "the stream ended early");
  return reply.value as Message;
}

for (const spinMicros of [50, 0]) {
  test(`every type and size comes back intact (spin ${spinMicros} µs: ${spinMicros ? "spinning" : "parked"} peers)`, async () => {
    const service = new InProcessService({ library, capacity: RING, spinMicros });
    const replies = service.channel[Symbol.asyncIterator]();
    for (const size of [0, 1, 4096, RING - 1, 4 * RING]) {
      const binary = patterned(size, size);
      for (const type of [FrameType.BINARY, FrameType.COMMAND]) {
        await service.channel.send(type, binary);
        const reply = await nextMessage(replies);
        assert.equal(reply.type, type);
        assert.deepEqual(reply.data, binary, `${size} bytes of type ${type}`);
      }
      const text = "é".repeat(size >> 1) + "x".repeat(size & 1); // `size` UTF-8 bytes
      await service.channel.send(FrameType.TEXT, text);
      const reply = await nextMessage(replies);
      assert.equal(reply.type, FrameType.TEXT);
      assert.equal(reply.data, text, `${size}-byte TEXT`);
    }
    assert.equal(await service.close(), 0);
  });
}

test("a 1 MiB message through a 4 MiB ring (one frame, native copies) comes back intact", async () => {
  const service = new InProcessService({ library, capacity: 4 << 20 });
  const replies = service.channel[Symbol.asyncIterator]();
  for (let i = 0; i < 6; i++) {
    const message = patterned((1 << 20) + i, i); // the ring wraps within a few messages
    await service.channel.send(FrameType.BINARY, message);
    assert.deepEqual((await nextMessage(replies)).data, message);
  }
  assert.equal(await service.close(), 0);
});

test("receiveSync waits for the native thread (spin, then futex)", async () => {
  for (const spinMicros of [1000, 0]) {
    const service = new InProcessService({ library, capacity: RING, spinMicros });
    for (let i = 0; i < 200; i++) {
      const payload = patterned(i * 13, i);
      assert.ok(service.channel.trySend(FrameType.BINARY, payload));
      service.channel.flush();
      const reply = service.channel.receiveSync(5000);
      assert.ok(reply, "no reply within 5 s");
      assert.deepEqual(reply.data, payload);
    }
    assert.equal(await service.close(), 0);
  }
});

test("an event loop that spins for the replies spares the service from waking it", async () => {
  // Echoes awaited one by one, the C side spinning: each reply comes while
  // JavaScript waits in its event loop.
  const echoes = async (loopSpinMicros: number): Promise<number> => {
    const service = new InProcessService({ library, capacity: RING, spinMicros: 1_000_000, loopSpinMicros });
    const replies = service.channel[Symbol.asyncIterator]();
    for (let i = 0; i < 200; i++) {
      const payload = patterned(16, i);
      await service.channel.send(FrameType.BINARY, payload);
      assert.deepEqual((await nextMessage(replies)).data, payload);
    }
    const wakeUps = service.loopWakeUps;
    await replies.return?.();
    assert.equal(await service.close(), 0);
    return wakeUps;
  };
  const spinning = await echoes(1_000_000);
  const blocking = await echoes(0);
  assert.ok(spinning <= 5, `the service woke a spinning loop ${spinning} times for 200 replies`);
  assert.ok(blocking >= 150, `the service woke a blocking loop only ${blocking} times for 200 replies`);
});

test("a slow C consumer pushes back without losing or reordering anything", async () => {
  const service = new InProcessService({ library, capacity: 4096, config: "slow-sink" });
  const replies = service.channel[Symbol.asyncIterator]();
  let hash = 2166136261;
  let bytes = 0;
  const sends: Array<Promise<void>> = [];
  const count = 3000;
  for (let i = 0; i < count; i++) {
    const payload = patterned(1 + ((i * 37) % 200), i);
    hash = fnv1a(fnv1a(hash, Uint8Array.of(FrameType.BINARY)), payload);
    bytes += payload.length;
    sends.push(service.channel.send(FrameType.BINARY, payload)); // not awaited: they queue
  }
  await Promise.all(sends);
  assert.ok(service.channel.stats.parks > 0, "the ring never filled: no backpressure was exercised");
  await service.channel.send(FrameType.COMMAND, new Uint8Array(0));
  const report = JSON.parse(new TextDecoder().decode((await nextMessage(replies)).data as Uint8Array));
  assert.deepEqual(report, { messages: count, bytes, hash });
  assert.equal(await service.close(), 0);
});

test("closing while traffic flows rejects the pending sends and stops the service", async () => {
  const service = new InProcessService({ library, capacity: 4096, config: "slow-sink" });
  const outcomes = Array.from({ length: 2000 }, (_, i) =>
    service.channel.send(FrameType.BINARY, patterned(100, i)).then(
      () => "sent",
      (error: unknown) => (isShmrpcError(error, "ECLOSED") ? "rejected" : error),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  const exitCode = service.close();
  const results = await Promise.all(outcomes);
  assert.ok(results.includes("rejected"), "some sends were still pending at close");
  assert.ok(results.every((r) => r === "sent" || r === "rejected"), `unexpected outcome ${results.find((r) => r !== "sent" && r !== "rejected")}`);
  assert.equal(await exitCode, 0);
  assert.equal(service.running, false);
});

test("sending after close rejects with ECLOSED", async () => {
  const service = new InProcessService({ library, capacity: RING });
  await service.close();
  await assert.rejects(service.channel.send(FrameType.TEXT, "late"), (e) => isShmrpcError(e, "ECLOSED"));
});

test("a service that stops on its own without closing is dead: later sends fail with EPEERDEAD", async () => {
  const service = new InProcessService({ library, capacity: RING, config: "refuse" });
  assert.equal(await service.exited(), -1, "SHMRPC_EINVAL from shmrpc_serve");
  await assert.rejects(service.channel.send(FrameType.TEXT, "anyone?"), (e) => isShmrpcError(e, "EPEERDEAD"));
  service.channel.close();
});

test("misuse gets clear errors", () => {
  assert.throws(() => new InProcessService({} as never), TypeError);
  assert.throws(() => new InProcessService({ library, loopSpinMicros: "20" as never }), /loopSpinMicros must be a number/);
  assert.throws(() => new InProcessService({ library, spinMicros: -1 }), /spinMicros must be a number/);
  assert.throws(
    () => new InProcessService({ library: path.join(services, "no-such-library.so") }),
    /cannot load .*no-such-library\.so/,
  );
  // A loadable library that is not a service.
  assert.throws(() => new InProcessService({ library: "libm.so.6" }), /does not export shmrpc_serve/);
});

test("wrong argument types throw TypeErrors synchronously", async () => {
  const service = new InProcessService({ library, capacity: RING });
  assert.throws(() => service.channel.send(FrameType.BINARY, "not bytes" as never), TypeError);
  assert.throws(() => service.channel.send(FrameType.TEXT, 42 as never), TypeError);
  assert.throws(() => service.channel.send(7 as never, new Uint8Array(1)), TypeError);
  assert.equal(await service.close(), 0);
});
