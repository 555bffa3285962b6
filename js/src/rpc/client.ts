/**
 * The RPC client runtime: generated clients call it through RpcTransport.
 * Calls travel as COMMAND messages (docs/PROTOCOL.md section 7) over a
 * Channel; TEXT and BINARY messages on the same channel are left alone.
 *
 * - Every call gets a call id and is matched to its reply by it, so replies
 *   may come in any order. Calls issued in one tick go out in one publish
 *   (the channel batches the frames written in a tick).
 * - At most `maxCallsInFlight` calls are on the wire; later calls wait in a
 *   queue (they are not dropped and nothing spins) and start as earlier
 *   ones finish. A call's timeout counts from when it was issued.
 * - A timeout fails the call with DEADLINE_EXCEEDED, an abort with
 *   CANCELLED; both send CANCEL, so the server sees it. A reply that
 *   arrives later is dropped (stats.lateReplies).
 * - When the channel closes or the peer dies every call fails with
 *   UNAVAILABLE, and so does every later call.
 * - A channel has one RpcClient at a time (a second throws a ShmrpcError
 *   EINVAL until the first is closed): share it between generated clients.
 *   A client that follows a closed one continues its call ids, so a late
 *   reply to the old client never reaches the new one.
 *
 * Example usage:
 *
 *   const service = new InProcessService({ library });
 *   const rpc = new RpcClient(service.channel);
 *   const greeter = new GreeterClient(rpc);       // generated
 *   const reply = await greeter.sayHello({ name: "C" }, { timeoutMs: 100 });
 */
import type { Channel } from "../channel/channel.js";
import { Fifo } from "../channel/fifo.js";
import { FrameType, type Message } from "../channel/frame.js";
import { isShmrpcError } from "../errors.js";
import { abortText, checkMethod, checkOptions, positiveInteger, type CheckedOptions } from "./call-checks.js";
import { CallTable } from "./call-table.js";
import { claimChannel, releaseChannel } from "./channel-claims.js";
import { Call } from "./call.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind, EnvelopeOffset, envelopeU32, headerProblem, statusViolation, writeEnvelopeHeader } from "./envelope.js";
import { RpcError } from "./errors.js";
import { EventListeners } from "./event-listeners.js";
import { RequestWriter } from "./request-writer.js";
import { Status } from "./status.js";
import { ServerStream } from "./stream.js";
import type { CallOptions, MessageInit, MessageType, MethodDescriptor, RpcTransport } from "./types.js";

export interface RpcClientOptions {
  /** Calls on the wire at once; more wait in a queue. Default 1024. */
  maxCallsInFlight: number;
  /**
   * Messages a server-streaming call may have outstanding (sent by the
   * server, not yet taken by the consumer). Default 64.
   */
  streamWindow: number;
}

/** Counters for tests and tuning. */
export interface RpcClientStats {
  /** Calls started (sent). */
  callsStarted: number;
  /** Replies for calls no longer in flight (they raced a timeout or cancel). */
  lateReplies: number;
  /** Envelopes that did not parse, or that a server must not send. */
  malformed: number;
  /** Events nobody listened to. */
  unhandledEvents: number;
}

const DEFAULTS: RpcClientOptions = Object.freeze({ maxCallsInFlight: 1024, streamWindow: 64 });
/** timeout_us is a u32: longer deadlines are enforced by the client alone. */
const MAX_WIRE_TIMEOUT_US = 0xffffffff;
/** setTimeout fires at once for longer delays. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long unarySync waits per receive while its request is still queued for ring space. */
const SYNC_SEND_POLL_MS = 1;
const textDecoder = new TextDecoder();

/**
 * Every message is decoded (or dropped) before handleMessage returns, and
 * the client says when it awaits replies (channel.expect): the listener
 * stays registered between calls at no cost per call.
 */
const LISTENER_OPTIONS = Object.freeze({ borrow: true, passive: true });

export class RpcClient implements RpcTransport {
  readonly stats: RpcClientStats = { callsStarted: 0, lateReplies: 0, malformed: 0, unhandledEvents: 0 };

