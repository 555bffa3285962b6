/**
 * The peer-state table of docs/PROTOCOL.md section 5, from the golden file
 * tests/vectors/state/transitions.json (tests/c/test_state_table.c drives
 * the same file through the C channel): what each event does to a side's
 * state word, what a side does on seeing each peer state, and how a waker
 * treats each wait value, on real channels over one segment.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";

import { Channel, FrameType, PeerState, createSegment, isShmrpcError, packageRoot } from "../../js/src/index.js";
import { Offset, RingOffset, WAIT_WORDS, WaitValue } from "../../js/src/channel/layout.js";
import { RecordingDoorbell } from "./helpers/recording-doorbell.js";

interface Transition {
  event: "open" | "close" | "violation" | "mark_dead";
  from: keyof typeof PeerState;
  to: keyof typeof PeerState;
  wakes_all: boolean;
}
interface OnPeerState {
  peer: number;
  name: string;
  send: string;
  receive_empty: string;
  receive_published: string;
  stream_end: "none" | "clean" | "error";
}
interface Wake {
  word: number;
  name: string;
  action: "none" | "wake" | "wake_loop";
  after: number;
}
const table = JSON.parse(readFileSync(path.join(packageRoot(), "tests/vectors/state/transitions.json"), "utf8")) as {
  states: Record<string, number>;
  wait_values: Record<string, number>;
  transitions: Transition[];
  on_peer_state: OnPeerState[];
  wake: Wake[];
};

const CAPACITY = 256;
const SERVER_STATE = Offset.SERVER_STATE / 4;
const CLIENT_STATE = Offset.CLIENT_STATE / 4;

test("the state and wait values are the runtime's", () => {
  assert.deepEqual(table.states, PeerState);
  assert.deepEqual(table.wait_values, WaitValue);
});

/** Brings the server to `state` the way the protocol gets there; the client observes. */
function serverIn(state: keyof typeof PeerState) {
  const sab = createSegment({ capacityC2S: CAPACITY, capacityS2C: CAPACITY });
  const words = new Int32Array(sab);
  const client = new Channel(sab, { side: "client" });
  const server = state === "ABSENT" ? undefined : new Channel(sab, { side: "server" });
  const act = (event: Transition["event"]) => apply(event, sab, server, client);
  if (state === "CLOSED") act("close");
  if (state === "FAILED") act("violation");
  if (state === "DEAD") act("mark_dead");
  return { sab, words, client, server, act };
}

function apply(event: Transition["event"], sab: SharedArrayBuffer, server: Channel | undefined, client: Channel): Channel | undefined {
  switch (event) {
    case "open":
      return new Channel(sab, { side: "server" });
    case "close":
      server!.close();
      return server;
    case "violation": {
      // A tail beyond the ring's capacity: the server's next receive sees it.
      const words = new Int32Array(sab);
      const tail = (Offset.RING0_CONTROL + RingOffset.TAIL) / 4;
      const saved = Atomics.load(words, tail);
      Atomics.store(words, tail, CAPACITY * 4);
      assert.throws(() => server!.receiveSync(0), (error) => isShmrpcError(error) && ["EPROTO", "ECLOSED"].includes(error.code));
      Atomics.store(words, tail, saved);
      return server;
    }
    case "mark_dead":
      client.markPeerDead();
      return server;
  }
}

describe("transitions", () => {
  for (const row of table.transitions) {
    test(`${row.event} from ${row.from} -> ${row.to}${row.wakes_all ? ", wakes all" : ""}`, () => {
      const { words, client, act } = serverIn(row.from);
      assert.equal(Atomics.load(words, SERVER_STATE), PeerState[row.from]);
      for (const word of WAIT_WORDS) Atomics.store(words, word / 4, WaitValue.FUTEX);
      act(row.event);
      assert.equal(Atomics.load(words, SERVER_STATE) >>> 0, PeerState[row.to]);
      for (const word of WAIT_WORDS) {
        assert.equal(Atomics.load(words, word / 4), row.wakes_all ? WaitValue.NONE : WaitValue.FUTEX, `wait word ${word}`);
      }
      client.close();
    });
  }
});

const outcome = async (run: () => unknown, expected: string) => {
  if (expected === "ok" || expected === "wait") return run();
  await assert.rejects(async () => run(), (error) => isShmrpcError(error) && error.code === expected);
};

describe("what a side does on seeing each peer state", () => {
  for (const row of table.on_peer_state) {
    test(`peer ${row.name} (${row.peer}): send ${row.send}, empty receive ${row.receive_empty}, stream end ${row.stream_end}`, async () => {
      const sab = createSegment({ capacityC2S: CAPACITY, capacityS2C: CAPACITY });
      const words = new Int32Array(sab);
      const client = new Channel(sab, { side: "client" });
      const server = new Channel(sab, { side: "server" });
      await client.send(FrameType.TEXT, "hi");
      Atomics.store(words, CLIENT_STATE, row.peer | 0);

      assert.equal(row.receive_published, "deliver");
      assert.deepEqual(server.receiveSync(0), { type: FrameType.TEXT, data: "hi" });
      await outcome(() => {
        const message = server.receiveSync(0);
        assert.equal(message, undefined);
      }, row.receive_empty);
      await outcome(() => server.send(FrameType.TEXT, "x", { timeoutMs: 0 }), row.send);
      server.close();

      // The same state seen by an iterator: the stream ends cleanly or with the error.
      if (row.stream_end !== "none") {
        const sab2 = createSegment({ capacityC2S: CAPACITY, capacityS2C: CAPACITY });
        const other = new Channel(sab2, { side: "server" });
        Atomics.store(new Int32Array(sab2), CLIENT_STATE, row.peer | 0);
        const drain = async () => {
          for await (const _ of other);
        };
        if (row.stream_end === "clean") await drain();
        else await assert.rejects(drain, (error) => isShmrpcError(error) && error.code === row.receive_empty);
        other.close();
      }
    });
  }
});

describe("a waker on each wait value", () => {
  for (const row of table.wake) {
    test(`${row.name} (${row.word}): ${row.action}, then ${row.after}`, async () => {
      const sab = createSegment({ capacityC2S: CAPACITY, capacityS2C: CAPACITY });
      const words = new Int32Array(sab);
      const doorbell = new RecordingDoorbell();
      const client = new Channel(sab, { side: "client", doorbell });
      const serverConsumer = Offset.RING0_CONTROL + RingOffset.CONSUMER_WAIT;
      Atomics.store(words, serverConsumer / 4, row.word);
      // Publishing wakes the peer's consumer word.
      await client.send(FrameType.BINARY, new Uint8Array(4));
      const rings = doorbell.rings.filter((ring) => ring.offset === serverConsumer);
      // The doorbell gets the parked value: 2 means the loop hook, anything else the futex wake.
      const expected = row.action === "none" ? [] : [{ offset: serverConsumer, parked: row.word }];
      assert.deepEqual(rings, expected);
      assert.equal(row.action === "wake_loop", row.word === WaitValue.LOOP && rings.length === 1);
      assert.equal(Atomics.load(words, serverConsumer / 4), row.after);
      client.close();
    });
  }
});
