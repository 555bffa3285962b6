/**
 * What a transport is: everything a Channel needs from outside the shared
 * segment, and nothing else. A transport
 *
 * 1. obtains the segment: creates it (JavaScript allocates it in process),
 *    maps it (native code maps another process's memory), or finds it
 *    inside a WebAssembly.Memory it shares with a Worker;
 * 2. rings the peer: its Doorbell wakes a parked peer and sleeps for one
 *    (futex calls through the addon, or Atomics between JavaScript and
 *    WebAssembly threads), and it calls `channel.wake()` when the peer woke
 *    this side in a way the doorbell cannot hear itself (a uv_async from a
 *    native thread, say);
 * 3. watches the peer's liveness: when the peer is gone without closing
 *    (its thread returned, its process exited, its Worker ended) it calls
 *    `channel.peerDied(reason)`, and the channel fails what waits for the
 *    peer (an RpcClient's calls fail with UNAVAILABLE);
 * 4. releases what it holds on close().
 *
 * openChannel() attaches a Channel to a transport. Generated clients see
 * only the Channel (through an RpcClient), so they work unchanged on every
 * transport. This module is portable: transports that need Node live in
 * shmrpc/node, a browser Worker's in the page's bundle.
 */
import { Channel } from "../channel/channel.js";
import type { ChannelOptions } from "../channel/channel-options.js";
import type { Doorbell } from "../channel/doorbell.js";
import type { Side } from "../channel/layout.js";
import type { SegmentSource } from "../channel/segment.js";

/** The calls a transport makes into the channel it serves. */
export type TransportChannel = Pick<Channel, "wake" | "peerDied">;

export interface Transport {
  /** The segment, initialized (formatSegment) by whichever side creates it. */
  readonly segment: SegmentSource;
  /** Which end of the segment the local channel is. */
  readonly side: Side;
  /** How the local channel wakes the peer and sleeps. */
  readonly doorbell: Doorbell;
  /**
   * Called once, right after the channel attached (this side is OPEN):
   * start the peer if the transport runs it, and from now on call
   * `channel.wake()` when the peer rings by a route the doorbell does not
   * hear, and `channel.peerDied(reason)` once if the peer goes away without
   * closing. If it throws, the channel is closed and the error propagates.
   */
  start(channel: TransportChannel): void;
  /**
   * Releases what the transport holds (the peer's thread, a mapping, a
   * socket, a Worker) once the channel is closed or the peer is gone.
   * Resolves when it is released; idempotent.
   */
  close(): Promise<void>;
}

/** What a user of any transport holds: the channel to call over, and a way to end. */
export interface Connection {
  readonly channel: Channel;
  /** Closes the channel and releases the transport. */
  close(): Promise<unknown>;
}

/** Channel options a transport leaves to its user (it decides the side and the doorbell). */
export type TransportChannelOptions = Omit<ChannelOptions, "side" | "doorbell">;

/**
 * Attaches a Channel to `transport`'s segment on its side with its
 * doorbell, then starts the transport. Throws as `new Channel` does, or
 * what `transport.start` threw (the channel is closed then).
 *
 * Example usage:
 *
 *   const channel = openChannel(transport, { spinMicros: 20 });
 *   const greeter = new GreeterClient(new RpcClient(channel));
 */
export function openChannel(transport: Transport, options: Partial<TransportChannelOptions> = {}): Channel {
  const channel = new Channel(transport.segment, { ...options, side: transport.side, doorbell: transport.doorbell });
  try {
    transport.start(channel);
  } catch (error) {
    channel.close();
    throw error;
  }
  return channel;
}
