/**
 * A framed, flow-controlled, bidirectional channel over one shared segment:
 * the TypeScript side of docs/PROTOCOL.md sections 1-5, byte-compatible with
 * the C library (c/include/shmrpc/channel.h).
 *
 * Channel is the facade: it attaches to the segment, owns this side's
 * lifecycle (open, closed, failed) and hands sending to a ChannelSender and
 * receiving to a ChannelReceiver, which share a ChannelLink to the segment
 * header.
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
 *   // or a segment inside a larger shared buffer:
 *   const region = formatSegment(memory.buffer, 4096, { capacityC2S: 1 << 16 });
 *   const channel = new Channel(region, { side: "client", doorbell });
 *   const stop = channel.onMessage((message) => console.log(message.type, message.data));
 *   await channel.send(FrameType.TEXT, "hello");
 *   channel.close();
 */
import { ShmrpcError } from "../errors.js";
import { ChannelLink, type ChannelOwner, type ChannelStats } from "./channel-link.js";
import { channelOptions, type ChannelOptions, type SendOptions } from "./channel-options.js";
import { ChannelReceiver, type MessageListenerOptions } from "./channel-receiver.js";
import { ChannelSender, type PayloadWriter } from "./channel-sender.js";
import type { InPlaceEncoder } from "./frame-writer.js";
import type { FrameType, Message } from "./frame.js";
import { Offset, PeerState, SEGMENT_HEADER_BYTES, sideLayout, type Side } from "./layout.js";
import { RingConsumer, RingProducer } from "./ring.js";
import { SpinPolicy, type SpinStats } from "./spin.js";
import { segmentRegion, validateRegion, type SegmentSource } from "./segment.js";

export type { ChannelOptions, ChannelStats, InPlaceEncoder, MessageListenerOptions, PayloadWriter, SendOptions, SpinStats };

export type ChannelState = "open" | "closed" | "failed";

export class Channel implements AsyncIterable<Message> {
  readonly side: Side;
  readonly stats: ChannelStats;

  private readonly link: ChannelLink;
  private readonly sender: ChannelSender;
  private readonly receiver: ChannelReceiver;

  /**
   * Attaches to an initialized segment (docs/PROTOCOL.md 1.1-1.2): a whole
   * SharedArrayBuffer, or a region of one (`{ buffer, byteOffset,
   * byteLength }`, a Uint8Array for instance) starting at a multiple of 4
   * bytes. Validates the header, publishes this side's message limit, then
   * stores OPEN. Throws ShmrpcError EPROTO/EVERSION for a bad segment,
   * EINVAL for a bad option value or a region that is misaligned or outside
   * its buffer, TypeError for arguments of the wrong type.
   */
  constructor(source: SegmentSource, options: Partial<ChannelOptions> = {}) {
    const region = segmentRegion(source);
    const segment = validateRegion(region);
    const { side, doorbell, spinMicros, spinFixed, maxMessageBytes, iteratorBufferMessages } = channelOptions(region, options);
    this.side = side;

    // Every view is made once here, at the region's offset: indices stay segment-relative.
    const sab = region.buffer;
    const base = region.byteOffset;
    const layout = sideLayout(side);
    const c2s = {
      controlOffset: base + Offset.RING0_CONTROL,
      dataOffset: base + SEGMENT_HEADER_BYTES,
      capacity: segment.capacityC2S,
    };
    const s2c = {
      controlOffset: base + Offset.RING1_CONTROL,
      dataOffset: base + SEGMENT_HEADER_BYTES + segment.capacityC2S,
      capacity: segment.capacityS2C,
    };
    const [txRing, rxRing] = side === "client" ? [c2s, s2c] : [s2c, c2s];
    const owner: ChannelOwner = {
      failOnViolation: (error) => this.failOnViolation(error),
      failOrRethrow: (error) => this.failOrRethrow(error),
      updateKeepAlive: () => this.updateKeepAlive(),
      peerGone: () => this.peerGone(),
      wakeTask: () => this.wake(),
      publishSends: () => {
        if (this.link.ownState === PeerState.OPEN) this.sender.flush();
      },
    };
    this.link = new ChannelLink(region, layout, doorbell);
    this.stats = this.link.stats;
    this.sender = new ChannelSender(this.link, owner, new RingProducer(sab, txRing), layout.txControl, spinMicros);
    this.receiver = new ChannelReceiver(
      this.link,
      owner,
      new RingConsumer(sab, rxRing),
      layout.rxControl,
      maxMessageBytes,
      new SpinPolicy(spinMicros, spinFixed),
      iteratorBufferMessages,
    );
    this.link.open(maxMessageBytes);
  }

