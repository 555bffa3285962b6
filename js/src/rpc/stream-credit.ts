/**
 * Credit for the messages a server streams (docs/PROTOCOL.md section 7,
 * "Stream flow control"): the REQUEST grants the server the client's
 * window, and the client grants back what its consumer took, in batches of
 * half a window, so a slow consumer slows the producer and at most a
 * window of messages is ever buffered.
 */
import type { Channel } from "../channel/channel.js";
import type { Call } from "./call.js";
import { sendControl } from "./control.js";
import { EnvelopeKind } from "./envelope.js";

/** The consumer of `call`'s stream took `count` messages. */
export function grantConsumed(channel: Channel, call: Call, count: number, window: number): void {
  if (call.phase !== "sent") return;
  call.ungranted += count;
  if (call.ungranted * 2 >= window) {
    const credit = call.ungranted;
    call.ungranted = 0;
    call.granted += credit;
    sendControl(channel, EnvelopeKind.CREDIT, call.id, credit);
  }
}

/** Whether one more stream message stays within the credit granted so far (counts it). */
export function withinCredit(call: Call): boolean {
  return ++call.received <= call.granted;
}
