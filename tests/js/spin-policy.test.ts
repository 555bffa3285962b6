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
import { GreeterClient } from "../../examples/greeter/gen/greeter_pb.js";
import { RpcTest, RpcTestClient } from "./gen/rpc_test_pb.js";
import { RecordingDoorbell } from "./helpers/recording-doorbell.js";
import { readVector } from "./helpers/vectors.js";
import { startWasmServiceInNode } from "./helpers/wasm-node.js";

const servicesDir = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");

/** The cases of tests/vectors/spin/policy.txt, the table the C policy's test reads too. */
function policyTable(): Array<{ name: string; lines: string[] }> {
  const cases: Array<{ name: string; lines: string[] }> = [];
  for (const raw of new TextDecoder().decode(readVector("spin/policy.txt")).split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("case ")) cases.push({ name: line.split(/\s+/)[1]!, lines: [] });
    cases.at(-1)!.lines.push(line);
  }
  return cases;
}

describe("SpinPolicy decisions: the table the C policy passes too (tests/vectors/spin/policy.txt)", () => {
  const cases = policyTable();
  test("the table has the cases both languages check", () => {
    assert.ok(cases.length >= 10, `${cases.length} cases`);
    assert.ok(cases.some((c) => c.name === "probe_after_a_quiet_spell"));
  });
  for (const { name, lines } of cases) {
    test(name, () => {
      let policy: SpinPolicy | undefined;
      let clock = 0; // the end of the last wait, on the table's clock (µs)
      for (const line of lines) {
        const words = line.split(/\s+/);
        if (words[0] === "case") {
          assert.ok(words[3] === "adaptive" || words[3] === "fixed", line);
          policy = new SpinPolicy(Number(words[2]) / 1000, words[3] === "fixed");
          clock = 1_000_000; // not 0, which means "unknown"
        } else if (words[0] === "counts") {
          const { caught, parked, probes } = policy!.stats();
          assert.deepEqual([caught, parked, probes], words.slice(1).map(Number), `${name}: ${line}`);
        } else {
          // SPIN caught BUDGET, or SPIN parked WAITED GAP BUDGET
          const caught = words[1] === "caught";
          assert.ok(caught ? words.length === 3 : words[1] === "parked" && words.length === 5, `cannot read "${line}"`);
          const [spin, ...rest] = words.filter((_, i) => i !== 1).map((word) => Number(word) / 1000);
          assert.equal(policy!.begin(), spin, `${name}: the wait spins (${line})`);
          if (caught) {
            policy!.observe(true, 0);
          } else {
            clock += rest[1]! + rest[0]!;
            policy!.observe(false, rest[0]!, clock);
          }
          assert.equal(policy!.budgetMicros, rest.at(-1), `${name}: the budget after (${line})`);
        }
      }
    });
  }
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

  test("at budget 0, after four waits a wake-up long in a busy exchange, the next wait probes: a reply there by then is caught and the budget is back", async () => {
    // A 5 ms cap: idle periods are over 40 ms; waits of 15 ms, 15 ms
    // apart, are a wake-up long in a busy exchange. Roomy, so that a
    // loaded machine's late timers only start the count again.
    const cap = 5000;
    const segment = createSegment({ capacityC2S: 4096, capacityS2C: 4096 });
    const client = new Channel(segment, { side: "client", doorbell: new RecordingDoorbell(), spinMicros: cap });
    const server = new Channel(segment, { side: "server", doorbell: new RecordingDoorbell() });
    let answerAtOnce = false;
    client.onMessage(
      (message) => {
        // The peer answers each message at once as well: the answer is
        // published before the next wait's spin (a probe) begins, while a
        // wait that parks at once does not see it.
        if (answerAtOnce && String(message.data) === "message") void server.send(FrameType.TEXT, "at once");
      },
      { passive: true },
    );
    await microtasks();
    client.expect(true);
    const waitFor = async (ms: number) => {
      await microtasks();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await server.send(FrameType.TEXT, "message");
      client.wake(); // what the doorbell's wake-up does
    };
    for (let i = 0; i < 5; i++) await waitFor(60);
    assert.equal(client.loopSpinStats.budgetMicros, 0, JSON.stringify(client.loopSpinStats));
    answerAtOnce = true;
    for (let i = 0; i < 20 && client.loopSpinStats.probes === 0; i++) await waitFor(15);
    await microtasks();
    const stats = client.loopSpinStats;
    assert.ok(stats.probes >= 1, JSON.stringify(stats));
    assert.equal(stats.budgetMicros, cap, JSON.stringify(stats));
    client.close();
    server.close();
  });

  test("the spin publishes this tick's requests before it spins: a peer that spins answers within it (WebAssembly service in a Worker)", { timeout: 60000 }, async (t) => {
    // The service spins up to 2 s for each request, the client's loop up
    // to 200 ms for each reply: every reply should be caught spinning,
    // unless the request still sits unpublished while the client spins.
    const service = await startWasmServiceInNode("greeter", { serviceSpinMicros: 2_000_000, channel: { spinMicros: 200_000, spinFixed: true } });
    t.after(() => service.terminate());
    const greeter = new GreeterClient(new RpcClient(service.channel));
    const calls = 10;
    for (let i = 0; i < calls; i++) assert.equal((await greeter.sayHello({ name: "spin" })).message, "Hello, spin!");
    const stats = service.channel.loopSpinStats;
    assert.ok(stats.caught >= calls / 2, JSON.stringify(stats));
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
