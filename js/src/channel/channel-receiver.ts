/**
 * The receiving half of a Channel (docs/PROTOCOL.md sections 3-5): its
 * consumers (listeners, async iterators, receiveSync), draining the ring
 * while every consumer has room, parking for data (consumer_wait = 2 in the
 * event loop, 1 in receiveSync), and the end of the stream, which finishes
 * iterators and runs close listeners.
 */
import { ShmrpcError } from "../errors.js";
import type { ChannelLink, ChannelOwner } from "./channel-link.js";
import type { Message } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { PeerState, RingOffset, WaitValue } from "./layout.js";
import { MessageIterator, type MessageSource } from "./message-iterator.js";
import type { RingConsumer } from "./ring.js";
import { SpinPolicy, spinUntil } from "./spin.js";

export interface MessageListenerOptions {
  /**
   * The listener handles each message before it returns and keeps nothing
   * of it: the channel may then hand it a view of the shared ring instead
   * of a copy (while every consumer borrows), in a message object it reuses.
   * Such a message is only valid during the call, and the peer can change
   * the view meanwhile: read each value once, check it, then use it.
   */
  borrow?: boolean;
  /**
   * The listener alone does not make the channel wait for messages: while
   * every consumer is passive and channel.expect(true) was not said, the
   * channel delivers what it finds when it drains (on the transport's
   * wake-ups, or expect(true)), but asks the peer for no wake-up and does
   * not hold the event loop open. For a consumer that knows when it
   * awaits something, such as an RPC client: staying registered between
   * calls costs nothing per call.
   */
  passive?: boolean;
}

/**
 * Where the transport spins natively before the event loop blocks (the
 * addon's loop spin), a reply that comes within this many microseconds is
 * caught in a microtask first: that costs less than the loop's turn and
 * the native call back into JavaScript (about 0.3 µs of an awaited call
 * with the C side spinning, docs/BENCHMARKS.md). Microtasks queued after
 * the spin wait at most this long.
 */
const HANDOFF_SPIN_MICROS = 5;
/** Messages one drain delivers before it yields to the event loop. */
const DRAIN_BATCH = 4096;
/** Runs `task` after pending I/O; setImmediate is Node's (and Electron's), setTimeout the fallback elsewhere. */
const afterIo: (task: () => void) => unknown =
  typeof setImmediate === "function" ? setImmediate : (task) => setTimeout(task, 0);

export class ChannelReceiver {
  private readonly reader: FrameReader;
  /** Byte offsets of the receive ring's wait words. */
  private readonly consumerWait: number;
  private readonly producerWait: number;

  /** Each listener and its options (MessageListenerOptions). */
  private readonly listeners = new Map<(message: Message) => void, MessageListenerOptions>();
  private borrowingListeners = 0;
  /** Listeners that are not passive: they wait for messages all the time. */
  private activeListeners = 0;
  /** channel.expect(): passive listeners await a message now. */
  private expecting = false;
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
   * The event loop's wait for messages where the transport does not spin
   * for us (a doorbell without watchesBeforeBlocking: Atomics in a browser
   * or a worker): a microtask spins for this policy's budget, once the
   * caller's synchronous work is done, before the channel parks.
   */
  readonly loopSpin: SpinPolicy;
  private loopSpinQueued = false;
  /** How long the queued loop spin spins (loopSpin.begin()), in microseconds. */
  private loopSpinMicros = 0;
  /** The queued spin is the short one before a native loop spin takes over. */
  private handingOff = false;
  /** When the current wait in the event loop began (performance.now()), 0 when none. */
  private loopWaitBegan = 0;

  /** `rxControl` is the byte offset of the control block of `ring`. */
  constructor(
    private readonly link: ChannelLink,
    private readonly owner: ChannelOwner,
    ring: RingConsumer,
    rxControl: number,
    maxMessageBytes: number,
    /** receiveSync's budget. */
    readonly spin: SpinPolicy,
    private readonly iteratorBufferMessages: number,
  ) {
    this.reader = new FrameReader(ring, maxMessageBytes, () => this.releaseRx());
    this.loopSpin = new SpinPolicy(spin.maxMicros, spin.fixed);
    this.consumerWait = rxControl + RingOffset.CONSUMER_WAIT;
    this.producerWait = rxControl + RingOffset.PRODUCER_WAIT;
    this.iteratorSource = {
      resume: () => {
        if (this.drainBlocked) this.scheduleDrain();
      },
      detach: (iterator) => {
        if (this.iterators.delete(iterator)) this.consumersChanged();
      },
    };
  }

