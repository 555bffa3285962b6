/** The RpcClient's counters, kept by the parts that see each event. */

/** Counters for tests and tuning. */
export interface RpcClientStats {
  /** Calls started (sent). */
  callsStarted: number;
  /** Replies for calls no longer in flight (they raced a timeout or cancel). */
  lateReplies: number;
  /** Envelopes that did not parse, or that a server must not send. */
  malformed: number;
  /** Events nobody listened to. */
  unhandledEvents: number;
}
