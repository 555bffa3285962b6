/**
 * A framed, flow-controlled, bidirectional channel over one shared segment:
 * the TypeScript side of docs/PROTOCOL.md sections 1-5, byte-compatible with
 * the C library (c/include/shmrpc/channel.h).
 *
 * Sending: frames are written into the ring at once and published together
 * by one tail store (plus at most one doorbell ring) in a microtask, so the
 * sends of one tick form one batch. When the ring is full a send stays
 * pending, and later sends queue behind it; nothing is dropped.
 *
 * Receiving: the channel drains its ring only while someone consumes:
 * onMessage listeners, async iterators (each with a bounded buffer; a full
 * one stops the draining, which stops the producer), or receiveSync. In the
 * event loop it parks with the wait word at 2 and relies on the transport
 * calling wake(); receiveSync spins, then sleeps in doorbell.wait.
 *
 * Shared memory is never trusted: every peer index and frame header is
 * validated before use, and a violation fails the channel with EPROTO
 * (own state FAILED, peer woken, pending operations rejected).
 *
 * Example usage:
 *
 *   const sab = createSegment();
 *   const channel = new Channel(sab, { side: "client", doorbell });
 *   const stop = channel.onMessage((message) => console.log(message.type, message.data));
 *   await channel.send(FrameType.TEXT, "hello");
 *   channel.close();
 */
import { ShmrpcError } from "../errors.js";
import { AtomicsDoorbell, type Doorbell } from "./doorbell.js";
import { Fifo } from "./fifo.js";
import { FrameType, isFrameType, type Message } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { FrameWriter } from "./frame-writer.js";
import {
  Offset,
  PeerState,
  RingOffset,
  SEGMENT_HEADER_BYTES,
  WAIT_WORDS,
  WaitValue,
  sideLayout,
  type Side,
} from "./layout.js";
import { MessageIterator, type MessageSource } from "./message-iterator.js";
import { RingConsumer, RingProducer } from "./ring.js";
import { validateSegment } from "./segment.js";

export interface ChannelOptions {
  /** Which end of the segment this is. Default "client". */
  side: Side;
  /** How to wake and wait for the peer. Default: an AtomicsDoorbell over the segment (JavaScript peers). */
  doorbell: Doorbell;
  /** How long receiveSync spins for data, and a blocked send for space, before parking, in microseconds. Default 50. */
  spinMicros: number;
  /** The largest message this side accepts, advertised to the peer. Default 64 MiB. */
  maxMessageBytes: number;
  /** Messages an async iterator buffers before the channel stops draining for it. Default 64. */
  iteratorBufferMessages: number;
}

export interface SendOptions {
  /**
   * Give up with ETIMEDOUT if the message could not start within this many
   * milliseconds. Once its first frame is written the message is always
   * finished (or fails with ECLOSED/EPROTO), so the stream never holds half
   * a message. Default: no limit.
   */
  timeoutMs?: number;
}

/** Counters for tests and tuning. */
export interface ChannelStats {
  messagesSent: number;
  messagesReceived: number;
  /** Tail stores (each publishes a batch of frames). */
  publishes: number;
  /** Doorbell rings (the peer was parked). */
  doorbellRings: number;
  /** Times this side parked (waited for data or space). */
  parks: number;
}

export type ChannelState = "open" | "closed" | "failed";

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

const DEFAULTS: Omit<ChannelOptions, "doorbell"> = Object.freeze({
  side: "client",
  spinMicros: 50,
  maxMessageBytes: 64 << 20,
  iteratorBufferMessages: 64,
});
const MAX_U32 = 0xffffffff;
/** setTimeout fires at once for delays above this, so longer timeouts mean "no limit". */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Ring polls between two clock reads while receiveSync spins. */
const SPIN_POLLS_PER_CLOCK_READ = 64;
/** Messages one drain delivers before it yields to the event loop. */
const DRAIN_BATCH = 4096;
const RESOLVED = Promise.resolve();
/** Runs `task` after pending I/O; setImmediate is Node's (and Electron's), setTimeout the fallback elsewhere. */
const afterIo: (task: () => void) => unknown =
  typeof setImmediate === "function" ? setImmediate : (task) => setTimeout(task, 0);
const encoder = new TextEncoder();

