/**
 * The options of a Channel and of one send, their defaults, and the checks
 * that turn a caller's values into validated ones (TypeError for the wrong
 * type, ShmrpcError EINVAL for a value out of range).
 */
import { ShmrpcError } from "../errors.js";
import { AtomicsDoorbell, type Doorbell } from "./doorbell.js";
import type { Side } from "./layout.js";
import type { SharedRegion } from "./segment.js";

export interface ChannelOptions {
  /** Which end of the segment this is. Default "client". */
  side: Side;
  /** How to wake and wait for the peer. Default: an AtomicsDoorbell over the segment (JavaScript peers). */
  doorbell: Doorbell;
  /**
   * How long receiveSync spins for data, and a blocked send for space,
   * before parking, in microseconds. receiveSync's budget adapts below
   * this cap (docs/PROTOCOL.md section 4) unless spinFixed. Default 50.
   */
  spinMicros: number;
  /** Spin spinMicros before every park instead of adapting. Default false. */
  spinFixed: boolean;
  /** The largest message this side accepts, advertised to the peer. Default 64 MiB. */
  maxMessageBytes: number;
  /** Messages an async iterator buffers before the channel stops draining for it. Default 64. */
  iteratorBufferMessages: number;
}

export interface SendOptions {
  /**
   * Give up with ETIMEDOUT if the message could not start within this many
   * milliseconds. Once its first frame is written the message is always
   * finished (or fails with ECLOSED/EPROTO), so the stream never holds half
   * a message. Default: no limit.
   */
  timeoutMs?: number;
}

export const MAX_U32 = 0xffffffff;

const DEFAULTS: Omit<ChannelOptions, "doorbell"> = Object.freeze({
  side: "client",
  spinMicros: 50,
  spinFixed: false,
  maxMessageBytes: 64 << 20,
  iteratorBufferMessages: 64,
});
/** setTimeout fires at once for delays above this, so longer timeouts mean "no limit". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Every channel option, checked, with defaults filled in; the default
 * doorbell is an AtomicsDoorbell over `segment`.
 */
export function channelOptions(segment: SharedRegion, options: Partial<ChannelOptions>): Readonly<ChannelOptions> {
  const side = options.side ?? DEFAULTS.side;
  if (side !== "client" && side !== "server") {
    throw new TypeError(`Channel: side must be "client" or "server", got ${String(side)}`);
  }
  const doorbell = options.doorbell ?? new AtomicsDoorbell(segment);
  for (const method of ["ring", "wait", "keepAlive"] as const) {
    if (typeof doorbell[method] !== "function") {
      throw new TypeError(`Channel: the doorbell has no ${method}() method`);
    }
  }
  return {
    side,
    doorbell,
    spinMicros: numberOption("spinMicros", options.spinMicros ?? DEFAULTS.spinMicros, 0, Infinity),
    spinFixed: booleanOption("spinFixed", options.spinFixed ?? DEFAULTS.spinFixed),
    maxMessageBytes: numberOption("maxMessageBytes", options.maxMessageBytes ?? DEFAULTS.maxMessageBytes, 0, MAX_U32),
    iteratorBufferMessages: numberOption(
      "iteratorBufferMessages",
      options.iteratorBufferMessages ?? DEFAULTS.iteratorBufferMessages,
      1,
      MAX_U32,
    ),
  };
}

/** The send timeout in ms, or undefined for none. */
export function timeoutOption(options: SendOptions | undefined): number | undefined {
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs)) {
    throw new TypeError("send: options.timeoutMs must be a number");
  }
  return timeoutMs < 0 || timeoutMs > MAX_TIMER_MS ? undefined : timeoutMs;
}

function booleanOption(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`Channel: ${name} must be a boolean`);
  return value;
}

function numberOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`Channel: ${name} must be a number`);
  if (value < min || value > max || (max !== Infinity && !Number.isInteger(value))) {
    throw new ShmrpcError("EINVAL", `Channel: ${name} ${value} is out of range`);
  }
  return value;
}
