/**
 * The transport interface (js/src/transport/transport.ts): openChannel
 * attaches, then starts the transport; a transport reports the peer's death
 * with channel.peerDied, which ends the channel after delivering what the
 * peer published, and fails an RpcClient's calls with UNAVAILABLE. Driven
 * by a real worker-thread transport (helpers/worker-transport.ts) as well
 * as by hand.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { Channel, FrameType, RpcClient, Status, createSegment, isRpcError, isShmrpcError, type Message } from "../../js/src/index.js";
import { Offset, PeerState } from "../../js/src/internal.js";
import { openChannel, type Transport, type TransportChannel } from "../../js/src/transport/transport.js";
import { RpcTestClient } from "./gen/rpc_test_pb.js";
import { WorkerTransport } from "./helpers/worker-transport.js";

const unavailable = (error: unknown) => isRpcError(error, Status.UNAVAILABLE);

/** A transport whose peer is a second Channel in this thread. */
class LocalTransport implements Transport {
  readonly side = "client";
  readonly segment = createSegment({ capacityC2S: 1024, capacityS2C: 1024 });
  readonly doorbell = { ring() {}, wait: () => false, keepAlive() {} };
  started: TransportChannel | undefined;
  stateWhenStarted = -1;
  closed = 0;
  constructor(private readonly failStart = false) {}
  start(channel: TransportChannel): void {
    this.stateWhenStarted = new Int32Array(this.segment)[Offset.CLIENT_STATE / 4]!;
    if (this.failStart) throw new Error("the peer cannot start");
    this.started = channel;
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

describe("openChannel", () => {
  test("attaches on the transport's side, then starts the transport with the channel", () => {
    const transport = new LocalTransport();
    const channel = openChannel(transport, { maxMessageBytes: 1000 });
    assert.equal(transport.started, channel);
    assert.equal(transport.stateWhenStarted, PeerState.OPEN);
    assert.equal(channel.side, "client");
    assert.equal(new Int32Array(transport.segment)[Offset.CLIENT_MAX_MESSAGE / 4], 1000);
    channel.close();
  });

  test("closes the channel and rethrows when the transport cannot start", () => {
    const transport = new LocalTransport(true);
    assert.throws(() => openChannel(transport), /the peer cannot start/);
    assert.equal(new Int32Array(transport.segment)[Offset.CLIENT_STATE / 4], PeerState.CLOSED);
  });
});

describe("channel.peerDied", () => {
  test("delivers what the peer published, then ends the stream and fails sends with the reason", async () => {
    const sab = createSegment({ capacityC2S: 1024, capacityS2C: 1024 });
    const client = new Channel(sab, { side: "client" });
    const server = new Channel(sab, { side: "server" });
    await server.send(FrameType.TEXT, "sent before dying");
    const ended = new Promise<unknown>((resolve) => client.onClose(resolve));
    client.peerDied("its process was killed");
    assert.equal(new Int32Array(sab)[Offset.SERVER_STATE / 4], PeerState.DEAD);
    const received: Message[] = [];
    try {
      for await (const message of client) received.push(message);
      assert.fail("the stream must end with an error");
    } catch (error) {
      assert.ok(isShmrpcError(error, "EPEERDEAD"), String(error));
      assert.match((error as Error).message, /the peer died: its process was killed/);
    }
    assert.deepEqual(received, [{ type: FrameType.TEXT, data: "sent before dying" }]);
    assert.ok(isShmrpcError(await ended, "EPEERDEAD"));
    await assert.rejects(client.send(FrameType.TEXT, "later"), /the peer died/);
    client.peerDied("again"); // harmless
    client.close();
    server.close();
  });

  test("changes nothing when the peer had closed cleanly", async () => {
    const sab = createSegment({ capacityC2S: 1024, capacityS2C: 1024 });
    const client = new Channel(sab, { side: "client" });
    const server = new Channel(sab, { side: "server" });
    await server.send(FrameType.TEXT, "bye");
    server.close();
    client.peerDied("its thread returned");
    assert.equal(new Int32Array(sab)[Offset.SERVER_STATE / 4], PeerState.CLOSED);
    const received: Message[] = [];
    for await (const message of client) received.push(message); // ends without an error
    assert.deepEqual(received, [{ type: FrameType.TEXT, data: "bye" }]);
    client.close();
  });
});

describe("a worker-thread transport", () => {
  test("serves a generated client through openChannel", { timeout: 30_000 }, async () => {
    const transport = new WorkerTransport("echo");
    const channel = openChannel(transport);
    const rpc = new RpcClient(channel);
    const client = new RpcTestClient(rpc);
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.echo({ text: `${i}` })));
      assert.deepEqual(
        replies.map((reply) => reply.text),
        Array.from({ length: 20 }, (_, i) => `echo: ${i}`),
      );
    } finally {
      rpc.close();
      channel.close();
      await transport.close();
    }
    assert.deepEqual(transport.errors, []);
  });

  test("a worker that dies mid-call fails every pending call with UNAVAILABLE, and later calls at once", { timeout: 30_000 }, async () => {
    const transport = new WorkerTransport("exit-on-hang");
    const channel = openChannel(transport);
    const rpc = new RpcClient(channel);
    const client = new RpcTestClient(rpc);
    try {
      assert.equal((await client.echo({ text: "alive" })).text, "echo: alive");
      // No deadlines: only the death report can end these calls.
      const pending = Array.from({ length: 10 }, (_, i) => client.echo({ text: `pending ${i}` }).catch((error: unknown) => error));
      const hang = client.hang({}).catch((error: unknown) => error);
      for (const outcome of [await hang, ...(await Promise.all(pending))]) {
        if (isRpcError(outcome)) {
          assert.ok(unavailable(outcome), String(outcome));
          assert.match(outcome.message, /the peer died: the worker exited with code 7/);
        } else {
          // An echo answered before the hang request reached the worker.
          assert.match((outcome as { text: string }).text, /^echo: pending/);
        }
      }
      assert.ok(unavailable(await hang));
      assert.equal(rpc.callsInFlight, 0);
      await assert.rejects(client.echo({ text: "later" }), unavailable);
    } finally {
      rpc.close();
      channel.close();
      await transport.close();
    }
  });
});
