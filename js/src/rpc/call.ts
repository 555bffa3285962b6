/** The RpcClient's record of one call. */
import type { RpcError } from "./errors.js";
import type { RequestStream } from "./request-stream.js";
import type { ServerStream } from "./stream.js";
import type { MessageInit, MethodDescriptor } from "./types.js";

export type Phase = "queued" | "sent" | "done";

/** One call, from issue to its end. */
export class Call {
  id = 0;
  phase: Phase = "queued";
  timer: ReturnType<typeof setTimeout> | undefined;
  abortListener: (() => void) | undefined;
  /** Stream messages the server may still send: initial window + credit granted. */
  granted = 0;
  received = 0;
  /** Consumed messages not yet granted back in a CREDIT. */
  ungranted = 0;
  /** The REQUEST was written into the ring (not left in the channel's send queue). */
  inRing = false;
  /** The request stream of a client-streaming or bidirectional call. */
  requests: RequestStream | undefined = undefined;
  /** The outcome of a sync call (which has no promise to settle). */
  error: RpcError | undefined;
  response: unknown;

  /**
   * A unary call settles its promise through `resolve`/`reject`, a stream
   * ends its iterator, a sync call (neither) keeps the outcome here.
   */
  constructor(
    readonly method: MethodDescriptor<unknown, unknown>,
    readonly request: MessageInit<unknown>,
    /** performance.now() of the deadline, or Infinity. */
    readonly deadline: number,
    readonly signal: AbortSignal | undefined,
    readonly stream: ServerStream<unknown> | undefined,
    readonly resolve: ((response: unknown) => void) | undefined,
    readonly reject: ((error: RpcError) => void) | undefined,
  ) {}
}
