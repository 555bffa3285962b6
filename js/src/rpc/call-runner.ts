/**
 * The life of the RpcClient's calls, from issue to their one end:
 *
 * - issue: the deadline timer and the abort listener; at most
 *   `maxCallsInFlight` calls are on the wire, later ones wait in a queue
 *   (not dropped, nothing spins) and start as earlier ones finish;
 * - start: a call id, and the REQUEST encoded straight into the ring; a
 *   call with a request stream (request-stream.ts) then sends its
 *   REQUEST_MESSAGEs through sendRequestMessage as the server grants credit;
 * - finish: the call ends exactly once (its promise settles, its stream
 *   ends, or a sync call keeps the outcome) and a queued call starts;
 *   giveUp also sends CANCEL for a call on the wire;
 * - shutDown: the client or its channel closed, every call fails with
 *   UNAVAILABLE, and so does every later call.
 *
 * It holds the channel's claim (channel-claims.ts) for the client.
 */
import type { Channel } from "../channel/channel.js";
import { Fifo } from "../channel/fifo.js";
import { FrameType } from "../channel/frame.js";
import { isShmrpcError } from "../errors.js";
import { abortText, type CheckedOptions } from "./call-checks.js";
import { CallTable } from "./call-table.js";
import { Call } from "./call.js";
import { claimChannel, releaseChannel } from "./channel-claims.js";
import type { RpcClientStats } from "./client-stats.js";
import { sendControl } from "./control.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind } from "./envelope.js";
import { RpcError } from "./errors.js";
import type { EventListeners } from "./event-listeners.js";
import type { ChannelListening } from "./listening.js";
import { RequestStream, type RequestSender } from "./request-stream.js";
import { RequestWriter } from "./request-writer.js";
import { Status } from "./status.js";
import type { ServerStream } from "./stream.js";
import type { MessageInit, MethodDescriptor, RequestSource } from "./types.js";

