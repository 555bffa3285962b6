/**
 * What a channel's sender and receiver share: this side's hold on the
 * segment header (its own state word, the peer's state word and limit, the
 * wait words and the doorbell that rings them, docs/PROTOCOL.md sections 1,
 * 4 and 5), the counters, and the calls back into the channel that owns
 * them both.
 */
import { ShmrpcError } from "../errors.js";
import type { Doorbell } from "./doorbell.js";
import { PeerState, SEGMENT_HEADER_BYTES, WAIT_WORDS, WaitValue, type SideLayout } from "./layout.js";
import type { SharedRegion } from "./segment.js";

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

/** What the sender and receiver ask of the channel, which alone sees both. */
export interface ChannelOwner {
  /**
   * Fails the channel if `error` is a protocol violation (EPROTO): stores
   * FAILED, wakes every sleeper, rejects pending sends, ends the stream with
   * the error. Returns the error to throw.
   */
  failOnViolation(error: unknown): unknown;
  /**
   * For work that runs outside any caller's promise (wake, timers, drains):
   * a protocol violation fails the channel and reaches the user through the
   * rejected sends and failed iterators; anything else is a bug and is thrown.
   */
  failOrRethrow(error: unknown): void;
  /** Holds the event loop open exactly while this side is open and sends wait or consumers listen. */
  updateKeepAlive(): void;
  /**
   * The peer closed or failed and everything it published was delivered:
   * sends fail, the stream ends (with the error if the peer failed).
   */
  peerGone(): void;
  /** channel.wake(), as a function to hand to doorbell.parkInLoop. */
  readonly wakeTask: () => void;
  /**
   * Publishes the frames written so far now (they are otherwise published
   * together in a microtask) and wakes the peer if it is parked: a spin
   * for replies must not begin before their requests are out.
   */
  publishSends(): void;
}

export class ChannelLink {
  readonly stats: ChannelStats = { messagesSent: 0, messagesReceived: 0, publishes: 0, doorbellRings: 0, parks: 0 };
  /** Header, state words and control blocks, as 32-bit words (index 0 is the segment's start). */
  readonly words: Int32Array;

  private readonly ownStateIndex: number;
  private readonly ownMaxMessageIndex: number;
  private readonly peerStateIndex: number;
  private readonly peerMaxMessageIndex: number;
  private state: number = PeerState.OPEN;
  private error: ShmrpcError | undefined;
  /** The peer's advertised limit, read once after it is seen attached; -1 until then. */
  private peerMaxMessage = -1;
  private keptAlive = false;
  /** What the transport saw when it reported the peer dead (markPeerDead). */
  private deathReason: string | undefined;

  constructor(
    segment: SharedRegion,
    layout: SideLayout,
    readonly doorbell: Doorbell,
  ) {
    this.words = new Int32Array(segment.buffer, segment.byteOffset, SEGMENT_HEADER_BYTES / 4);
    this.ownStateIndex = layout.ownState / 4;
    this.ownMaxMessageIndex = layout.ownMaxMessage / 4;
    this.peerStateIndex = layout.peerState / 4;
    this.peerMaxMessageIndex = layout.peerMaxMessage / 4;
  }

  /** This side's PeerState: OPEN until end(). */
  get ownState(): number {
    return this.state;
  }

  /** The protocol violation that failed this side, once it is FAILED. */
  get failure(): ShmrpcError | undefined {
    return this.error;
  }

  /** Attaches (docs/PROTOCOL.md 1.2): publishes this side's message limit, then stores OPEN. */
  open(maxMessageBytes: number): void {
    // The limit must be visible before OPEN: the peer reads it once it sees OPEN.
    Atomics.store(this.words, this.ownMaxMessageIndex, maxMessageBytes | 0);
    Atomics.store(this.words, this.ownStateIndex, PeerState.OPEN);
  }

  /** Leaves OPEN for good: stores CLOSED, or FAILED with its error, then wakes every sleeper. */
  end(state: typeof PeerState.CLOSED | typeof PeerState.FAILED, failure?: ShmrpcError): void {
    this.state = state;
    this.error = failure;
    Atomics.store(this.words, this.ownStateIndex, state);
    this.wakeAll();
  }