  /** True while the stream goes on and someone waits for messages in the event loop. */
  get listening(): boolean {
    return !this.streamEnded && this.waiting();
  }

  /** Channel.onMessage. */
  onMessage(listener: (message: Message) => void, options?: MessageListenerOptions): () => void {
    if (typeof listener !== "function") throw new TypeError("onMessage: the listener must be a function");
    if (this.streamEnded) return () => {};
    this.removeListener(listener);
    const kept = { borrow: options?.borrow === true, passive: options?.passive === true };
    this.listeners.set(listener, kept);
    if (kept.borrow) this.borrowingListeners++;
    if (!kept.passive) this.activeListeners++;
    this.consumersChanged();
    return () => {
      if (this.removeListener(listener)) this.consumersChanged();
    };
  }

  private removeListener(listener: (message: Message) => void): boolean {
    const kept = this.listeners.get(listener);
    if (kept === undefined) return false;
    this.listeners.delete(listener);
    if (kept.borrow) this.borrowingListeners--;
    if (!kept.passive) this.activeListeners--;
    return true;
  }

  /**
   * Channel.expect. Parks at once when passive listeners start waiting (no
   * drain task per call), and stops asking for wake-ups when they stop. An
   * impossible index seen while parking fails the channel with EPROTO, as
   * in drain(): the caller (an RpcClient starting a call) is not thrown at.
   */
  expect(awaiting: boolean): void {
    if (awaiting === this.expecting) return;
    const before = this.waiting();
    this.expecting = awaiting;
    if (this.waiting() === before || this.streamEnded) return;
    if (!awaiting) {
      if (this.link.ownState === PeerState.OPEN) Atomics.store(this.link.words, this.consumerWait >> 2, WaitValue.NONE);
    } else if (!this.draining) {
      try {
        if (!this.park()) this.scheduleDrain();
      } catch (error) {
        this.owner.failOrRethrow(error);
      }
    }
    this.owner.updateKeepAlive();
  }

  /** Channel.onClose. */
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

  /** Channel[Symbol.asyncIterator]. */
  iterator(): AsyncIterableIterator<Message> {
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
   * Channel.receiveSync: spins for the spin policy's budget, then sleeps
   * with consumer_wait = 1; a wait (not a message found at once) is
   * reported to the policy.
   */
  receiveSync(timeoutMs: number): Message | undefined {
    if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
      throw new TypeError("receiveSync: timeoutMs must be a number");
    }
    if (this.listeners.size > 0 || this.iterators.size > 0) {
      throw new ShmrpcError("EINVAL", "receiveSync cannot be mixed with onMessage listeners or async iterators");
    }
    if (this.streamEnded) throw this.streamError ?? new ShmrpcError("ECLOSED", "the channel has ended");
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const words = this.link.words;
    const wordIndex = this.consumerWait >> 2;
    /** performance.now() when the wait began (0: no wait yet), whether it parked, and how long it spins. */
    let began = 0;
    let parked = false;
    let spinMicros = 0;
    try {
      for (;;) {
        const message = this.reader.next();
        this.releaseRx();
        if (message) {
          if (began !== 0) this.observeWait(this.spin, parked, began);
          return message;
        }
        if (this.link.peerEnded()) {
          if (this.reader.ring.readable() > 0) continue;
          this.owner.peerGone();
          throw this.streamError ?? new ShmrpcError("ECLOSED", "the peer closed the channel");
        }
        const start = performance.now();
        if (began === 0) {
          began = start;
          spinMicros = this.spin.begin();
        }
        if (this.spinForData(start, spinMicros, deadline)) continue;
        const now = performance.now();
        parked = true;
        if (now >= deadline) {
          // A poll (timeout 0) is no wait; a timeout is a peer not coming soon.
          if (timeoutMs !== 0) this.observeWait(this.spin, true, began);
          return undefined;
        }
        // Announce the sleep, then look once more (docs/PROTOCOL.md section 4).
        Atomics.store(words, wordIndex, WaitValue.FUTEX);
        if (this.reader.ring.readable() === 0 && !this.link.peerEnded()) {
          this.link.stats.parks++;
          this.link.doorbell.wait(this.consumerWait, WaitValue.FUTEX, deadline === Infinity ? -1 : deadline - now);
        }
        Atomics.store(words, wordIndex, WaitValue.NONE);
      }
    } catch (error) {
      throw this.owner.failOnViolation(error);
    }
  }