/** timeout_us is a u32: longer deadlines are enforced by the client alone. */
const MAX_WIRE_TIMEOUT_US = 0xffffffff;
/** The request of a call with a request stream: its REQUEST carries none. */
const NO_REQUEST: MessageInit<unknown> = Object.freeze({});
/** setTimeout fires at once for longer delays. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallRunner implements RequestSender {
  readonly calls: CallTable<Call>;
  private readonly queue = new Fifo<Call>();
  /** Why calls fail at once, once the client or its channel is closed. */
  private closedReason: string | undefined;
  private readonly stopWatchingClose: () => void;
  /** Encodes REQUESTs: one size pass per call, its write straight into the ring. */
  private readonly requests = new RequestWriter();

  /** Throws a ShmrpcError EINVAL when another RpcClient holds `channel`. */
  constructor(
    readonly channel: Channel,
    private readonly stats: RpcClientStats,
    private readonly events: EventListeners,
    readonly listening: ChannelListening,
    private readonly maxCallsInFlight: number,
    /** The initial credit of a response stream (server-streaming and bidirectional calls). */
    readonly streamWindow: number,
  ) {
    this.calls = new CallTable<Call>(claimChannel(channel, this));
    this.stopWatchingClose = channel.onClose((error) => {
      this.shutDown(error ? `the channel failed: ${error.message}` : "the channel closed");
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  // --- issuing ---------------------------------------------------------------

  /**
   * Creates a call and starts or queues it. A sync call (no stream, no
   * resolve) gets no timer and no abort listener: its loop checks both.
   */
  issue(
    method: MethodDescriptor<unknown, unknown>,
    request: MessageInit<unknown>,
    { timeoutMs, signal }: CheckedOptions,
    stream: ServerStream<unknown> | undefined,
    resolve?: (response: unknown) => void,
    reject?: (error: RpcError) => void,
  ): Call {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    const call = new Call(method, request, deadline, signal, stream, resolve, reject);
    this.begin(call, timeoutMs);
    return call;
  }

  /**
   * Issues a call whose requests come from `source` (client-streaming and
   * bidirectional methods): its REQUEST carries no message, and the
   * request stream sends them as the server grants credit.
   */
  issueStreaming(
    method: MethodDescriptor<unknown, unknown>,
    source: RequestSource<unknown>,
    checked: CheckedOptions,
    stream: ServerStream<unknown> | undefined,
    resolve?: (response: unknown) => void,
    reject?: (error: RpcError) => void,
  ): Call {
    const deadline = checked.timeoutMs === undefined ? Infinity : performance.now() + checked.timeoutMs;
    const call = new Call(method, NO_REQUEST, deadline, checked.signal, stream, resolve, reject);
    const requests = new RequestStream(source);
    call.requests = requests;
    this.begin(call, checked.timeoutMs);
    void requests.run(call, this);
    return call;
  }

  private begin(call: Call, timeoutMs: number | undefined): void {
    const { method, deadline, signal } = call;
    const sync = !call.stream && !call.resolve;
    if (this.closedReason !== undefined) {
      this.finish(call, new RpcError(Status.UNAVAILABLE, this.closedReason, method.path));
      return;
    }
    if (signal?.aborted) {
      this.finish(call, new RpcError(Status.CANCELLED, abortText(signal), method.path, { cause: signal.reason }));
      return;
    }
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      this.finish(call, new RpcError(Status.DEADLINE_EXCEEDED, "deadline exceeded", method.path));
      return;
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
    if (this.calls.size < this.maxCallsInFlight && this.queue.length === 0) {
      this.start(call);
    } else {
      this.queue.push(call);
    }
  }

  /** Puts a call on the wire: an id, the REQUEST encoded straight into the ring. */
  private start(call: Call): void {
    const method = call.method;
    const requests = this.requests;
    this.calls.add(call); // gives it an id
    if (call.stream) call.granted = this.streamWindow;
    const remainingUs = call.deadline === Infinity ? 0 : Math.max(1, Math.ceil((call.deadline - performance.now()) * 1000));
    requests.header(EnvelopeKind.REQUEST, call.id, method.id, method.schemaHash, remainingUs > MAX_WIRE_TIMEOUT_US ? 0 : remainingUs, call.granted);
    let queued: Promise<void> | undefined;
    try {
      queued = requests.send(this.channel, method.requestType, call.requests ? undefined : call.request);
    } catch (error) {
      // Not sent: the codec threw, or the channel refused it (closed, too large).
      this.calls.delete(call);
      if (isShmrpcError(error)) this.finish(call, sendError(call, error));
      else this.finish(call, new RpcError(Status.INVALID_ARGUMENT, `the request does not encode: ${String(error)}`, method.path, { cause: error }));
      return;
    }
    // A queued send (for ring space, or behind other sends) can still fail.
    if (queued) queued.catch((error: unknown) => this.sendFailed(call, error));
    else call.inRing = true;
    call.phase = "sent";
    this.stats.callsStarted++;
    this.updateListening();
  }

  /** The REQUEST was not sent: the server never saw the call. */
  private sendFailed(call: Call, error: unknown): void {
    if (call.phase === "done") return;
    this.finish(call, sendError(call, error));
  }

  /** A REQUEST_MESSAGE was not sent: the call fails, cancelled on the server. */
  private streamSendFailed(call: Call, error: unknown): void {
    if (call.phase === "done") return;
    this.giveUp(call, sendError(call, error));
  }

  /** Sends one message of `call`'s request stream (RequestSender). */
  sendRequestMessage(call: Call, message: MessageInit<unknown>): Promise<void> | undefined {
    const method = call.method;
    this.requests.header(EnvelopeKind.REQUEST_MESSAGE, call.id, 0, 0, 0, 0);
    try {
      return this.requests.send(this.channel, method.requestType, message)?.catch((error: unknown) => this.streamSendFailed(call, error));
    } catch (error) {
      if (isShmrpcError(error)) this.streamSendFailed(call, error);
      else this.giveUp(call, new RpcError(Status.INVALID_ARGUMENT, `a request message does not encode: ${String(error)}`, method.path, { cause: error }));
      return undefined;
    }
  }

  /** Half-closes `call`'s request stream (RequestSender). */
  endRequests(call: Call): void {
    sendControl(this.channel, EnvelopeKind.REQUEST_END, call.id, 0);
  }

  private startQueued(): void {
    while (this.calls.size < this.maxCallsInFlight && this.queue.length > 0) {
      const call = this.queue.shift() as Call;
      if (call.phase === "queued") this.start(call);
    }
  }

  // --- ending ----------------------------------------------------------------

  /** The client gives up on a call (timeout, abort, consumer gone): CANCEL if it was sent. */
  giveUp(call: Call, error: RpcError): void {
    if (call.phase === "done") return;
    if (call.phase === "sent") sendControl(this.channel, EnvelopeKind.CANCEL, call.id, 0);
    this.finish(call, error);
  }

  /** Ends a call exactly once and lets a queued one start. */
  finish(call: Call, error: RpcError | undefined, response?: unknown): void {
    if (call.phase === "done") return;
    const wasSent = call.phase === "sent";
    call.phase = "done";
    if (call.timer !== undefined) clearTimeout(call.timer);
    if (call.abortListener) call.signal?.removeEventListener("abort", call.abortListener);
    if (call.requests) call.requests.stop();
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

  /** Cancels every call on the wire, then shuts down (RpcClient.close). */
  close(): void {
    if (this.closedReason !== undefined) return;
    for (const call of this.calls.values()) {
      if (call.phase === "sent") sendControl(this.channel, EnvelopeKind.CANCEL, call.id, 0);
    }
    this.shutDown("the client was closed");
  }

  /** Fails every call in flight or queued, and every later one, with UNAVAILABLE. */
  shutDown(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.stopWatchingClose();
    releaseChannel(this.channel, this, this.calls.nextCallId);
    const pending = [...this.calls.values(), ...this.queue.takeAll()];
    for (const call of pending) this.finish(call, new RpcError(Status.UNAVAILABLE, reason, call.method.path));
    this.events.clear();
    this.listening.stop();
  }

  /** Awaits messages while calls are in flight or events have listeners. */
  updateListening(): void {
    this.listening.update(this.closedReason === undefined && (this.calls.size > 0 || this.events.count > 0));
  }
}

/** The error a call fails with when the channel refused one of its envelopes. */
function sendError(call: Call, error: unknown): RpcError {
  const path = call.method.path;
  if (isShmrpcError(error, "EMSGSIZE")) {
    return new RpcError(Status.RESOURCE_EXHAUSTED, "the request is larger than the server accepts", path, { cause: error });
  }
  return new RpcError(Status.UNAVAILABLE, isShmrpcError(error) ? error.message : String(error), path, { cause: error });
}