  /** The peer's state word, read now (unsigned). */
  peerState(): number {
    return Atomics.load(this.words, this.peerStateIndex) >>> 0;
  }

  /** The peer left OPEN: CLOSED, FAILED, DEAD, or a value the protocol does not define. */
  peerEnded(): boolean {
    return this.peerState() > PeerState.OPEN;
  }

  /**
   * What ends sends, and the stream once everything published was read,
   * after the peer left OPEN (docs/PROTOCOL.md section 5): EPEERDEAD for a
   * peer marked DEAD, else ECLOSED.
   */
  peerEndError(state = this.peerState()): ShmrpcError {
    if (state === PeerState.DEAD) {
      return new ShmrpcError("EPEERDEAD", this.deathReason === undefined ? "the peer died" : `the peer died: ${this.deathReason}`);
    }
    return new ShmrpcError("ECLOSED", state === PeerState.CLOSED ? "the peer closed the channel" : "the peer failed");
  }

  /**
   * Marks the peer DEAD on its behalf (docs/PROTOCOL.md section 5): the
   * transport saw it die (its socket hung up, its worker crashed), so it
   * cannot store a state itself. Only an ABSENT or OPEN peer becomes DEAD;
   * every wait word is woken either way. `reason` (what the transport saw)
   * goes into the error that sends and the stream end with, also when the
   * peer was marked DEAD already by a native watcher of this process (the
   * addon marks a cross-process server dead before it tells JavaScript).
   * Returns the state found before.
   */
  markPeerDead(reason?: string): number {
    let seen = this.peerState();
    while (seen === PeerState.ABSENT || seen === PeerState.OPEN) {
      const found = Atomics.compareExchange(this.words, this.peerStateIndex, seen, PeerState.DEAD) >>> 0;
      if (found === seen) break;
      seen = found;
    }
    if (this.peerState() === PeerState.DEAD) this.deathReason ??= reason;
    this.wakeAll();
    return seen;
  }

  /**
   * The largest message the peer accepts: its advertised limit, read once
   * after it attached; no limit before (it has not said yet).
   */
  peerLimit(): number {
    if (this.peerMaxMessage < 0 && Atomics.load(this.words, this.peerStateIndex) !== PeerState.ABSENT) {
      this.peerMaxMessage = Atomics.load(this.words, this.peerMaxMessageIndex) >>> 0;
    }
    return this.peerMaxMessage < 0 ? Infinity : this.peerMaxMessage;
  }

  /** Wakes the side parked on a wait word, if any (docs/PROTOCOL.md section 4); true if it rang. */
  wakeWord(byteOffset: number): boolean {
    const index = byteOffset >> 2;
    // This load follows our index store: with both sequentially consistent,
    // either we see the park value or the parked side sees the new index.
    let parked = Atomics.load(this.words, index);
    // Compare-and-swap, so that of several wakers only the first rings, and
    // a SPINNING word (its owner looks again before it sleeps) stays.
    for (;;) {
      if (parked === WaitValue.NONE || parked === WaitValue.SPINNING) return false;
      const found = Atomics.compareExchange(this.words, index, parked, WaitValue.NONE);
      if (found === parked) break;
      parked = found;
    }
    this.stats.doorbellRings++;
    this.doorbell.ring(byteOffset, parked);
    return true;
  }

  /** Tells the doorbell whether to hold the event loop open, when that changes. */
  keepAlive(active: boolean): void {
    if (active !== this.keptAlive) {
      this.keptAlive = active;
      this.doorbell.keepAlive(active);
    }
  }

  /**
   * Wakes every sleeper of the segment, each word as wakeWord does (a
   * SPINNING word stays with its owner), and rings the words that looked
   * idle all the same: a peer may have rewritten a word it parked on (a
   * corrupt or hostile segment), and a close must reach a sleeper that no
   * longer announces itself. A futex wake that finds nobody costs nothing.
   */
  private wakeAll(): void {
    for (const word of WAIT_WORDS) {
      if (!this.wakeWord(word)) this.doorbell.ring(word, WaitValue.FUTEX);
    }
  }
}