  private readonly maxCallsInFlight: number;
  private readonly streamWindow: number;
  private readonly calls: CallTable<Call>;
  private readonly queue = new Fifo<Call>();
  private readonly events = new EventListeners(this.stats);
  private stopListening: (() => void) | undefined;
  /** What the client last told channel.expect(). */
  private expecting = false;
  private readonly stopWatchingClose: () => void;
  /** unarySync is reading the channel itself. */
  private readingSync = false;
  /** Why calls fail at once, once the client or its channel is closed. */
  private closedReason: string | undefined;
  private readonly onMessage = (message: Message): void => this.handleMessage(message);
  /** Encodes REQUESTs: one size pass per call, its write straight into the ring. */
  private readonly requests = new RequestWriter();

  /**
   * Serves calls over `channel` (the client side). The channel stays the
   * caller's: close() does not close it. Throws a ShmrpcError EINVAL when
   * another RpcClient on `channel` is still open.
   */
  constructor(
    private readonly channel: Channel,
    options: Partial<RpcClientOptions> = {},
  ) {
    if (channel === null || typeof channel !== "object" || typeof channel.sendEncoded !== "function") {
      throw new TypeError("RpcClient: the first argument must be a Channel");
    }
    this.maxCallsInFlight = positiveInteger("maxCallsInFlight", options.maxCallsInFlight ?? DEFAULTS.maxCallsInFlight);
    this.streamWindow = positiveInteger("streamWindow", options.streamWindow ?? DEFAULTS.streamWindow);
    this.calls = new CallTable<Call>(claimChannel(channel, this));
    this.stopWatchingClose = channel.onClose((error) => {
      this.shutDown(error ? `the channel failed: ${error.message}` : "the channel closed");
    });
  }

  /** Calls started and not yet finished. */
  get callsInFlight(): number {
    return this.calls.size;
  }

  /** Calls waiting for a free slot (maxCallsInFlight). */
  get callsQueued(): number {
    return this.queue.length;
  }

  /**
   * Calls a unary method. Rejects with an RpcError: the server's status,
   * DEADLINE_EXCEEDED after options.timeoutMs, CANCELLED when
   * options.signal aborts, UNAVAILABLE when the channel is or becomes
   * closed, RESOURCE_EXHAUSTED for a request larger than the server
   * accepts, INVALID_ARGUMENT when the request does not encode, INTERNAL
   * when the response does not decode.
   */
  unary<Req, Res>(method: MethodDescriptor<Req, Res>, request: MessageInit<Req>, options?: CallOptions): Promise<Res> {
    checkMethod(method, "unary");
    const checked = checkOptions(options);
    return new Promise<Res>((resolve, reject) => {
      this.issue(method, request, checked, undefined, resolve as (response: unknown) => void, reject);
    });
  }

  /**
   * Calls a server-streaming method. The messages arrive through the
   * returned async iterable (iterate it once); it throws an RpcError as
   * unary() rejects. Leaving the loop early cancels the call. At most
   * `streamWindow` messages are ever buffered.
   */
  serverStreaming<Req, Res>(method: MethodDescriptor<Req, Res>, request: MessageInit<Req>, options?: CallOptions): AsyncIterable<Res> {
    checkMethod(method, "server_streaming");
    const checked = checkOptions(options);
    let call: Call | undefined;
    const stream = new ServerStream<Res>({
      consumed: (count) => {
        if (call) this.consumed(call, count);
      },
      abandon: () => {
        if (call) this.giveUp(call, new RpcError(Status.CANCELLED, "the consumer stopped reading", method.path));
      },
    });
    call = this.issue(method, request, checked, stream as ServerStream<unknown>);
    return stream;
  }