  /** receiveSync's spin policy: its budget now and its waits (docs/PROTOCOL.md section 4). */
  get spinStats(): SpinStats {
    return this.receiver.spin.stats();
  }

  /**
   * The event loop's spin policy where the transport does not spin for the
   * channel (Atomics doorbells: browsers, workers): its budget now and its
   * waits. In Node the addon's loop spin has its own (loopSpinStats).
   */
  get loopSpinStats(): SpinStats {
    return this.receiver.loopSpin.stats();
  }

  /** This side's state: "open" until close() or a protocol violation. */
  get state(): ChannelState {
    const own = this.link.ownState;
    return own === PeerState.OPEN ? "open" : own === PeerState.CLOSED ? "closed" : "failed";
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
    return this.sender.send(type, data, options);
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
    return this.sender.trySend(type, data);
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
    return this.sender.sendEncoded(type, length, write, options);
  }

  /**
   * sendEncoded without waiting: when no earlier send is pending and the
   * message fits in the ring now as one frame, calls `write` (as
   * sendEncoded does) and returns true; otherwise returns false without
   * calling `write` (use sendEncoded, which queues). Published like
   * trySend. Throws as trySend, and what `write` throws.
   */
  trySendEncoded(type: FrameType, length: number, write: PayloadWriter): boolean {
    return this.sender.trySendEncoded(type, length, write);
  }
  /**
   * Sends a message whose length is known only once it is encoded: when no
   * earlier send is pending, calls `encode` (exactly once, synchronously)
   * with the ring itself and the range `[start, end)` its payload may take
   * (the contiguous free space, within the peer's limit); `encode` writes
   * the payload from `start` and returns its length, or -1 when it does not
   * fit (then nothing is sent). Returns true when the message is in the
   * ring, false otherwise (no room, or waiting sends: encode the message
   * and use sendEncoded). Published like trySend. Throws as trySend, and
   * what `encode` throws (nothing is sent).
   */
  trySendInPlace(type: FrameType, encode: InPlaceEncoder): boolean {
    return this.sender.trySendInPlace(type, encode);
  }


  /** True while a send waits for ring space (sends leave the queue in order). */
  get sendsPending(): boolean {
    return this.sender.pending;
  }

  /** Publishes every frame written so far now, and wakes the peer if it is parked. */
  flush(): void {
    this.sender.flush();
  }

  // --- receiving -------------------------------------------------------------

  /**
   * Calls `listener` with every incoming message, in order, until the
   * returned function is called or the channel ends. While any listener is
   * registered the channel drains its ring and holds the event loop open.
   * A listener that throws does not stop delivery; the error is rethrown
   * from a microtask (an uncaught exception, as with EventEmitter).
   * `options.borrow` spares the copy out of shared memory for a listener
   * that keeps nothing of `message.data` (see MessageListenerOptions).
   */
  onMessage(listener: (message: Message) => void, options?: MessageListenerOptions): () => void {
    return this.receiver.onMessage(listener, options);
  }

  /**
   * Says whether this side awaits messages now, for passive listeners
   * (MessageListenerOptions.passive): an RPC client with calls in flight
   * does, an idle one does not. While it does and a listener is
   * registered, the channel asks the peer for wake-ups (or lets its
   * transport spin for them) and holds the event loop open, as for any
   * listener. Cheap to call on every change; one owner (the channel's RPC
   * client) sets it.
   */
  expect(awaiting: boolean): void {
    this.receiver.expect(awaiting);
  }

