/**
 * The doorbell of every transport that goes through the addon (the
 * in-process ServiceHost, the cross-process XprocClient, directly or
 * through its relay): the addon performs the futex calls JavaScript cannot
 * make on the segment's wait words, and holds the event loop open while
 * the channel, or the transport itself, waits for the peer.
 *
 * What differs between them is injected: the native object comes at
 * construction or later (`attach`, once the transport has started its
 * peer), and a transport may hold the loop for reasons of its own besides
 * the channel's (`holdForExit`: in-process close() waiting for the
 * service thread).
 */
import type { Doorbell } from "../channel/doorbell.js";
import { LoopHold, type NativeLoopHold } from "./loop-hold.js";

/** What the addon's transports offer a doorbell. */
export interface NativeDoorbellTarget extends NativeLoopHold {
  /** futex_wake on one of the segment's four wait words. */
  ring(waitWordOffset: number): void;
  /** futex_wait while the word equals `expected`; false on timeout. */
  wait(waitWordOffset: number, expected: number, timeoutMs: number): boolean;
  /** Whether the event loop watches (spins on) the ring before it blocks. */
  readonly loopSpins: boolean;
}

export class AddonDoorbell implements Doorbell {
  private native: NativeDoorbellTarget | undefined;
  private hold: LoopHold | undefined;
  private channelActive = false;
  private exitWaiters = 0;

  /**
   * The addon's LoopSpin looks at the ring before the loop blocks. Read
   * once, at attach: it only stops when the native side is torn down.
   */
  watchesBeforeBlocking = false;

  /** Over `native` at once, or later through attach(). */
  constructor(native?: NativeDoorbellTarget) {
    if (native) this.attach(native);
  }

  attach(native: NativeDoorbellTarget): void {
    this.native = native;
    this.hold = new LoopHold(native);
    this.watchesBeforeBlocking = native.loopSpins;
  }
  ring(waitWordOffset: number): void {
    this.native?.ring(waitWordOffset);
  }
  wait(waitWordOffset: number, expected: number, timeoutMs: number): boolean {
    return this.native ? this.native.wait(waitWordOffset, expected, timeoutMs) : false;
  }
  keepAlive(active: boolean): void {
    this.channelActive = active;
    this.update();
  }
  /** One more (+1) or one fewer (-1) waiter that holds the loop open besides the channel. */
  holdForExit(delta: number): void {
    this.exitWaiters += delta;
    this.update();
  }
  private update(): void {
    this.hold?.set(this.channelActive || this.exitWaiters > 0);
  }
}