  /**
   * Delivers messages while every consumer has room. When the ring is empty
   * it ends the stream if the peer is gone, otherwise parks with
   * consumer_wait = 2 (store, re-check, sleep: docs/PROTOCOL.md section 4).
   */
  drain(): void {
    if (this.draining || this.streamEnded || !this.hasConsumers()) return;
    this.draining = true;
    const words = this.link.words;
    const waitIndex = this.consumerWait >> 2;
    if (this.loopWaitBegan !== 0) {
      this.observeWait(this.loopSpin, true, this.loopWaitBegan);
      this.loopWaitBegan = 0;
    }
    try {
      let delivered = 0;
      for (;;) {
        let message: Message | undefined;
        while (delivered < DRAIN_BATCH && this.canDeliver() && (message = this.reader.next(this.allBorrow())) !== undefined) {
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
        if (this.link.peerEnded()) {
          if (this.reader.ring.readable() > 0) continue;
          this.owner.peerGone();
          return;
        }
        if (!this.waiting()) {
          // Only passive listeners, awaiting nothing: ask for no wake-up.
          Atomics.store(words, waitIndex, WaitValue.NONE);
          return;
        }
        if (this.park()) return;
      }
    } catch (error) {
      this.owner.failOrRethrow(error);
    } finally {
      this.draining = false;
    }
  }

  /**
   * Waits for messages in the event loop, with a spin first in a microtask
   * that then parks or drains: a doorbell that listens in JavaScript
   * (parkInLoop: Atomics.waitAsync) spins for loopSpin's budget; where the
   * transport spins natively before the loop blocks (the addon), a consumer
   * that expects a reply (expect(true): an RpcClient with calls in flight)
   * spins HANDOFF_SPIN_MICROS, then leaves the wait to that spin, which
   * any other consumer gets at once (it may be waiting for nothing yet: an
   * iterator parks before its owner writes the next request, in a later
   * microtask); the rest park at once (told not to spin: loopSpinMicros
   * 0). True when waiting; false, with the word at 0, when data or the
   * peer's end is there.
   */
  private park(): boolean {
    const doorbell = this.link.doorbell;
    const native = doorbell.watchesBeforeBlocking === true;
    this.handingOff = native && this.expecting;
    if (native ? !this.handingOff : doorbell.parkInLoop === undefined) return this.parkNow();
    this.loopSpinMicros = this.handingOff ? HANDOFF_SPIN_MICROS : this.loopSpin.begin();
    if (this.loopSpinMicros === 0) return this.parkNow();
    if (!this.loopSpinQueued) {
      this.loopSpinQueued = true;
      queueMicrotask(this.loopSpinTask);
    }
    return true;
  }

  private readonly loopSpinTask = (): void => {
    this.loopSpinQueued = false;
    if (this.streamEnded || this.draining || !this.waiting()) return;
    try {
      // The requests of this tick first: otherwise the spin waits for replies
      // to requests the peer cannot see yet (their publish is a later microtask).
      this.owner.publishSends();
      const ring = this.reader.ring;
      const began = performance.now();
      // The native spin keeps its own policy: a hand-off spin reports nothing to loopSpin.
      if (spinUntil(began + this.loopSpinMicros / 1000, () => ring.readable() > 0 || this.link.peerEnded())) {
        if (!this.handingOff) this.loopSpin.observe(true, 0);
        this.drain();
      } else if (this.parkNow()) {
        if (!this.handingOff) this.loopWaitBegan = began;
      } else {
        this.drain();
      }
    } catch (error) {
      // An impossible index in shared memory fails the channel, as in drain().
      this.owner.failOrRethrow(error);
    }
  };

  /**
   * Parks the consumer in the event loop (docs/PROTOCOL.md section 4):
   * stores 3 (SPINNING) when the transport looks at the ring before the
   * loop blocks, else 2, then looks once more. True when parked; false,
   * with the word back at 0, when data or the peer's end is there.
   */
  private parkNow(): boolean {
    const words = this.link.words;
    const waitIndex = this.consumerWait >> 2;
    const doorbell = this.link.doorbell;
    const watched = doorbell.watchesBeforeBlocking === true;
    Atomics.store(words, waitIndex, watched ? WaitValue.SPINNING : WaitValue.LOOP);
    if (this.reader.ring.readable() > 0 || this.link.peerEnded()) {
      Atomics.store(words, waitIndex, WaitValue.NONE);
      return false;
    }
    this.link.stats.parks++;
    if (doorbell.parkInLoop !== undefined && !watched && this.loopWaitBegan === 0) this.loopWaitBegan = performance.now();
    doorbell.parkInLoop?.(this.consumerWait, this.owner.wakeTask);
    return true;
  }

  /**
   * No more messages will be delivered: drops a half-reassembled message,
   * finishes iterators (failing them with `error` if given), runs close
   * listeners. Idempotent.
   */
  endStream(error: ShmrpcError | undefined): void {
    if (this.streamEnded) return;
    this.streamEnded = true;
    this.streamError = error;
    this.reader.discardPartial();
    for (const iterator of this.iterators) iterator.end(error);
    this.iterators.clear();
    this.listeners.clear();
    this.borrowingListeners = 0;
    this.activeListeners = 0;
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
    this.owner.updateKeepAlive();
  }

  /**
   * The peer is gone (Channel.peerDied) and nobody consumes: ends the stream
   * now, unless messages wait in the ring (the next consumer gets them,
   * then the end). Without this the death would go unnoticed, onClose
   * listeners included, until something reads.
   */
  endIfDrained(): void {
    if (this.streamEnded || this.hasConsumers()) return;
    try {
      if (this.reader.ring.readable() > 0) return;
    } catch (error) {
      // An impossible index: the channel fails with EPROTO instead.
      return this.owner.failOrRethrow(error);
    }
    this.owner.peerGone();
  }

  /** Every consumer is a listener that borrows: messages need not be copied out. */
  private allBorrow(): boolean {
    return this.iterators.size === 0 && this.borrowingListeners === this.listeners.size;
  }

  private hasConsumers(): boolean {
    return this.listeners.size > 0 || this.iterators.size > 0;
  }

  /** Someone waits for messages: an iterator, a listener that is not passive, or passive ones expecting. */
  private waiting(): boolean {
    return this.iterators.size > 0 || this.activeListeners > 0 || (this.expecting && this.listeners.size > 0);
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
    } else if (this.link.ownState === PeerState.OPEN) {
      // Nobody listens: stop asking the peer for wake-ups (a drain of
      // passive listeners that await nothing stores 0 itself).
      Atomics.store(this.link.words, this.consumerWait >> 2, WaitValue.NONE);
    }
    this.owner.updateKeepAlive();
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

  private deliver(message: Message): void {
    this.link.stats.messagesReceived++;
    for (const iterator of this.iterators) iterator.push(message);
    for (const listener of this.listeners.keys()) {
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
    if (this.reader.ring.release()) this.link.wakeWord(this.producerWait);
  }

  /** Reports a wait that began at `began` (performance.now()) and ends now to `policy`. */
  private observeWait(policy: SpinPolicy, parked: boolean, began: number): void {
    if (!parked) return policy.observe(true, 0);
    const now = performance.now();
    policy.observe(false, (now - began) * 1000, now * 1000);
  }

  /** Spins from `start` until data arrives (true), or `budget` microseconds or the deadline pass (false). */
  private spinForData(start: number, budget: number, deadline: number): boolean {
    if (budget === 0) return false;
    const ring = this.reader.ring;
    return spinUntil(Math.min(deadline, start + budget / 1000), () => ring.readable() > 0);
  }
}
