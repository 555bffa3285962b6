/**
 * Writes the RpcClient's REQUEST envelopes straight into the ring with one
 * encode per call: measure() runs a generated codec's one pass ($encode)
 * into a Writer's area, whose length is the frame's, and write() copies
 * the bytes where the channel puts the frame. Any other MessageType is
 * sized with encodedSize() and written with encodeInto().
 *
 * One request at a time: measure, header, then the channel calls write at
 * most once, synchronously; done() always follows (it releases the Writer).
 */
import { isMessageCodec } from "../pb/codec.js";
import { Writer } from "../pb/writer.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind, writeEnvelopeHeader } from "./envelope.js";
import type { MessageInit, MessageType } from "./types.js";

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