  /**
   * Calls `listener` once when the incoming stream ends: after close(), after
   * the peer closed and everything it sent was delivered (the channel notices
   * while it has a consumer), or with the error when the channel failed
   * (EPROTO) or the peer did (ECLOSED). Called on a microtask if it already
   * ended. Returns a function that removes the listener.
   */
  onClose(listener: (error?: ShmrpcError) => void): () => void {
    return this.receiver.onClose(listener);
  }

  /**
   * An async iterator over incoming messages. It buffers at most
   * `iteratorBufferMessages` messages; while its buffer is full the channel
   * stops draining (the peer then waits for space, nothing is lost). It
   * finishes when the stream ends and throws the error if the channel
   * failed. Several iterators each get every message.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this.receiver.iterator();
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
    return this.receiver.receiveSync(timeoutMs);
  }

  // --- lifecycle -------------------------------------------------------------

  /**
   * Called by the transport when the peer rang this side's doorbell: drains
   * incoming messages and resumes sends blocked on space. Harmless when
   * nothing changed.
   */
  wake(): void {
    if (this.link.ownState !== PeerState.OPEN) return;
    if (this.sender.pending) this.sender.pump();
    this.receiver.drain();
  }

  /**
   * Closes this side (docs/PROTOCOL.md section 5): publishes what was
   * written, stores CLOSED and wakes every sleeper. Pending sends reject with
   * ECLOSED, iterators finish after their buffered messages, close listeners
   * run. Idempotent.
   */
  close(): void {
    if (this.link.ownState !== PeerState.OPEN) return;
    this.sender.flush();
    this.link.end(PeerState.CLOSED);
    this.sender.rejectAll(new ShmrpcError("ECLOSED", "the channel was closed"));
    this.receiver.endStream(undefined);
  }

  /**
   * For transports: the peer died without closing (its socket hung up, its
   * thread returned or crashed, its Worker ended). Marks its state DEAD on
   * its behalf and wakes every sleeper (docs/PROTOCOL.md section 5). What the
   * peer published before is still delivered; then pending and later sends
   * reject with EPEERDEAD ("the peer died: <reason>"), the stream ends with
   * it and onClose listeners run with it, so an RpcClient fails its calls
   * with UNAVAILABLE. A channel that nobody reads ends at once if nothing is
   * left in the ring (so onClose reports the death of an idle peer). No
   * effect on a peer that already closed or failed; harmless after close()
   * or a second time.
   */
  peerDied(reason: string): void {
    if (this.link.ownState !== PeerState.OPEN) return;
    this.link.markPeerDead(String(reason));
    this.wake();
    this.receiver.endIfDrained();
  }

  // --- what the sender and receiver ask of the channel (ChannelOwner) --------

  private failOnViolation(error: unknown): unknown {
    if (!(error instanceof ShmrpcError) || error.code !== "EPROTO") return error;
    if (this.link.ownState !== PeerState.OPEN) return this.link.failure ?? error;
    this.link.end(PeerState.FAILED, error);
    this.sender.rejectAll(error);
    this.receiver.endStream(error);
    return error;
  }

  private failOrRethrow(error: unknown): void {
    if (!(error instanceof ShmrpcError) || error.code !== "EPROTO") throw error;
    this.failOnViolation(error);
  }

  private peerGone(): void {
    const state = this.link.peerState();
    const error = this.link.peerEndError(state);
    this.sender.rejectAll(error);
    // A peer that closed ends the stream cleanly; one that failed or died, with the error.
    this.receiver.endStream(state === PeerState.CLOSED ? undefined : error);
  }

  private updateKeepAlive(): void {
    this.link.keepAlive(this.link.ownState === PeerState.OPEN && (this.sender.pending || this.receiver.listening));
  }
}
