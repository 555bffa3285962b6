/**
 * What the RpcClient does with each message the server sends: routes it by
 * the envelope header's fixed offsets (docs/PROTOCOL.md section 7), without
 * building an envelope object, to the call it answers (replies, stream
 * messages, and credit for its request stream) or to the event listeners,
 * and holds the server to the protocol: a reply that breaks it
 * fails that one call, never the client.
 */
import { FrameType, type Message } from "../channel/frame.js";
import { BorrowedMessage } from "../channel/frame-reader.js";
import { decodeRange } from "../pb/codec.js";
import type { Call } from "./call.js";
import type { CallRunner } from "./call-runner.js";
import type { RpcClientStats } from "./client-stats.js";
import { sendControl } from "./control.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind, EnvelopeOffset, envelopeU32, headerProblem, statusViolation } from "./envelope.js";
import { RpcError } from "./errors.js";
import type { EventListeners } from "./event-listeners.js";
import { Status } from "./status.js";
import { withinCredit } from "./stream-credit.js";

const textDecoder = new TextDecoder();

export class ReplyRouter {
  constructor(
    private readonly runner: CallRunner,
    private readonly events: EventListeners,
    private readonly stats: RpcClientStats,
  ) {}

  /**
   * Handles one message of the channel; TEXT and BINARY ones are the
   * application's. A message borrowed from the ring is read in place.
   */
  route(message: Message): void {
    if (message.type !== FrameType.COMMAND) return;
    if (message instanceof BorrowedMessage) this.routeEnvelope(message.bytes, message.offset, message.offset + message.length);
    else this.routeEnvelope(message.data, 0, message.data.length);
  }

  /** Routes the envelope in `bytes[start, end)`. */
  private routeEnvelope(bytes: Uint8Array, start: number, end: number): void {
    if (headerProblem(bytes, start, end) !== undefined) {
      this.stats.malformed++;
      return;
    }
    const kind = bytes[start + EnvelopeOffset.KIND]!;
    switch (kind) {
      case EnvelopeKind.RESPONSE:
      case EnvelopeKind.ERROR:
      case EnvelopeKind.STREAM_MESSAGE:
      case EnvelopeKind.STREAM_END:
        this.reply(kind, bytes, start, end);
        return;
      case EnvelopeKind.EVENT:
        this.events.deliver(bytes, start, end);
        return;
      case EnvelopeKind.CREDIT:
        this.credit(bytes, start);
        return;
      default: // a kind only a client sends
        this.stats.malformed++;
    }
  }

  private reply(kind: number, bytes: Uint8Array, start: number, end: number): void {
    const runner = this.runner;
    const call = runner.calls.get(envelopeU32(bytes, start + EnvelopeOffset.CALL_ID));
    if (!call) {
      this.stats.lateReplies++;
      return;
    }
    const path = call.method.path;
    const body = start + ENVELOPE_HEADER_BYTES;
    switch (kind) {
      case EnvelopeKind.RESPONSE: {
        if (call.stream) return this.violation(call, "a RESPONSE for a streaming call");
        let response: unknown;
        try {
          response = decodeRange(call.method.responseType, bytes, body, end);
        } catch (error) {
          return runner.finish(call, new RpcError(Status.INTERNAL, `the response does not decode: ${String(error)}`, path, { cause: error }));
        }
        return runner.finish(call, undefined, response);
      }
      case EnvelopeKind.ERROR:
        return runner.finish(call, this.serverStatus(kind, bytes, start, end, path));
      case EnvelopeKind.STREAM_MESSAGE: {
        const stream = call.stream;
        if (!stream) return this.violation(call, "a STREAM_MESSAGE for a unary call");
        if (!withinCredit(call)) return this.violation(call, "more stream messages than the credit granted");
        let item: unknown;
        try {
          item = decodeRange(call.method.responseType, bytes, body, end);
        } catch (error) {
          sendControl(runner.channel, EnvelopeKind.CANCEL, call.id, 0);
          return runner.finish(call, new RpcError(Status.INTERNAL, `a stream message does not decode: ${String(error)}`, path, { cause: error }));
        }
        stream.push(item);
        return;
      }
      default: {
        if (!call.stream) return this.violation(call, "a STREAM_END for a unary call");
        return runner.finish(call, this.serverStatus(kind, bytes, start, end, path));
      }
    }
  }

  /** The server grants more messages of a call's request stream. */
  private credit(bytes: Uint8Array, start: number): void {
    const call = this.runner.calls.get(envelopeU32(bytes, start + EnvelopeOffset.CALL_ID));
    if (!call) {
      this.stats.lateReplies++;
      return;
    }
    if (!call.requests) return this.violation(call, "a CREDIT for a call without a request stream");
    call.requests.grant(envelopeU32(bytes, start + EnvelopeOffset.CREDIT));
  }

  /**
   * The error an ERROR or STREAM_END ends its call with (undefined for a
   * STREAM_END with OK). A status the kind cannot carry becomes UNKNOWN, so
   * no caller ever sees code OK or a number outside the table.
   */
  private serverStatus(kind: number, bytes: Uint8Array, start: number, end: number, path: string): RpcError | undefined {
    const status = envelopeU32(bytes, start + EnvelopeOffset.STATUS);
    const bad = statusViolation(kind, status);
    if (bad !== undefined) {
      this.stats.malformed++;
      return new RpcError(Status.UNKNOWN, `protocol violation: ${bad}; the server's message: ${JSON.stringify(statusText(bytes, start, end))}`, path);
    }
    return status === Status.OK ? undefined : new RpcError(status, statusText(bytes, start, end), path);
  }

  /** The server broke the protocol for one call: that call fails, the rest go on. */
  private violation(call: Call, what: string): void {
    this.stats.malformed++;
    this.runner.giveUp(call, new RpcError(Status.INTERNAL, `protocol violation: ${what}`, call.method.path));
  }
}

/** The status message an ERROR or STREAM_END in `bytes[start, end)` carries after the header. */
function statusText(bytes: Uint8Array, start: number, end: number): string {
  // A copy: bytes may be the ring, which TextDecoder refuses in browsers.
  return textDecoder.decode(bytes.slice(start + ENVELOPE_HEADER_BYTES, end));
}
