/**
 * Adaptive spinning (docs/PROTOCOL.md section 4, "Spin budgets"): the
 * TypeScript policy's decisions for waits fed to it; a channel's passive
 * listener and expect(), which decide when it asks for wake-ups and holds
 * the loop; and, end to end, the event loop's spin (the C core's policy in
 * the addon) and receiveSync's giving up on replies that come late, while
 * fixed budgets stay. Counts and budgets only, never timings.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";

import { Channel, FrameType, createSegment } from "../../js/src/index.js";
import { Offset, RingOffset, WaitValue } from "../../js/src/channel/layout.js";
import { SpinPolicy } from "../../js/src/channel/spin.js";
import { InProcessService, type InProcessOptions } from "../../js/src/node.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient } from "../../js/src/rpc/index.js";
import { RpcTest, RpcTestClient } from "./gen/rpc_test_pb.js";
import { RecordingDoorbell } from "./helpers/recording-doorbell.js";

const servicesDir = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");

describe("SpinPolicy decisions", () => {
  test("starts at the cap; waits caught while spinning keep the budget", () => {
    const policy = new SpinPolicy(50);
    for (let i = 0; i < 100; i++) policy.observe(true, 0);
    assert.deepEqual(policy.stats(), { budgetMicros: 50, maxMicros: 50, fixed: false, caught: 100, parked: 0 });
  });

  test("a peer that answers later than the cap: the budget halves to 0 in five waits and stays", () => {
    const policy = new SpinPolicy(50);
    const budgets = [];
    for (let i = 0; i < 7; i++) {
      policy.observe(false, 10_000); // one call every 10 ms
      budgets.push(policy.budgetMicros);
    }
    assert.deepEqual(budgets, [25, 12.5, 6.25, 3.125, 0, 0, 0]);
    assert.equal(policy.parked, 7);
  });

  test("a wait that parked but ended within the cap grows the budget back, up to the cap", () => {
    const policy = new SpinPolicy(50);
    for (let i = 0; i < 5; i++) policy.observe(false, 10_000);
    const budgets = [];
    for (const waited of [20, 50, 30, 40]) {
      policy.observe(false, waited);
      budgets.push(policy.budgetMicros);
    }
    assert.deepEqual(budgets, [12.5, 25, 50, 50]);
  });

  test("a peer a wake-up away (between one and eight caps) leaves the budget, full or empty", () => {
    const policy = new SpinPolicy(50);
    policy.observe(false, 51);
    policy.observe(false, 400);
    assert.equal(policy.budgetMicros, 50);
    for (let i = 0; i < 5; i++) policy.observe(false, 10_000);
    policy.observe(false, 90);
    assert.equal(policy.budgetMicros, 0);
  });

  test("a fixed policy counts its waits but keeps its budget", () => {
    const policy = new SpinPolicy(50, true);
    policy.observe(false, 10_000);
    policy.observe(true, 0);
    assert.deepEqual(policy.stats(), { budgetMicros: 50, maxMicros: 50, fixed: true, caught: 1, parked: 1 });
  });
});

describe("passive listeners and expect()", () => {
  test("a passive listener asks for no wake-up and holds nothing until expect(true)", async () => {
    const doorbell = new RecordingDoorbell();
    const segment = createSegment({ capacityC2S: 4096, capacityS2C: 4096 });
    // spinMicros 0: no spin before parking (see the loop spin tests below).
    const channel = new Channel(segment, { side: "client", doorbell, spinMicros: 0 });
    const words = new Int32Array(segment, 0, 128);
    const consumerWait = (Offset.RING1_CONTROL + RingOffset.CONSUMER_WAIT) >> 2;
    const stop = channel.onMessage(() => {}, { passive: true });
    await Promise.resolve(); // the listener's first drain
    assert.equal(Atomics.load(words, consumerWait), WaitValue.NONE);
    assert.deepEqual(doorbell.keepAlives, []);
    channel.expect(true); // parks at once, in the loop (2: this doorbell watches nothing before blocking)
    assert.equal(Atomics.load(words, consumerWait), WaitValue.LOOP);
    assert.deepEqual(doorbell.keepAlives, [true]);
    assert.equal(doorbell.parks.length, 1);
    channel.expect(false);
    assert.equal(Atomics.load(words, consumerWait), WaitValue.NONE);
    assert.deepEqual(doorbell.keepAlives, [true, false]);
    stop();
    channel.close();
  });
});

describe("the event loop's spin where the transport spins for nobody (Atomics doorbells)", () => {
  const consumerWait = (Offset.RING1_CONTROL + RingOffset.CONSUMER_WAIT) >> 2;
  function pair(spinFixed = false) {
    const segment = createSegment({ capacityC2S: 4096, capacityS2C: 4096 });
    const doorbell = new RecordingDoorbell();
    const client = new Channel(segment, { side: "client", doorbell, spinMicros: 50, spinFixed });
    const server = new Channel(segment, { side: "server", doorbell: new RecordingDoorbell() });
    const received: string[] = [];
    client.onMessage((m) => received.push(String(m.data)), { passive: true });
    return { segment, doorbell, client, server, received, words: new Int32Array(segment, 0, 128) };
  }
  const microtasks = () => new Promise<void>((resolve) => setImmediate(resolve));

  test("expect(true) parks nothing at once: a microtask spins first, and catches a reply already there", async () => {
    const { doorbell, client, server, received, words } = pair();
    await microtasks();
    await server.send(FrameType.TEXT, "reply"); // published; the peer would be another thread
    client.expect(true);
    assert.equal(Atomics.load(words, consumerWait), WaitValue.NONE, "not parked while the caller's code runs");
    assert.deepEqual(received, [], "nor read: the spin waits for the caller's code to finish");
    await microtasks();
    assert.deepEqual(received, ["reply"]);
    assert.equal(client.loopSpinStats.caught, 1, "caught spinning, with no wake-up");
    assert.equal(doorbell.parks.length, 1, "then, still expecting, it spun again and parked once");
    client.close();
    server.close();
  });

  test("nothing within the budget: parks; replies that come late take the budget to 0, then it parks at once", async () => {
    const { doorbell, client, server, received, words } = pair();
    await microtasks();
    client.expect(true);
    for (let i = 0; i < 5; i++) {
      await microtasks();
      assert.equal(Atomics.load(words, consumerWait), WaitValue.LOOP, `wait ${i} parked after its spin`);
      await new Promise((resolve) => setTimeout(resolve, 5)); // later than 8 caps
      await server.send(FrameType.TEXT, `late ${i}`);
      client.wake(); // what the doorbell's wake-up does
    }
    assert.equal(received.length, 5);
    assert.equal(client.loopSpinStats.budgetMicros, 0, JSON.stringify(client.loopSpinStats));
    const parks = doorbell.parks.length;
    client.expect(false);
    client.expect(true);
    assert.equal(Atomics.load(words, consumerWait), WaitValue.LOOP, "budget 0: parked at once, no microtask");
    assert.equal(doorbell.parks.length, parks + 1);
    client.close();
    server.close();
  });

  test("spinFixed keeps spinning the cap", async () => {
    const { client, server } = pair(true);
    await microtasks();
    client.expect(true);
    for (let i = 0; i < 3; i++) {
      await microtasks();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await server.send(FrameType.TEXT, "late");
      client.wake();
    }
    assert.equal(client.loopSpinStats.budgetMicros, 50);
    client.close();
    server.close();
  });
});

function start(t: TestContext, options: Partial<InProcessOptions> = {}) {
  const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so"), spinMicros: 50, ...options });
  const rpc = new RpcClient(service.channel);
  t.after(async () => {
    rpc.close();
    assert.equal(await service.close(), 0);
  });
  return { service, rpc, client: new RpcTestClient(rpc) };
}

describe("adaptive spinning end to end (C service in-process)", { timeout: 60000 }, () => {
  test("replies that come after the cap: the event loop stops spinning for them and parks at once", async (t) => {
    const { service, client } = start(t);
    for (let i = 0; i < 8; i++) await client.echo({ text: "slow", delayMs: 2 });
    const stats = service.loopSpinStats!;
    assert.equal(stats.budgetMicros, 0, JSON.stringify(stats));
    assert.ok(stats.parked >= 5, JSON.stringify(stats));
    // Later waits park without spinning: the budget stays 0.
    for (let i = 0; i < 3; i++) await client.echo({ text: "slow", delayMs: 2 });
    assert.equal(service.loopSpinStats!.budgetMicros, 0);
  });

  test("with spinFixed the event loop keeps its budget", async (t) => {
    const { service, client } = start(t, { spinFixed: true });
    for (let i = 0; i < 8; i++) await client.echo({ text: "slow", delayMs: 2 });
    const stats = service.loopSpinStats!;
    assert.equal(stats.budgetMicros, 50);
    assert.equal(stats.fixed, true);
  });

  test("unarySync: receiveSync's budget follows the same rules", (t) => {
    const { service, rpc } = start(t);
    for (let i = 0; i < 8; i++) rpc.unarySync(RpcTest.methods.echo, { text: "slow", delayMs: 2 });
    assert.equal(service.channel.spinStats.budgetMicros, 0, JSON.stringify(service.channel.spinStats));
  });
});