/** Polls `ready` until it holds (true) or performance.now() passes `until` (false). */
function spinUntil(until: number, ready: () => boolean): boolean {
  do {
    // performance.now() costs several ring polls: look at it less often.
    for (let i = 0; i < SPIN_POLLS_PER_CLOCK_READ; i++) if (ready()) return true;
  } while (performance.now() < until);
  return false;
}
const typeNames = ["TEXT", "BINARY", "COMMAND"] as const;

export class Channel implements AsyncIterable<Message> {
  readonly side: Side;
  readonly stats: ChannelStats = { messagesSent: 0, messagesReceived: 0, publishes: 0, doorbellRings: 0, parks: 0 };

  private readonly doorbell: Doorbell;
  private readonly spinMicros: number;
  private readonly maxMessageBytes: number;
  private readonly iteratorBufferMessages: number;
  /** Header, state words and control blocks, as 32-bit words. */
  private readonly words: Int32Array;
  private readonly writer: FrameWriter;
  private readonly reader: FrameReader;
  private readonly ownStateIndex: number;
  private readonly peerStateIndex: number;
  private readonly peerMaxMessageIndex: number;
  /** Byte offsets of the wait words this side writes or clears. */
  private readonly txConsumerWait: number;
  private readonly txProducerWait: number;
  private readonly rxConsumerWait: number;
  private readonly rxProducerWait: number;

  private ownState: number = PeerState.OPEN;
  private failure: ShmrpcError | undefined;
  /** The peer's advertised limit, read once after it is seen attached; -1 until then. */
  private peerMaxMessage = -1;
  private keptAlive = false;

  private readonly sendQueue = new Fifo<PendingSend>();
  private publishScheduled = false;

  private readonly listeners = new Set<(message: Message) => void>();
  private readonly closeListeners = new Set<(error?: ShmrpcError) => void>();
  private readonly iterators = new Set<MessageIterator>();
  private readonly iteratorSource: MessageSource;
  private draining = false;
  private drainScheduled = false;
  /** The last drain stopped because an iterator's buffer was full. */
  private drainBlocked = false;
  /** No more messages will be delivered (closed, failed, or the peer ended and was drained). */
  private streamEnded = false;
  private streamError: ShmrpcError | undefined;

  /**
   * Attaches to an initialized segment (docs/PROTOCOL.md 1.1-1.2): validates
   * the header, publishes this side's message limit, then stores OPEN.
   * Throws ShmrpcError EPROTO/EVERSION for a bad segment, EINVAL for a bad
   * option value, TypeError for arguments of the wrong type.
   */
  constructor(sab: SharedArrayBuffer, options: Partial<ChannelOptions> = {}) {
    const segment = validateSegment(sab);
    const side = options.side ?? DEFAULTS.side;
    if (side !== "client" && side !== "server") {
      throw new TypeError(`Channel: side must be "client" or "server", got ${String(side)}`);
    }
    this.side = side;
    this.doorbell = options.doorbell ?? new AtomicsDoorbell(sab);
    for (const method of ["ring", "wait", "keepAlive"] as const) {
      if (typeof this.doorbell[method] !== "function") {
        throw new TypeError(`Channel: the doorbell has no ${method}() method`);
      }
    }
    this.spinMicros = numberOption("spinMicros", options.spinMicros ?? DEFAULTS.spinMicros, 0, Infinity);
    this.maxMessageBytes = numberOption("maxMessageBytes", options.maxMessageBytes ?? DEFAULTS.maxMessageBytes, 0, MAX_U32);
    this.iteratorBufferMessages = numberOption(
      "iteratorBufferMessages",
      options.iteratorBufferMessages ?? DEFAULTS.iteratorBufferMessages,
      1,
      MAX_U32,
    );

    const layout = sideLayout(side);
    const c2s = { controlOffset: Offset.RING0_CONTROL, dataOffset: SEGMENT_HEADER_BYTES, capacity: segment.capacityC2S };
    const s2c = {
      controlOffset: Offset.RING1_CONTROL,
      dataOffset: SEGMENT_HEADER_BYTES + segment.capacityC2S,
      capacity: segment.capacityS2C,
    };
    const [txRing, rxRing] = side === "client" ? [c2s, s2c] : [s2c, c2s];
    this.writer = new FrameWriter(new RingProducer(sab, txRing));
    this.reader = new FrameReader(new RingConsumer(sab, rxRing), this.maxMessageBytes, () => this.releaseRx());
    this.words = new Int32Array(sab, 0, SEGMENT_HEADER_BYTES / 4);
    this.ownStateIndex = layout.ownState / 4;
    this.peerStateIndex = layout.peerState / 4;
    this.peerMaxMessageIndex = layout.peerMaxMessage / 4;
    this.txConsumerWait = layout.txControl + RingOffset.CONSUMER_WAIT;
    this.txProducerWait = layout.txControl + RingOffset.PRODUCER_WAIT;
    this.rxConsumerWait = layout.rxControl + RingOffset.CONSUMER_WAIT;
    this.rxProducerWait = layout.rxControl + RingOffset.PRODUCER_WAIT;
    this.iteratorSource = {
      resume: () => {
        if (this.drainBlocked) this.scheduleDrain();
      },
      detach: (iterator) => {
        if (this.iterators.delete(iterator)) this.consumersChanged();
      },
    };

    // The limit must be visible before OPEN: the peer reads it once it sees OPEN.
    Atomics.store(this.words, layout.ownMaxMessage / 4, this.maxMessageBytes | 0);
    Atomics.store(this.words, this.ownStateIndex, PeerState.OPEN);
  }

