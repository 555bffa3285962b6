/**
 * The sending half of a Channel (docs/PROTOCOL.md sections 3-4): the queue
 * of sends waiting for space, writing whole or fragmented frames, publishing
 * each tick's frames with one tail store in a microtask, and waiting for
 * space: a blocked send spins up to spinMicros, then parks in the event loop
 * with producer_wait = 2 until the peer's wake-up reaches channel.wake().
 */
import { ShmrpcError } from "../errors.js";
import type { ChannelLink, ChannelOwner } from "./channel-link.js";
import { MAX_U32, timeoutOption, type SendOptions } from "./channel-options.js";
import { Fifo } from "./fifo.js";
import { FrameType, isFrameType } from "./frame.js";
import { FrameWriter, type InPlaceEncoder } from "./frame-writer.js";
import { PeerState, RingOffset, WaitValue } from "./layout.js";
import type { RingProducer } from "./ring.js";
import { spinUntil } from "./spin.js";

/**
 * Writes a payload of known length straight into the ring:
 * `target[offset, offset + length)` must be filled, nothing else touched.
 * `target` is valid only during the call, and the callback must not use the
 * channel.
 */
export type PayloadWriter = (target: Uint8Array, offset: number) => void;

interface PendingSend {
  readonly type: FrameType;
  readonly payload: Uint8Array;
  /** Payload bytes already written (fragmented messages advance in steps). */
  written: number;
  settled: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(): void;
  reject(error: unknown): void;
}

const RESOLVED = Promise.resolve();
const encoder = new TextEncoder();
const typeNames = ["TEXT", "BINARY", "COMMAND"] as const;

export class ChannelSender {
  private readonly writer: FrameWriter;
  /** Byte offsets of the transmit ring's wait words. */
  private readonly consumerWait: number;
  private readonly producerWait: number;
  private readonly queue = new Fifo<PendingSend>();
  private publishScheduled = false;

  /** `txControl` is the byte offset of the control block of `ring`. */
  constructor(
    private readonly link: ChannelLink,
    private readonly owner: ChannelOwner,
    ring: RingProducer,
    txControl: number,
    private readonly spinMicros: number,
  ) {
    this.writer = new FrameWriter(ring);
    this.consumerWait = txControl + RingOffset.CONSUMER_WAIT;
    this.producerWait = txControl + RingOffset.PRODUCER_WAIT;
  }

  /** True while some send waits for space in the ring. */
  get pending(): boolean {
    return this.queue.length > 0;
  }

  /** Channel.send: writes now if nothing waits before it, else queues. */
  send(type: FrameType, data: string | Uint8Array, options?: SendOptions): Promise<void> {
    checkPayload("send", type, data);
    const timeoutMs = timeoutOption(options);
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    try {
      const idle = this.queue.length === 0;
      if (typeof data === "string") {
        if (idle && this.writer.writeTextInPlace(type, data, this.link.peerLimit())) return this.wrote();
        data = encoder.encode(data);
      }
      this.checkSize(data.length);
      if (idle && this.writer.writeFrame(type, data)) return this.wrote();
    } catch (error) {
      return Promise.reject(this.owner.failOnViolation(error));
    }
    return this.enqueue(type, data, timeoutMs);
  }

  /** Channel.trySend: one whole frame now, or false with nothing written. */
  trySend(type: FrameType, data: string | Uint8Array): boolean {
    checkPayload("trySend", type, data);
    const refused = this.refusal();
    if (refused) throw refused;
    if (this.queue.length > 0) return false;
    try {
      const writer = this.writer;
      if (typeof data === "string") {
        if (writer.writeTextInPlace(type, data, this.link.peerLimit())) {
          this.wrote();
          return true;
        }
        data = encoder.encode(data);
      }
      this.checkSize(data.length);
      if (writer.needsFragments(data.length)) {
        throw new ShmrpcError("EMSGSIZE", `a ${data.length}-byte message needs fragments: use send()`);
      }
      if (!writer.writeFrame(type, data)) {
        // The consumer can only free space it has seen: publish, then look again.
        if (writer.ring.unpublished === 0) return false;
        this.flush();
        if (!writer.writeFrame(type, data)) return false;
      }
      this.wrote();
      return true;
    } catch (error) {
      throw this.owner.failOnViolation(error);
    }
  }

