/**
 * Writes the RpcClient's REQUEST and REQUEST_MESSAGE envelopes into the
 * ring with one encode each (send()): a generated codec's one pass
 * ($encode) straight into the ring's free space (Channel.trySendInPlace);
 * when that is not possible now, an encode into a Writer's area, whose
 * length is the frame's, copied where the channel puts the frame (in the
 * ring, or a queued copy). Any other MessageType is sized with
 * encodedSize() and written with encodeInto().
 *
 * One envelope at a time: header(), then send().
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

  /**
   * Sends the envelope of header() with `message` as its body (none when
   * undefined): undefined once it is in the ring, else the send queued in
   * the channel (for ring space, or behind other sends), which rejects if
   * it cannot be sent. Throws, with nothing sent, what the codec and the
   * channel throw.
   */
  send(channel: Channel, type: MessageType<unknown>, message: MessageInit<unknown> | undefined): Promise<void> | undefined {
    try {
      if (message !== undefined && IN_PLACE && isMessageCodec(type)) {
        this.type = type;
        this.message = message;
        if (channel.trySendInPlace(FrameType.COMMAND, this.encodeInPlace)) return undefined;
      }
      const length = ENVELOPE_HEADER_BYTES + (message === undefined ? (this.size = 0) : this.measure(type, message));
      if (channel.trySendEncoded(FrameType.COMMAND, length, this.write)) return undefined;
      return channel.sendEncoded(FrameType.COMMAND, length, this.write);
    } finally {
      this.done();
    }
  }

  /** The encoded size of `message` (the body after the envelope header); throws what the codec throws. */
  private measure(type: MessageType<unknown>, message: MessageInit<unknown>): number {
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

  /** The InPlaceEncoder of send(); bound once, so a call allocates no closure. */
  private readonly encodeInPlace = (target: Uint8Array, start: number, end: number): number => {
    const body = start + ENVELOPE_HEADER_BYTES;
    if (body > end) return -1;
    const writer = Writer.acquire();
    try {
      writer.beginInto(target, body, end);
      (this.type as MessageCodec<unknown>).$encode(this.message!, writer);
      this.writeHeader(target, start);
      return writer.pos - start;
    } catch (error) {
      if (error === NO_ROOM) return -1;
      throw error;
    } finally {
      writer.release();
    }
  };

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
  private readonly write = (target: Uint8Array, offset: number): void => {
    this.writeHeader(target, offset);
    const at = offset + ENVELOPE_HEADER_BYTES;
    const writer = this.writer;
    if (writer !== undefined) {
      writer.copyAreaInto(target, at);
    } else if (this.type !== undefined && this.type.encodeInto(this.message!, target, at) !== at + this.size) {
      throw new Error("the request changed while it was encoded");
    }
  };

  private writeHeader(target: Uint8Array, offset: number): void {
    writeEnvelopeHeader(target, offset, this.kind, this.callId, this.methodId, this.schemaHash, 0, this.timeoutUs, this.credit);
  }

  /** Ends the envelope: releases the Writer and the message. */
  private done(): void {
    this.writer?.release();
    this.writer = undefined;
    this.type = undefined;
    this.message = undefined;
  }
}