  /** This side's state: "open" until close() or a protocol violation. */
  get state(): ChannelState {
    return this.ownState === PeerState.OPEN ? "open" : this.ownState === PeerState.CLOSED ? "closed" : "failed";
  }

  // --- sending ---------------------------------------------------------------

  /**
   * Sends one message: TEXT takes a string (sent as UTF-8), BINARY and
   * COMMAND a Uint8Array, which must not change until the promise settles.
   * Resolves once the whole message is in the ring. A message whose frame
   * does not fit in the ring is fragmented (docs/PROTOCOL.md section 3).
   *
   * Throws a TypeError synchronously for arguments of the wrong type. Rejects
   * with ShmrpcError ECLOSED (this side or the peer closed), EMSGSIZE (over
   * the peer's limit), ETIMEDOUT (options.timeoutMs passed before the first
   * frame was written) or EPROTO.
   */
  send(type: FrameType, data: string | Uint8Array, options?: SendOptions): Promise<void> {
    checkPayload("send", type, data);
    const timeoutMs = timeoutOption(options);
    const refused = this.sendRefusal();
    if (refused) return Promise.reject(refused);
    try {
      const idle = this.sendQueue.length === 0;
      if (typeof data === "string") {
        if (idle && this.writer.writeTextInPlace(type, data, this.peerLimit())) return this.wrote();
        data = encoder.encode(data);
      }
      this.checkSize(data.length);
      if (idle && this.writer.writeFrame(type, data)) return this.wrote();
    } catch (error) {
      return Promise.reject(this.failOnViolation(error));
    }
    return this.enqueue(type, data, timeoutMs);
  }

