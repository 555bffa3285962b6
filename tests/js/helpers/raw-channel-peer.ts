/**
 * What the channel tests share: a client whose peer the test plays through
 * raw ring views and the segment's words, and small helpers for them.
 */
import type { TestContext } from "node:test";

import { Channel, createSegment, isShmrpcError, type ChannelOptions } from "../../../js/src/index.js";
import { Offset, PeerState, SEGMENT_HEADER_BYTES } from "../../../js/src/channel/layout.js";
import { RingConsumer, RingProducer } from "../../../js/src/channel/ring.js";
import { RecordingDoorbell } from "./recording-doorbell.js";

export const isCode = (code: string) => (error: unknown) => isShmrpcError(error) && error.code === code;
export const word = (byteOffset: number) => byteOffset / 4;
export const RING0 = Offset.RING0_CONTROL;
export const RING1 = Offset.RING1_CONTROL;

/** A client whose peer is played by the test through raw ring views. */
export function clientWithRawPeer(t: TestContext, capacity = 64, options: Partial<ChannelOptions> = {}) {
  const sab = createSegment({ capacityC2S: capacity, capacityS2C: capacity });
  const words = new Int32Array(sab);
  words[word(Offset.SERVER_STATE)] = PeerState.OPEN;
  words[word(Offset.SERVER_MAX_MESSAGE)] = 1 << 20;
  const doorbell = new RecordingDoorbell();
  const client = new Channel(sab, { side: "client", doorbell, ...options });
  t.after(() => client.close());
  const toClient = new RingProducer(sab, {
    controlOffset: RING1,
    dataOffset: SEGMENT_HEADER_BYTES + capacity,
    capacity,
  });
  const fromClient = new RingConsumer(sab, { controlOffset: RING0, dataOffset: SEGMENT_HEADER_BYTES, capacity });
  /** Publishes raw bytes into the client's incoming ring. */
  const inject = (bytes: Uint8Array) => {
    toClient.write(bytes);
    toClient.publish();
  };
  return { sab, words, doorbell, client, inject, fromClient };
}

/** `length` bytes of a pattern that differs with `seed`. */
export function bytes(length: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}