  /**
   * Calls a unary method synchronously, for workers and latency-critical
   * code: sends, publishes and spins (then sleeps) in
   * channel.receiveSync until the reply arrives, handling every other
   * message on the way. Blocks the thread, so timers and AbortSignals
   * cannot interrupt it: only options.timeoutMs (checked by the loop) and
   * a signal already aborted count. Throws as unary() rejects, and a
   * ShmrpcError EINVAL while anything else consumes the channel
   * (onMessage listeners or iterators of your own).
   */
  unarySync<Req, Res>(method: MethodDescriptor<Req, Res>, request: MessageInit<Req>, options?: CallOptions): Res {
    checkMethod(method, "unary");
    const checked = checkOptions(options);
    // The receive loop reads the channel itself: pause the listener.
    this.readingSync = true;
    this.setListening(false);
    let call: Call;
    try {
      call = this.issue(method, request, checked, undefined);
      while (call.phase !== "done") {
        // Nothing publishes in a microtask while this thread is busy here.
        this.channel.flush();
        const left = call.deadline === Infinity ? Infinity : call.deadline - performance.now();
        if (left <= 0) {
          this.giveUp(call, new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded", method.path));
          this.channel.flush();
          break;
        }
        // A request still waiting for a slot or for ring space needs this
        // loop to move it on: poll in short slices until it is in the ring.
        const slice = call.phase === "sent" && call.inRing ? left : Math.min(left, SYNC_SEND_POLL_MS);
        let message: Message | undefined;
        try {
          message = this.channel.receiveSync(slice === Infinity ? -1 : slice);
        } catch (error) {
          if (isShmrpcError(error, "EINVAL")) {
            this.giveUp(call, new RpcError(Status.FAILED_PRECONDITION, error.message, method.path, { cause: error }));
            throw error;
          }
          this.shutDown(`the channel ended: ${isShmrpcError(error) ? error.message : String(error)}`);
          break;
        }
        if (message) {
          this.handleMessage(message);
        } else if (!call.inRing) {
          this.channel.wake(); // writes sends that waited for ring space
          // Sends leave the queue in order: once it is empty, the request is in the ring.
          if (!this.channel.sendsPending) call.inRing = true;
        }
      }
    } finally {
      this.readingSync = false;
      this.updateListening();
    }
    if (call.error) throw call.error;
    return call.response as Res;
  }

  /**
   * Calls `listener` with every EVENT the server emits under `event` (the
   * C side's shmrpc_event_id(name), or the name itself), decoded as `type`.
   * While any event listener is registered the client reads the channel
   * and holds the event loop open. Returns a function that unsubscribes.
   */
  onEvent<T>(event: number | string, type: MessageType<T>, listener: (message: T) => void): () => void {
    const remove = this.events.add(event, type, listener);
    this.updateListening();
    return () => {
      if (remove()) this.updateListening();
    };
  }

  /**
   * Stops the client: every call in flight or queued fails with
   * UNAVAILABLE (calls on the wire are cancelled on the server), later
   * calls fail at once, event listeners are dropped. The channel stays
   * open. Idempotent.
   */
  close(): void {
    if (this.closedReason !== undefined) return;
    for (const call of this.calls.values()) {
      if (call.phase === "sent") this.sendControl(EnvelopeKind.CANCEL, call.id, 0);
    }
    this.shutDown("the client was closed");
  }

  // --- issuing ---------------------------------------------------------------

  private issue(
    method: MethodDescriptor<unknown, unknown>,
    request: MessageInit<unknown>,
    { timeoutMs, signal }: CheckedOptions,
    stream: ServerStream<unknown> | undefined,
    resolve?: (response: unknown) => void,
    reject?: (error: RpcError) => void,
  ): Call {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    const call = new Call(method, request, deadline, signal, stream, resolve, reject);
    const sync = !stream && !resolve;
    if (this.closedReason !== undefined) {
      this.finish(call, new RpcError(Status.UNAVAILABLE, this.closedReason, method.path));
      return call;
    }
    if (signal?.aborted) {
      this.finish(call, new RpcError(Status.CANCELLED, abortText(signal), method.path, { cause: signal.reason }));
      return call;
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      this.finish(call, new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded", method.path));
      return call;
    }
    if (!sync) {
      if (deadline !== Infinity && timeoutMs! <= MAX_TIMER_MS) {
        call.timer = setTimeout(() => this.giveUp(call, new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded", method.path)), timeoutMs);
      }
      if (signal) {
        call.abortListener = () => this.giveUp(call, new RpcError(Status.CANCELLED, abortText(signal), method.path, { cause: signal.reason }));
        signal.addEventListener("abort", call.abortListener, { once: true });
      }
    }
    if (this.calls.size < this.maxCallsInFlight && this.callsQueued === 0) {
      this.start(call);
    } else {
      this.queue.push(call);
    }
    return call;
  }

  /** Puts a call on the wire: an id, the REQUEST encoded straight into the ring. */
  private start(call: Call): void {
    const method = call.method;
    const requests = this.requests;
    let size: number;
    try {
      size = requests.measure(method.requestType, call.request);
    } catch (error) {
      this.finish(call, new RpcError(Status.INVALID_ARGUMENT, `the request does not encode: ${String(error)}`, method.path, { cause: error }));
      return;
    }
    try {
      call.phase = "sent";
      this.calls.add(call); // gives it an id
      this.stats.callsStarted++;
      this.updateListening();
      if (call.stream) call.granted = this.streamWindow;
      const remainingUs = call.deadline === Infinity ? 0 : Math.max(1, Math.ceil((call.deadline - performance.now()) * 1000));
      requests.header(call.id, method.id, method.schemaHash, remainingUs > MAX_WIRE_TIMEOUT_US ? 0 : remainingUs, call.granted);
      const length = ENVELOPE_HEADER_BYTES + size;
      if (this.channel.trySendEncoded(FrameType.COMMAND, length, requests.write)) {
        call.inRing = true;
      } else {
        // Queued behind other sends or for ring space: only such a send can still fail.
        this.channel.sendEncoded(FrameType.COMMAND, length, requests.write).catch((error: unknown) => this.sendFailed(call, error));
      }
    } catch (error) {
      // The channel refused it (closed, too large), or the codec threw in write.
      if (isShmrpcError(error)) this.sendFailed(call, error);
      else this.finish(call, new RpcError(Status.INVALID_ARGUMENT, `the request does not encode: ${String(error)}`, method.path, { cause: error }));
    } finally {
      requests.done();
    }
  }

  private sendFailed(call: Call, error: unknown): void {
    if (call.phase === "done") return;
    const path = call.method.path;
    if (isShmrpcError(error, "EMSGSIZE")) {
      this.finish(call, new RpcError(Status.RESOURCE_EXHAUSTED, "the request is larger than the server accepts", path, { cause: error }));
    } else {
      this.finish(call, new RpcError(Status.UNAVAILABLE, isShmrpcError(error) ? error.message : String(error), path, { cause: error }));
    }
  }

  private startQueued(): void {
    while (this.calls.size < this.maxCallsInFlight && this.queue.length > 0) {
      const call = this.queue.shift() as Call;
      if (call.phase === "queued") this.start(call);
    }
  }

  // --- ending ----------------------------------------------------------------

  /** The client gives up on a call (timeout, abort, consumer gone): CANCEL if it was sent. */
  private giveUp(call: Call, error: RpcError): void {
    if (call.phase === "done") return;
    if (call.phase === "sent") this.sendControl(EnvelopeKind.CANCEL, call.id, 0);
    this.finish(call, error);
  }

  /** Ends a call exactly once and lets a queued one start. */
  private finish(call: Call, error: RpcError | undefined, response?: unknown): void {
    if (call.phase === "done") return;
    const wasSent = call.phase === "sent";
    call.phase = "done";
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.abortListener) call.signal?.removeEventListener("abort", call.abortListener);
    if (wasSent) {
      this.calls.delete(call);
      this.startQueued();
      this.updateListening();
    }
    if (call.stream) {
      call.stream.end(error);
    } else if (call.resolve) {
      if (error) call.reject!(error);
      else call.resolve(response);
    } else {
      call.error = error;
      call.response = response;
    }
  }

  private shutDown(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.stopWatchingClose();
    releaseChannel(this.channel, this, this.calls.nextCallId);
    const pending = [...this.calls.values(), ...this.queue.takeAll()];
    for (const call of pending) this.finish(call, new RpcError(Status.UNAVAILABLE, reason, call.method.path));
    this.events.clear();
    this.setListening(false);
  }

  // --- streams ---------------------------------------------------------------

  /** The consumer took messages: grant them back in batches of half a window. */
  private consumed(call: Call, count: number): void {
    if (call.phase !== "sent") return;
    call.ungranted += count;
    if (call.ungranted * 2 >= this.streamWindow) {
      const credit = call.ungranted;
      call.ungranted = 0;
      call.granted += credit;
      this.sendControl(EnvelopeKind.CREDIT, call.id, credit);
    }
  }

  // --- receiving -------------------------------------------------------------

  /** Routes one message by the header's fixed offsets, without building an envelope object. */
  private handleMessage(message: Message): void {
    if (message.type !== FrameType.COMMAND) return;
    const data = message.data as Uint8Array;
    if (headerProblem(data) !== undefined) {
      this.stats.malformed++;
      return;
    }
    const kind = data[EnvelopeOffset.KIND];
    switch (kind) {
      case EnvelopeKind.RESPONSE:
      case EnvelopeKind.ERROR:
      case EnvelopeKind.STREAM_MESSAGE:
      case EnvelopeKind.STREAM_END:
        this.handleReply(kind, data);
        return;
      case EnvelopeKind.EVENT:
        this.events.deliver(data);
        return;
      default: // a kind only a client sends
        this.stats.malformed++;
    }
  }

  private handleReply(kind: number, data: Uint8Array): void {
    const call = this.calls.get(envelopeU32(data, EnvelopeOffset.CALL_ID));
    if (!call) {
      this.stats.lateReplies++;
      return;
    }
    const path = call.method.path;
    switch (kind) {
      case EnvelopeKind.RESPONSE: {
        if (call.stream) return this.violation(call, "a RESPONSE for a streaming call");
        let response: unknown;
        try {
          response = call.method.responseType.decode(data, ENVELOPE_HEADER_BYTES);
        } catch (error) {
          return this.finish(call, new RpcError(Status.INTERNAL, `the response does not decode: ${String(error)}`, path, { cause: error }));
        }
        return this.finish(call, undefined, response);
      }
      case EnvelopeKind.ERROR:
        return this.finish(call, this.serverStatus(kind, data, path));
      case EnvelopeKind.STREAM_MESSAGE: {
        const stream = call.stream;
        if (!stream) return this.violation(call, "a STREAM_MESSAGE for a unary call");
        if (++call.received > call.granted) return this.violation(call, "more stream messages than the credit granted");
        let item: unknown;
        try {
          item = call.method.responseType.decode(data, ENVELOPE_HEADER_BYTES);
        } catch (error) {
          this.sendControl(EnvelopeKind.CANCEL, call.id, 0);
          return this.finish(call, new RpcError(Status.INTERNAL, `a stream message does not decode: ${String(error)}`, path, { cause: error }));
        }
        stream.push(item);
        return;
      }
      default: {
        if (!call.stream) return this.violation(call, "a STREAM_END for a unary call");
        return this.finish(call, this.serverStatus(kind, data, path));
      }
    }
  }

  /**
   * The error an ERROR or STREAM_END ends its call with (undefined for a
   * STREAM_END with OK). A status the kind cannot carry becomes UNKNOWN, so
   * no caller ever sees code OK or a number outside the table.
   */
  private serverStatus(kind: number, data: Uint8Array, path: string): RpcError | undefined {
    const status = envelopeU32(data, EnvelopeOffset.STATUS);
    const bad = statusViolation(kind, status);
    if (bad !== undefined) {
      this.stats.malformed++;
      return new RpcError(Status.UNKNOWN, `protocol violation: ${bad}; the server's message: ${JSON.stringify(statusText(data))}`, path);
    }
    return status === Status.OK ? undefined : new RpcError(status, statusText(data), path);
  }

  /** The server broke the protocol for one call: that call fails, the rest go on. */
  private violation(call: Call, what: string): void {
    this.stats.malformed++;
    this.giveUp(call, new RpcError(Status.INTERNAL, `protocol violation: ${what}`, call.method.path));
  }

  // --- channel plumbing ------------------------------------------------------

  /** CANCEL or CREDIT; best effort (a closed channel fails the calls anyway). */
  private sendControl(kind: EnvelopeKind, callId: number, credit: number): void {
    try {
      this.channel
        .sendEncoded(FrameType.COMMAND, ENVELOPE_HEADER_BYTES, (target, offset) =>
          writeEnvelopeHeader(target, offset, kind, callId, 0, 0, 0, 0, credit),
        )
        .catch(() => {});
    } catch {
      // The channel is gone; shutDown follows from its close listener.
    }
  }

  /**
   * Awaits messages exactly while something waits for one. The (passive)
   * listener, once registered, stays until unarySync reads the channel
   * itself or the client closes: per call, only channel.expect changes.
   */
  private updateListening(): void {
    const awaiting = !this.readingSync && this.closedReason === undefined && (this.calls.size > 0 || this.events.count > 0);
    if (awaiting) this.setListening(true);
    if (awaiting !== this.expecting) {
      this.expecting = awaiting;
      this.channel.expect(awaiting);
    }
  }

  private setListening(on: boolean): void {
    if (on && !this.stopListening) {
      this.stopListening = this.channel.onMessage(this.onMessage, LISTENER_OPTIONS);
    } else if (!on && this.stopListening) {
      this.stopListening();
      this.stopListening = undefined;
      if (this.expecting) {
        this.expecting = false;
        this.channel.expect(false);
      }
    }
  }
}

/** The status message an ERROR or STREAM_END carries after the header. */
function statusText(data: Uint8Array): string {
  // A copy: data may be a view of the ring, which TextDecoder refuses in browsers.
  return textDecoder.decode(data.slice(ENVELOPE_HEADER_BYTES));
}