  /** Channel.trySendInPlace: one whole frame that `encode` writes into the ring now, or false. */
  trySendInPlace(type: FrameType, encode: InPlaceEncoder): boolean {
    if (!isFrameType(type)) throw new TypeError(`trySendInPlace: unknown message type ${String(type)}`);
    if (typeof encode !== "function") throw new TypeError("trySendInPlace: encode must be a function");
    const refused = this.refusal();
    if (refused) throw refused;
    if (this.queue.length > 0) return false;
    try {
      if (!this.writer.writeInPlace(type, this.link.peerLimit(), encode)) return false;
    } catch (error) {
      if (!(error instanceof ShmrpcError)) throw error; // from encode(): the caller's own bug
      throw this.owner.failOnViolation(error);
    }
    this.wrote();
    return true;
  }

  /** Channel.trySendEncoded: one whole frame that `write` fills now, or false with `write` not called. */
  trySendEncoded(type: FrameType, length: number, write: PayloadWriter): boolean {
    checkEncoded("trySendEncoded", type, length, write);
    const refused = this.refusal();
    if (refused) throw refused;
    if (this.queue.length > 0) return false;
    try {
      this.checkSize(length);
      if (this.writer.needsFragments(length) || !this.writer.writeEncoded(type, length, write)) return false;
    } catch (error) {
      if (!(error instanceof ShmrpcError)) throw error; // from write(): the caller's own bug
      throw this.owner.failOnViolation(error);
    }
    this.wrote();
    return true;
  }

  /** Channel.sendEncoded: `write` fills the ring in place when it can, else a private buffer. */
  sendEncoded(type: FrameType, length: number, write: PayloadWriter, options?: SendOptions): Promise<void> {
    checkEncoded("sendEncoded", type, length, write);
    const timeoutMs = timeoutOption(options);
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    try {
      this.checkSize(length);
      if (this.queue.length === 0 && this.writer.writeEncoded(type, length, write)) return this.wrote();
    } catch (error) {
      if (!(error instanceof ShmrpcError)) throw error; // from write(): the caller's own bug
      return Promise.reject(this.owner.failOnViolation(error));
    }
    const payload = new Uint8Array(length);
    write(payload, 0);
    return this.enqueue(type, payload, timeoutMs);
  }

  /** Publishes every frame written so far now, and wakes the peer if it is parked. */
  flush(): void {
    if (this.writer.ring.publish()) {
      this.link.stats.publishes++;
      this.link.wakeWord(this.consumerWait);
    }
  }

  /**
   * Writes queued messages, oldest first, as far as the ring allows. When
   * it runs out of room it publishes (the consumer can only free what it has
   * seen) and parks with producer_wait = 2 until the peer's wake().
   */
  pump(): void {
    const queue = this.queue;
    const words = this.link.words;
    const waitIndex = this.producerWait >> 2;
    try {
      for (let pending = queue.peek(); pending; pending = queue.peek()) {
        if (pending.settled) {
          queue.shift();
          continue;
        }
        if (this.writePending(pending)) {
          queue.shift();
          pending.settled = true;
          clearTimeout(pending.timer);
          pending.resolve();
          continue;
        }
        this.flush();
        if (this.link.peerEnded()) {
          this.rejectAll(this.link.peerEndError());
          return;
        }
        const needed = this.writer.nextFrameBytes(pending.payload.length, pending.written);
        if (this.spinForSpace(needed)) continue;
        // Announce the park, then look once more (docs/PROTOCOL.md section 4):
        // for room, and for the peer's end. A peer that closed since the
        // check above found nothing to wake, and will never free space.
        Atomics.store(words, waitIndex, WaitValue.LOOP);
        if (this.writer.ring.writable() >= needed || this.link.peerEnded()) {
          Atomics.store(words, waitIndex, WaitValue.NONE);
          continue;
        }
        this.link.stats.parks++;
        this.link.doorbell.parkInLoop?.(this.producerWait, this.owner.wakeTask);
        return;
      }
    } catch (error) {
      this.owner.failOrRethrow(error);
    }
    this.owner.updateKeepAlive();
  }

