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
 * The parts: call-runner.ts (a call's life from issue to its end),
 * reply-router.ts (what arrives), stream-credit.ts (server-stream flow
 * control), sync-call.ts (unarySync's receive loop), listening.ts (when
 * the client reads the channel), event-listeners.ts.
 *
 * Example usage:
 *
 *   const service = new InProcessService({ library });
 *   const rpc = new RpcClient(service.channel);
 *   const greeter = new GreeterClient(rpc);       // generated
 *   const reply = await greeter.sayHello({ name: "C" }, { timeoutMs: 100 });
 */
import type { Channel } from "../channel/channel.js";
import { checkMethod, checkOptions, positiveInteger } from "./call-checks.js";
import type { Call } from "./call.js";
import type { CallTable } from "./call-table.js";
import { CallRunner } from "./call-runner.js";
import type { RpcClientStats } from "./client-stats.js";
import { RpcError } from "./errors.js";
import { EventListeners } from "./event-listeners.js";
import { ChannelListening } from "./listening.js";
import { ReplyRouter } from "./reply-router.js";
import { Status } from "./status.js";
import { ServerStream } from "./stream.js";
import { grantConsumed } from "./stream-credit.js";
import { callSync } from "./sync-call.js";
import type { CallOptions, MessageInit, MessageType, MethodDescriptor, RpcTransport } from "./types.js";

export type { RpcClientStats } from "./client-stats.js";

export interface RpcClientOptions {
  /** Calls on the wire at once; more wait in a queue. Default 1024. */
  maxCallsInFlight: number;
  /**
   * Messages a server-streaming call may have outstanding (sent by the
   * server, not yet taken by the consumer). Default 64.
   */
  streamWindow: number;
}

const DEFAULTS: RpcClientOptions = Object.freeze({ maxCallsInFlight: 1024, streamWindow: 64 });

export class RpcClient implements RpcTransport {
  readonly stats: RpcClientStats = { callsStarted: 0, lateReplies: 0, malformed: 0, unhandledEvents: 0 };

  private readonly events = new EventListeners(this.stats);
  private readonly runner: CallRunner;
  private readonly router: ReplyRouter;

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
    const maxCallsInFlight = positiveInteger("maxCallsInFlight", options.maxCallsInFlight ?? DEFAULTS.maxCallsInFlight);
    const streamWindow = positiveInteger("streamWindow", options.streamWindow ?? DEFAULTS.streamWindow);
    const listening = new ChannelListening(channel, (message) => this.router.route(message));
    this.runner = new CallRunner(channel, this.stats, this.events, listening, maxCallsInFlight, streamWindow);
    this.router = new ReplyRouter(this.runner, this.events, this.stats);
  }

  /** The calls on the wire (private: tests reach their ids through it). */
  private get calls(): CallTable<Call> {
    return this.runner.calls;
  }

  /** Calls started and not yet finished. */
  get callsInFlight(): number {
    return this.runner.calls.size;
  }

  /** Calls waiting for a free slot (maxCallsInFlight). */
  get callsQueued(): number {
    return this.runner.queued;
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
      this.runner.issue(method, request, checked, undefined, resolve as (response: unknown) => void, reject);
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
    const runner = this.runner;
    let call: Call | undefined;
    const stream = new ServerStream<Res>({
      consumed: (count) => {
        if (call) grantConsumed(runner.channel, call, count, runner.streamWindow);
      },
      abandon: () => {
        if (call) runner.giveUp(call, new RpcError(Status.CANCELLED, "the consumer stopped reading", method.path));
      },
    });
    call = runner.issue(method, request, checked, stream as ServerStream<unknown>);
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
    return callSync(this.runner, this.router, method, request, checkOptions(options)) as Res;
  }

  /**
   * Calls `listener` with every EVENT the server emits under `event` (the
   * C side's shmrpc_event_id(name), or the name itself), decoded as `type`.
   * While any event listener is registered the client reads the channel
   * and holds the event loop open. Returns a function that unsubscribes.
   */
  onEvent<T>(event: number | string, type: MessageType<T>, listener: (message: T) => void): () => void {
    const remove = this.events.add(event, type, listener);
    this.runner.updateListening();
    return () => {
      if (remove()) this.runner.updateListening();
    };
  }

  /**
   * Stops the client: every call in flight or queued fails with
   * UNAVAILABLE (calls on the wire are cancelled on the server), later
   * calls fail at once, event listeners are dropped. The channel stays
   * open. Idempotent.
   */
  close(): void {
    this.runner.close();
  }
}
