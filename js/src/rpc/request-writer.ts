/**
 * Writes the RpcClient's REQUEST envelopes into the ring with one encode
 * per call. trySendInPlace() runs a generated codec's one pass ($encode)
 * straight into the ring's free space (Channel.trySendInPlace); when that
 * is not possible now, measure() encodes into a Writer's area, whose
 * length is the frame's, and write() copies the bytes where the channel
 * puts the frame. Any other MessageType is sized with encodedSize() and
 * written with encodeInto().
 *
 * One request at a time: header, then trySendInPlace or measure, and the
 * channel calls the encoder or write at most once, synchronously; done()
 * always follows (it releases the Writer).
 */
import { encodeIntoShared } from "../byte-pool.js";
import type { Channel } from "../channel/channel.js";
import { FrameType } from "../channel/frame.js";
import { isMessageCodec, type MessageCodec } from "../pb/codec.js";
import { NO_ROOM, Writer } from "../pb/writer.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind, writeEnvelopeHeader } from "./envelope.js";
import type { MessageInit, MessageType } from "./types.js";

/**
 * The codec writes long strings into shared memory only where the platform
 * encodes UTF-8 into it (Node; a browser's TextEncoder refuses): elsewhere
 * requests take the area.
 */
const IN_PLACE = encodeIntoShared;

export class RequestWriter {
  private type: MessageType<unknown> | undefined;
  private message: MessageInit<unknown> | undefined;
  /** The encoded request of a generated codec, until done(). */
  private writer: Writer | undefined;
  private size = 0;
  private kind: EnvelopeKind = EnvelopeKind.REQUEST;
  private callId = 0;
  private methodId = 0;
  private schemaHash = 0;
  private timeoutUs = 0;
  private credit = 0;

  /** The encoded size of `message` (the body after the envelope header); throws what the codec throws. */
  measure(type: MessageType<unknown>, message: MessageInit<unknown>): number {
    this.type = type;
    this.message = message;
    if (!isMessageCodec(type)) return (this.size = type.encodedSize(message));
    const writer = Writer.acquire();
    try {
      writer.beginArea();
      type.$encode(message, writer);
      this.size = writer.pos;
    } catch (error) {
      writer.release();
      throw error;
    }
    this.writer = writer;
    return this.size;
  }

  /**
   * Sends the envelope of header() with `message` as its body, encoded
   * straight into the ring, when `type` is a generated codec and the ring
   * takes it now in one piece: true then. False, with nothing sent, when
   * not (use measure() and a sized send). Throws what the codec and the
   * channel throw, with nothing sent.
   */
  trySendInPlace(channel: Channel, type: MessageType<unknown>, message: MessageInit<unknown>): boolean {
    if (!IN_PLACE || !isMessageCodec(type)) return false;
    this.type = type;
    this.message = message;
    return channel.trySendInPlace(FrameType.COMMAND, this.encodeInPlace);
  }

  /** The InPlaceEncoder of trySendInPlace; bound once, so a call allocates no closure. */
  private readonly encodeInPlace = (target: Uint8Array, start: number, end: number): number => {
    const body = start + ENVELOPE_HEADER_BYTES;
    if (body > end) return -1;
    const writer = Writer.acquire();
    try {
      writer.beginInto(target, body, end);
      (this.type as MessageCodec<unknown>).$encode(this.message!, writer);
      writeEnvelopeHeader(target, start, this.kind, this.callId, this.methodId, this.schemaHash, 0, this.timeoutUs, this.credit);
      return writer.pos - start;
    } catch (error) {
      if (error === NO_ROOM) return -1;
      throw error;
    } finally {
      writer.release();
    }
  };

  /** No body: the REQUEST that opens a call with a request stream. */
  measureNothing(): number {
    return (this.size = 0);
  }

  /** The envelope header fields of the REQUEST or REQUEST_MESSAGE being written (docs/PROTOCOL.md section 7). */
  header(kind: EnvelopeKind, callId: number, methodId: number, schemaHash: number, timeoutUs: number, credit: number): void {
    this.kind = kind;
    this.callId = callId;
    this.methodId = methodId;
    this.schemaHash = schemaHash;
    this.timeoutUs = timeoutUs;
    this.credit = credit;
  }

  /**
   * Writes header and body at `offset` (a Channel PayloadWriter of
   * ENVELOPE_HEADER_BYTES + size bytes); bound once, so a call allocates no
   * closure. Throws if a MessageType that is not a generated codec wrote
   * another size than it measured.
   */
  readonly write = (target: Uint8Array, offset: number): void => {
    writeEnvelopeHeader(target, offset, this.kind, this.callId, this.methodId, this.schemaHash, 0, this.timeoutUs, this.credit);
    const at = offset + ENVELOPE_HEADER_BYTES;
    const writer = this.writer;
    if (writer !== undefined) {
      writer.copyAreaInto(target, at);
    } else if (this.type !== undefined && this.type.encodeInto(this.message!, target, at) !== at + this.size) {
      throw new Error("the request changed while it was encoded");
    }
  };

  /** Ends the request: releases the Writer and the message. */
  done(): void {
    this.writer?.release();
    this.writer = undefined;
    this.type = undefined;
    this.message = undefined;
  }
}