  /** Rejects every pending send with `error` (the channel or the peer ended). */
  rejectAll(error: ShmrpcError): void {
    for (const pending of this.queue.takeAll()) {
      if (pending.settled) continue;
      pending.settled = true;
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.owner.updateKeepAlive();
  }

  /** Why a new send cannot go out, or undefined when it can. */
  private refusal(): ShmrpcError | undefined {
    const link = this.link;
    if (link.ownState === PeerState.FAILED) return link.failure;
    if (link.ownState === PeerState.CLOSED) return new ShmrpcError("ECLOSED", "the channel is closed");
    if (link.peerEnded()) return link.peerEndError();
    return undefined;
  }

  private checkSize(length: number): void {
    const limit = this.link.peerLimit();
    if (length > limit) throw new ShmrpcError("EMSGSIZE", `a ${length}-byte message exceeds the peer's limit of ${limit}`);
  }

  /** A message is in the ring: publish this tick's frames together, in one microtask. */
  private wrote(): Promise<void> {
    this.link.stats.messagesSent++;
    if (!this.publishScheduled) {
      this.publishScheduled = true;
      queueMicrotask(this.publishTask);
    }
    return RESOLVED;
  }

  private readonly publishTask = (): void => {
    this.publishScheduled = false;
    if (this.link.ownState === PeerState.OPEN) this.flush();
  };

  private enqueue(type: FrameType, payload: Uint8Array, timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend = { type, payload, written: 0, settled: false, timer: undefined, resolve, reject };
      if (timeoutMs !== undefined) pending.timer = setTimeout(() => this.expire(pending), timeoutMs);
      // A non-empty queue is parked waiting for space: only wake() moves it on.
      const stuck = this.queue.length > 0;
      this.queue.push(pending);
      this.owner.updateKeepAlive();
      if (!stuck) this.pump();
    });
  }

  /** The timeout of a send that has not started: it leaves the queue. */
  private expire(pending: PendingSend): void {
    if (pending.settled || pending.written > 0) return;
    pending.settled = true;
    pending.reject(new ShmrpcError("ETIMEDOUT", "no room in the ring before the send timeout"));
    this.pump(); // a later, smaller message may fit
  }

  /**
   * Writes as much of `pending` as fits: the whole frame, or as many
   * fragments (capacity / 4 bytes each, MORE on all but the last) as fit.
   * True once the message is complete.
   */
  private writePending(pending: PendingSend): boolean {
    const { type, payload } = pending;
    const writer = this.writer;
    if (!writer.needsFragments(payload.length)) {
      if (!writer.writeFrame(type, payload)) return false;
    } else {
      const written = writer.writeFragments(type, payload, pending.written);
      if (written > 0) clearTimeout(pending.timer); // started: the timeout no longer applies
      pending.written = written;
      if (written < payload.length) return false;
    }
    this.wrote();
    return true;
  }

  /**
   * Spins up to spinMicros for `bytes` of ring space before a send parks:
   * a busy consumer frees space within microseconds, while waking this
   * event loop from a park costs tens of them.
   */
  private spinForSpace(bytes: number): boolean {
    const ring = this.writer.ring;
    return spinUntil(performance.now() + this.spinMicros / 1000, () => ring.writable() >= bytes);
  }
}

function checkEncoded(method: string, type: unknown, length: unknown, write: unknown): void {
  if (!isFrameType(type)) throw new TypeError(`${method}: unknown message type ${String(type)}`);
  if (!Number.isInteger(length) || (length as number) < 0 || (length as number) > MAX_U32) {
    throw new TypeError(`${method}: length must be an integer in [0, 2^32), got ${String(length)}`);
  }
  if (typeof write !== "function") throw new TypeError(`${method}: write must be a function`);
}

function checkPayload(method: string, type: unknown, data: unknown): void {
  if (!isFrameType(type)) {
    throw new TypeError(`${method}: unknown message type ${String(type)} (use FrameType.TEXT, BINARY or COMMAND)`);
  }
  if (type === FrameType.TEXT) {
    if (typeof data !== "string") throw new TypeError(`${method}: a TEXT message takes a string`);
  } else if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${method}: a ${typeNames[type]} message takes a Uint8Array`);
  }
}
