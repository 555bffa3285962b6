/**
 * The client's side of a request stream (client-streaming and
 * bidirectional calls, docs/PROTOCOL.md section 7, "Request streams"):
 * pulls requests from the caller's iterable only while the server has
 * granted credit for them, sends each as a REQUEST_MESSAGE and the end of
 * the iterable as REQUEST_END. A slow server thus slows the producer: the
 * client never holds more than the one request it is sending, and the
 * server never more than the window it granted.
 */
import type { Call } from "./call.js";
import { RpcError } from "./errors.js";
import { Status } from "./status.js";
import type { MessageInit, RequestSource } from "./types.js";

/** What the stream needs from the client: sending, and failing its call. */
export interface RequestSender {
  /**
   * Sends one REQUEST_MESSAGE of `call`; returns a promise when the send
   * waits for ring space. Fails the call itself if the message does not
   * encode or the channel refuses it.
   */
  sendRequestMessage(call: Call, message: MessageInit<unknown>): Promise<void> | undefined;
  /** Sends REQUEST_END: the caller's requests are all sent. */
  endRequests(call: Call): void;
  /** Fails the call and cancels it on the server. */
  giveUp(call: Call, error: RpcError): void;
}

type AnyIterator = AsyncIterator<MessageInit<unknown>> | Iterator<MessageInit<unknown>>;

/** Whether `source` can be a RequestSource (an async or sync iterable, not a string). */
export function isRequestSource(source: unknown): source is RequestSource<unknown> {
  return (
    source !== null &&
    typeof source === "object" &&
    (typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === "function" ||
      typeof (source as Partial<Iterable<unknown>>)[Symbol.iterator] === "function")
  );
}

export class RequestStream {
  /** REQUEST_MESSAGEs the server accepts now. */
  private credit = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly source: RequestSource<unknown>) {}

  /** The server granted `count` more (a CREDIT envelope). */
  grant(count: number): void {
    this.credit += count;
    this.resume();
  }

  /** The call ended: the stream stops at its next step. */
  stop(): void {
    this.resume();
  }

  /**
   * Sends the source's requests while `call` lasts. Opens the source only
   * once the server granted credit, so a call that never starts never
   * touches it; closes it (return()) when the call ends before it does.
   * Never rejects: what goes wrong fails the call.
   */
  async run(call: Call, sender: RequestSender): Promise<void> {
    let iterator: AnyIterator | undefined;
    try {
      for (;;) {
        while (this.credit === 0 && !ended(call)) {
          await new Promise<void>((resolve) => (this.wake = resolve));
        }
        if (ended(call)) return;
        iterator ??= open(this.source);
        const next = await iterator.next();
        if (ended(call)) return;
        if (next.done) {
          iterator = undefined;
          sender.endRequests(call);
          return;
        }
        this.credit--;
        const queued = sender.sendRequestMessage(call, next.value);
        if (queued) await queued;
      }
    } catch (error) {
      iterator = undefined; // it threw: it is finished
      const text = error instanceof Error ? error.message : String(error);
      sender.giveUp(call, new RpcError(Status.CANCELLED, `the request source threw: ${text}`, call.method.path, { cause: error }));
    } finally {
      if (iterator?.return) {
        try {
          Promise.resolve(iterator.return()).catch(() => {});
        } catch {
          // A source whose return() throws is closed as far as we can.
        }
      }
    }
  }

  private resume(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake();
    }
  }
}

/** Read through a function: the call may end while the stream awaits. */
function ended(call: Call): boolean {
  return call.phase === "done";
}

function open(source: RequestSource<unknown>): AnyIterator {
  const asyncIterable = source as Partial<AsyncIterable<MessageInit<unknown>>>;
  if (typeof asyncIterable[Symbol.asyncIterator] === "function") return asyncIterable[Symbol.asyncIterator]!();
  return (source as Iterable<MessageInit<unknown>>)[Symbol.iterator]();
}