  /**
   * Sends one message only if its whole frame fits in the ring now and no
   * earlier send is pending; never waits. Returns false otherwise (nothing
   * was written). For hot loops: frames are published in a microtask, or when
   * the ring fills up, or by flush().
   *
   * Throws a TypeError for arguments of the wrong type, ShmrpcError EMSGSIZE
   * for a message over the peer's limit or too large for one frame (use
   * send()), ECLOSED or EPROTO.
   */
  trySend(type: FrameType, data: string | Uint8Array): boolean {
    checkPayload("trySend", type, data);
    const refused = this.sendRefusal();
    if (refused) throw refused;
    if (this.sendQueue.length > 0) return false;
    try {
      const writer = this.writer;
      if (typeof data === "string") {
        if (writer.writeTextInPlace(type, data, this.peerLimit())) {
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
      throw this.failOnViolation(error);
    }
  }

  /**
   * Sends a message of exactly `length` payload bytes that `write` produces
   * in place, so an encoder can write straight into the ring. `write` is
   * called exactly once, synchronously: with the ring itself when the frame
   * fits now without wrapping, otherwise with a private buffer (the frame
   * wraps, needs fragments, or waits behind other sends). If `write` throws,
   * nothing is sent and the error propagates. Settles like send().
   */
  sendEncoded(type: FrameType, length: number, write: PayloadWriter, options?: SendOptions): Promise<void> {
    if (!isFrameType(type)) throw new TypeError(`sendEncoded: unknown message type ${String(type)}`);
    if (!Number.isInteger(length) || length < 0 || length > MAX_U32) {
      throw new TypeError(`sendEncoded: length must be an integer in [0, 2^32), got ${String(length)}`);
    }
    if (typeof write !== "function") throw new TypeError("sendEncoded: write must be a function");
    const timeoutMs = timeoutOption(options);
    const refused = this.sendRefusal();
    if (refused) return Promise.reject(refused);
    try {
      this.checkSize(length);
      if (this.sendQueue.length === 0 && this.writer.writeEncoded(type, length, write)) return this.wrote();
    } catch (error) {
      if (!(error instanceof ShmrpcError)) throw error; // from write(): the caller's own bug
      return Promise.reject(this.failOnViolation(error));
    }
    const payload = new Uint8Array(length);
    write(payload, 0);
    return this.enqueue(type, payload, timeoutMs);
  }

  /** Publishes every frame written so far now, and wakes the peer if it is parked. */
  flush(): void {
    if (this.writer.ring.publish()) {
      this.stats.publishes++;
      this.wakeWord(this.txConsumerWait);
    }
  }

  // --- receiving -------------------------------------------------------------

  /**
   * Calls `listener` with every incoming message, in order, until the
   * returned function is called or the channel ends. While any listener is
   * registered the channel drains its ring and holds the event loop open.
   * A listener that throws does not stop delivery; the error is rethrown
   * from a microtask (an uncaught exception, as with EventEmitter).
   */
  onMessage(listener: (message: Message) => void): () => void {
    if (typeof listener !== "function") throw new TypeError("onMessage: the listener must be a function");
    if (this.streamEnded) return () => {};
    this.listeners.add(listener);
    this.consumersChanged();
    return () => {
      if (this.listeners.delete(listener)) this.consumersChanged();
    };
  }

  /**
   * Calls `listener` once when the incoming stream ends: after close(), after
   * the peer closed and everything it sent was delivered (the channel notices
   * while it has a consumer), or with the error when the channel failed
   * (EPROTO) or the peer did (ECLOSED). Called on a microtask if it already
   * ended. Returns a function that removes the listener.
   */
  onClose(listener: (error?: ShmrpcError) => void): () => void {
    if (typeof listener !== "function") throw new TypeError("onClose: the listener must be a function");
    if (this.streamEnded) {
      const error = this.streamError;
      queueMicrotask(() => listener(error));
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /**
   * An async iterator over incoming messages. It buffers at most
   * `iteratorBufferMessages` messages; while its buffer is full the channel
   * stops draining (the peer then waits for space, nothing is lost). It
   * finishes when the stream ends and throws the error if the channel
   * failed. Several iterators each get every message.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    const iterator = new MessageIterator(this.iteratorSource, this.iteratorBufferMessages);
    if (this.streamEnded) {
      iterator.end(this.streamError);
    } else {
      this.iterators.add(iterator);
      this.consumersChanged();
    }
    return iterator;
  }

  /**
   * Receives one message synchronously, for workers and latency-critical
   * code: spins on the ring for up to spinMicros, then sleeps in
   * doorbell.wait. Returns undefined when `timeoutMs` passes (0: do not wait;
   * negative or Infinity: no limit). Throws ShmrpcError ECLOSED at the end of
   * the stream, EPROTO, or EINVAL while listeners or iterators are
   * registered (they consume the same messages).
   */
  receiveSync(timeoutMs = -1): Message | undefined {
    if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
      throw new TypeError("receiveSync: timeoutMs must be a number");
    }
    if (this.listeners.size > 0 || this.iterators.size > 0) {
      throw new ShmrpcError("EINVAL", "receiveSync cannot be mixed with onMessage listeners or async iterators");
    }
    if (this.streamEnded) throw this.streamError ?? new ShmrpcError("ECLOSED", "the channel has ended");
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const wordIndex = this.rxConsumerWait >> 2;
    try {
      for (;;) {
        const message = this.reader.next();
        this.releaseRx();
        if (message) return message;
        if (this.peerEnded()) {
          if (this.reader.ring.readable() > 0) continue;
          this.peerGone();
          throw this.streamError ?? new ShmrpcError("ECLOSED", "the peer closed the channel");
        }
        if (this.spinForData(deadline)) continue;
        const now = performance.now();
        if (now >= deadline) return undefined;
        // Announce the sleep, then look once more (docs/PROTOCOL.md section 4).
        Atomics.store(this.words, wordIndex, WaitValue.FUTEX);
        if (this.reader.ring.readable() === 0 && !this.peerEnded()) {
          this.stats.parks++;
          this.doorbell.wait(this.rxConsumerWait, WaitValue.FUTEX, deadline === Infinity ? -1 : deadline - now);
        }
        Atomics.store(this.words, wordIndex, WaitValue.NONE);
      }
    } catch (error) {
      throw this.failOnViolation(error);
    }
  }

  // --- lifecycle -------------------------------------------------------------

  /**
   * Called by the transport when the peer rang this side's doorbell: drains
   * incoming messages and resumes sends blocked on space. Harmless when
   * nothing changed.
   */
  wake(): void {
    if (this.ownState !== PeerState.OPEN) return;
    if (this.sendQueue.length > 0) this.pumpSends();
    this.drain();
  }

  /**
   * Closes this side (docs/PROTOCOL.md section 5): publishes what was
   * written, stores CLOSED and wakes every sleeper. Pending sends reject with
   * ECLOSED, iterators finish after their buffered messages, close listeners
   * run. Idempotent.
   */
  close(): void {
    if (this.ownState !== PeerState.OPEN) return;
    this.flush();
    this.ownState = PeerState.CLOSED;
    Atomics.store(this.words, this.ownStateIndex, PeerState.CLOSED);
    this.wakeAll();
    this.rejectQueue(new ShmrpcError("ECLOSED", "the channel was closed"));
    this.endStream(undefined);
  }

  // --- send internals --------------------------------------------------------

  /** Why a new send cannot go out, or undefined when it can. */
  private sendRefusal(): ShmrpcError | undefined {
    if (this.ownState === PeerState.FAILED) return this.failure;
    if (this.ownState === PeerState.CLOSED) return new ShmrpcError("ECLOSED", "the channel is closed");
    const peer = Atomics.load(this.words, this.peerStateIndex);
    if (peer === PeerState.CLOSED || peer === PeerState.FAILED) return this.peerEndError();
    return undefined;
  }

  /**
   * The largest message the peer accepts: its advertised limit, read once
   * after it attached; no limit before (it has not said yet).
   */
  private peerLimit(): number {
    if (this.peerMaxMessage < 0 && Atomics.load(this.words, this.peerStateIndex) !== PeerState.ABSENT) {
      this.peerMaxMessage = Atomics.load(this.words, this.peerMaxMessageIndex) >>> 0;
    }
    return this.peerMaxMessage < 0 ? Infinity : this.peerMaxMessage;
  }

  private checkSize(length: number): void {
    const limit = this.peerLimit();
    if (length > limit) throw new ShmrpcError("EMSGSIZE", `a ${length}-byte message exceeds the peer's limit of ${limit}`);
  }

  /** A message is in the ring: publish this tick's frames together, in one microtask. */
  private wrote(): Promise<void> {
    this.stats.messagesSent++;
    if (!this.publishScheduled) {
      this.publishScheduled = true;
      queueMicrotask(this.publishTask);
    }
    return RESOLVED;
  }

  private readonly publishTask = (): void => {
    this.publishScheduled = false;
    if (this.ownState === PeerState.OPEN) this.flush();
  };

  private enqueue(type: FrameType, payload: Uint8Array, timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: PendingSend = { type, payload, written: 0, settled: false, timer: undefined, resolve, reject };
      if (timeoutMs !== undefined) pending.timer = setTimeout(() => this.expire(pending), timeoutMs);
      // A non-empty queue is parked waiting for space: only wake() moves it on.
      const stuck = this.sendQueue.length > 0;
      this.sendQueue.push(pending);
      this.updateKeepAlive();
      if (!stuck) this.pumpSends();
    });
  }

  /** The timeout of a send that has not started: it leaves the queue. */
  private expire(pending: PendingSend): void {
    if (pending.settled || pending.written > 0) return;
    pending.settled = true;
    pending.reject(new ShmrpcError("ETIMEDOUT", "no room in the ring before the send timeout"));
    this.pumpSends(); // a later, smaller message may fit
  }

  /**
   * Writes queued messages, oldest first, as far as the ring allows. When
   * it runs out of room it publishes (the consumer can only free what it has
   * seen) and parks with producer_wait = 2 until the peer's wake().
   */
  private pumpSends(): void {
    const queue = this.sendQueue;
    const waitIndex = this.txProducerWait >> 2;
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
        if (this.peerEnded()) {
          this.rejectQueue(this.peerEndError());
          return;
        }
        const needed = this.writer.nextFrameBytes(pending.payload.length, pending.written);
        if (this.spinForSpace(needed)) continue;
        // Announce the park, then look once more (docs/PROTOCOL.md section 4).
        Atomics.store(this.words, waitIndex, WaitValue.LOOP);
        if (this.writer.ring.writable() >= needed) {
          Atomics.store(this.words, waitIndex, WaitValue.NONE);
          continue;
        }
        this.stats.parks++;
        this.doorbell.parkInLoop?.(this.txProducerWait, this.wakeTask);
        return;
      }
    } catch (error) {
      this.failOrRethrow(error);
    }
    this.updateKeepAlive();
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

