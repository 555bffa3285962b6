/**
 * The envelopes the RpcClient sends besides REQUEST: CANCEL and CREDIT
 * (docs/PROTOCOL.md section 7), header only.
 */
import type { Channel } from "../channel/channel.js";
import { FrameType } from "../channel/frame.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeKind, writeEnvelopeHeader } from "./envelope.js";

/** Sends CANCEL or CREDIT; best effort (a closed channel fails the calls anyway). */
export function sendControl(channel: Channel, kind: EnvelopeKind, callId: number, credit: number): void {
  try {
    channel
      .sendEncoded(FrameType.COMMAND, ENVELOPE_HEADER_BYTES, (target, offset) =>
        writeEnvelopeHeader(target, offset, kind, callId, 0, 0, 0, 0, credit),
      )
      .catch(() => {});
  } catch {
    // The channel is gone; the client shuts down from its close listener.
  }
}
