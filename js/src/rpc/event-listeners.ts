/**
 * The RpcClient's event listeners: who listens to which EVENT id, and the
 * delivery of one EVENT envelope to them (docs/PROTOCOL.md section 7).
 */
import { decodeRange } from "../pb/codec.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeOffset, envelopeU32 } from "./envelope.js";
import { eventId } from "./ids.js";
import type { MessageType } from "./types.js";

interface EventSubscription {
  type: MessageType<unknown>;
  listener: (message: unknown) => void;
}

/** What delivery counts: the client's stats. */
export interface EventCounters {
  malformed: number;
  unhandledEvents: number;
}

export class EventListeners {
  private readonly byId = new Map<number, Set<EventSubscription>>();
  private subscriptions = 0;

  constructor(private readonly counters: EventCounters) {}

  /** Listeners registered. */
  get count(): number {
    return this.subscriptions;
  }

  /**
   * Registers `listener` for `event` (an id, or a name hashed as the C
   * side's shmrpc_event_id does); TypeErrors for arguments of the wrong
   * type. Returns a function that removes it and says whether it did.
   */
  add<T>(event: number | string, type: MessageType<T>, listener: (message: T) => void): () => boolean {
    const id = typeof event === "string" ? eventId(event) : event >>> 0;
    if (typeof event === "number" && (!Number.isInteger(event) || event < 0 || event > 0xffffffff)) {
      throw new TypeError("onEvent: an event id is a u32");
    }
    if (typeof type?.decode !== "function") throw new TypeError("onEvent: type must be a MessageType");
    if (typeof listener !== "function") throw new TypeError("onEvent: listener must be a function");
    const subscription: EventSubscription = { type, listener: listener as (message: unknown) => void };
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(subscription);
    this.subscriptions++;
    return () => {
      if (!set.delete(subscription)) return false;
      this.subscriptions--;
      if (set.size === 0) this.byId.delete(id);
      return true;
    };
  }

  /**
   * Decodes the EVENT envelope in `bytes[start, end)` for each listener of
   * its id and calls it; a body that does not decode counts as malformed,
   * an id nobody listens to as unhandled.
   */
  deliver(bytes: Uint8Array, start: number, end: number): void {
    const subscriptions = this.byId.get(envelopeU32(bytes, start + EnvelopeOffset.METHOD_ID));
    if (!subscriptions) {
      this.counters.unhandledEvents++;
      return;
    }
    for (const { type, listener } of subscriptions) {
      let message: unknown;
      try {
        message = decodeRange(type, bytes, start + ENVELOPE_HEADER_BYTES, end);
      } catch {
        this.counters.malformed++;
        continue;
      }
      listener(message);
    }
  }

  /** Drops every listener. */
  clear(): void {
    this.byId.clear();
    this.subscriptions = 0;
  }
}