  private rejectQueue(error: ShmrpcError): void {
    for (const pending of this.sendQueue.takeAll()) {
      if (pending.settled) continue;
      pending.settled = true;
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.updateKeepAlive();
  }

  // --- receive internals -----------------------------------------------------

  private hasConsumers(): boolean {
    return this.listeners.size > 0 || this.iterators.size > 0;
  }

  /** True while every consumer can take another message. */
  private canDeliver(): boolean {
    if (this.streamEnded || !this.hasConsumers()) return false;
    for (const iterator of this.iterators) if (!iterator.hasRoom()) return false;
    return true;
  }

  private consumersChanged(): void {
    if (this.hasConsumers()) {
      this.scheduleDrain();
    } else if (this.ownState === PeerState.OPEN) {
      // Nobody listens: stop asking the peer for wake-ups.
      Atomics.store(this.words, this.rxConsumerWait >> 2, WaitValue.NONE);
    }
    this.updateKeepAlive();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    queueMicrotask(this.drainTask);
  }

  private readonly drainTask = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  private readonly wakeTask = (): void => {
    this.wake();
  };

  /**
   * Delivers messages while every consumer has room. When the ring is empty
   * it ends the stream if the peer is gone, otherwise parks with
   * consumer_wait = 2 (store, re-check, sleep: docs/PROTOCOL.md section 4).
   */
  private drain(): void {
    if (this.draining || this.streamEnded || !this.hasConsumers()) return;
    this.draining = true;
    const waitIndex = this.rxConsumerWait >> 2;
    try {
      let delivered = 0;
      for (;;) {
        let message: Message | undefined;
        while (delivered < DRAIN_BATCH && this.canDeliver() && (message = this.reader.next()) !== undefined) {
          this.deliver(message);
          delivered++;
        }
        if (this.streamEnded) return;
        this.releaseRx();
        this.drainBlocked = this.hasConsumers() && !this.canDeliver();
        if (!this.canDeliver()) return; // an iterator's next() resumes us
        if (message !== undefined) {
          // Batch done with data left: let the event loop run, then go on.
          this.drainScheduled = true;
          afterIo(this.drainTask);
          return;
        }
        if (this.peerEnded()) {
          if (this.reader.ring.readable() > 0) continue;
          this.peerGone();
          return;
        }
        Atomics.store(this.words, waitIndex, WaitValue.LOOP);
        if (this.reader.ring.readable() > 0 || this.peerEnded()) {
          Atomics.store(this.words, waitIndex, WaitValue.NONE);
          continue;
        }
        this.stats.parks++;
        this.doorbell.parkInLoop?.(this.rxConsumerWait, this.wakeTask);
        return;
      }
    } catch (error) {
      this.failOrRethrow(error);
    } finally {
      this.draining = false;
    }
  }

  private deliver(message: Message): void {
    this.stats.messagesReceived++;
    for (const iterator of this.iterators) iterator.push(message);
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Hands consumed space back and wakes the producer if it waits for space. */
  private releaseRx(): void {
    if (this.reader.ring.release()) this.wakeWord(this.rxProducerWait);
  }

  /** Spins until data arrives (true), or the spin budget or deadline passes (false). */
  private spinForData(deadline: number): boolean {
    const ring = this.reader.ring;
    return spinUntil(Math.min(deadline, performance.now() + this.spinMicros / 1000), () => ring.readable() > 0);
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

  private peerEnded(): boolean {
    const peer = Atomics.load(this.words, this.peerStateIndex);
    return peer === PeerState.CLOSED || peer === PeerState.FAILED;
  }

  private peerEndError(failed = Atomics.load(this.words, this.peerStateIndex) === PeerState.FAILED): ShmrpcError {
    return new ShmrpcError("ECLOSED", failed ? "the peer failed" : "the peer closed the channel");
  }

  /**
   * The peer closed or failed and everything it published was delivered:
   * sends fail, the stream ends (with the error if the peer failed).
   */
  private peerGone(): void {
    const failed = Atomics.load(this.words, this.peerStateIndex) === PeerState.FAILED;
    const error = this.peerEndError(failed);
    this.rejectQueue(error);
    this.endStream(failed ? error : undefined);
  }

  private endStream(error: ShmrpcError | undefined): void {
    if (this.streamEnded) return;
    this.streamEnded = true;
    this.streamError = error;
    this.reader.discardPartial();
    for (const iterator of this.iterators) iterator.end(error);
    this.iterators.clear();
    this.listeners.clear();
    for (const listener of this.closeListeners) {
      try {
        listener(error);
      } catch (thrown) {
        queueMicrotask(() => {
          throw thrown;
        });
      }
    }
    this.closeListeners.clear();
    this.updateKeepAlive();
  }

  // --- shared helpers --------------------------------------------------------

  /**
   * Fails the channel if `error` is a protocol violation (EPROTO): stores
   * FAILED, wakes every sleeper, rejects pending sends, ends the stream with
   * the error. Returns the error to throw.
   */
  private failOnViolation(error: unknown): unknown {
    if (!(error instanceof ShmrpcError) || error.code !== "EPROTO") return error;
    if (this.ownState !== PeerState.OPEN) return this.failure ?? error;
    this.ownState = PeerState.FAILED;
    this.failure = error;
    Atomics.store(this.words, this.ownStateIndex, PeerState.FAILED);
    this.wakeAll();
    this.rejectQueue(error);
    this.endStream(error);
    return error;
  }

  /**
   * For work that runs outside any caller's promise (wake, timers, drains):
   * a protocol violation fails the channel and reaches the user through the
   * rejected sends and failed iterators; anything else is a bug and is thrown.
   */
  private failOrRethrow(error: unknown): void {
    if (!(error instanceof ShmrpcError) || error.code !== "EPROTO") throw error;
    this.failOnViolation(error);
  }

  /** Wakes the side parked on a wait word, if any (docs/PROTOCOL.md section 4). */
  private wakeWord(byteOffset: number): void {
    const index = byteOffset >> 2;
    // This load follows our index store: with both sequentially consistent,
    // either we see the park value or the parked side sees the new index.
    if (Atomics.load(this.words, index) === WaitValue.NONE) return;
    const parked = Atomics.exchange(this.words, index, WaitValue.NONE);
    if (parked !== WaitValue.NONE) {
      this.stats.doorbellRings++;
      this.doorbell.ring(byteOffset, parked);
    }
  }

  private wakeAll(): void {
    for (const word of WAIT_WORDS) {
      const parked = Atomics.exchange(this.words, word >> 2, WaitValue.NONE);
      if (parked !== WaitValue.NONE) this.doorbell.ring(word, parked);
    }
  }

  private updateKeepAlive(): void {
    const active =
      this.ownState === PeerState.OPEN && (this.sendQueue.length > 0 || (!this.streamEnded && this.hasConsumers()));
    if (active !== this.keptAlive) {
      this.keptAlive = active;
      this.doorbell.keepAlive(active);
    }
  }
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

/** The send timeout in ms, or undefined for none. */
function timeoutOption(options: SendOptions | undefined): number | undefined {
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new TypeError("send: options.timeoutMs must be a number");
  }
  return timeoutMs < 0 || timeoutMs > MAX_TIMER_MS ? undefined : timeoutMs;
}

function numberOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`Channel: ${name} must be a number`);
  if (value < min || value > max || (max !== Infinity && !Number.isInteger(value))) {
    throw new ShmrpcError("EINVAL", `Channel: ${name} ${value} is out of range`);
  }
  return value;
}
