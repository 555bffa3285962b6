/**
 * How a channel wakes its peer and sleeps (docs/PROTOCOL.md section 4).
 * JavaScript cannot issue futex calls, so the transport provides them: the
 * in-process addon implements Doorbell with futex_wake/futex_wait and calls
 * `channel.wake()` from its uv_async callback when the native side wakes the
 * event loop; AtomicsDoorbell serves two JavaScript threads sharing a
 * SharedArrayBuffer. A doorbell names each wait word by its byte offset
 * from the segment's start, wherever the segment sits in its buffer.
 */
import { segmentRegion, type SegmentSource } from "./segment.js";

export interface Doorbell {
  /**
   * Wake a peer parked on the wait word at this byte offset of the segment
   * (its value was 1 or 2 before we exchanged it to 0).
   */
  ring(waitWordByteOffset: number, parkedValue: number): void;
  /**
   * Block this thread until the wait word at byteOffset no longer equals
   * `expected` or we are woken; false on timeout. A negative timeoutMs means
   * no limit. (sync mode; a futex_wait in the addon)
   */
  wait(waitWordByteOffset: number, expected: number, timeoutMs: number): boolean;
  /**
   * Hold the event loop open (true) while the channel waits for something
   * (pending sends, active listeners/iterators).
   */
  keepAlive(active: boolean): void;
  /**
   * Optional. The channel stored 2 (parked in the event loop) into the wait
   * word at this byte offset and returns to the loop. A doorbell that cannot
   * otherwise hear the peer's wake-up listens here and calls `wake` once
   * woken (or at once if the word already changed). The addon needs none:
   * its native side notices the 2 itself and wakes the loop.
   */
  parkInLoop?(waitWordByteOffset: number, wake: () => void): void;
  /**
   * True when the transport looks at the channel's incoming ring once more
   * (spinning for a while) every time the event loop is about to block, and
   * wakes the channel itself if something arrived: the channel then parks
   * its consumer with 3 (SPINNING), which peers need not wake.
   */
  readonly watchesBeforeBlocking?: boolean;
}

/** Atomics.waitAsync (Node >= 16) is in TypeScript's es2024 lib; the project compiles against es2022. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: "not-equal" | "timed-out" } | { async: true; value: Promise<"ok" | "timed-out"> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Larger than any wait, within setInterval's 2^31 - 1 ms limit. */
const KEEP_ALIVE_PERIOD_MS = 2 ** 31 - 1;

/**
 * A doorbell for JavaScript peers on one segment (the main thread and a
 * worker, or two workers): `ring` is Atomics.notify, `wait` is
 * Atomics.wait, and a side parked in its event loop listens with
 * Atomics.waitAsync. It cannot wake or be woken by native futex waiters (V8
 * keeps its own waiter lists).
 */
export class AtomicsDoorbell implements Doorbell {
  private readonly words: Int32Array;
  /** Wait words with a pending Atomics.waitAsync, so a park does not stack listeners. */
  private readonly listening = new Set<number>();
  /** A pending Atomics.waitAsync does not keep Node alive; this timer does. */
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  /** Over the segment a Channel attaches to: a SharedArrayBuffer or a region of one. */
  constructor(segment: SegmentSource) {
    const { buffer, byteOffset, byteLength } = segmentRegion(segment, "AtomicsDoorbell: the segment");
    this.words = new Int32Array(buffer, byteOffset, byteLength >>> 2);
  }

  ring(waitWordByteOffset: number): void {
    Atomics.notify(this.words, waitWordByteOffset >>> 2);
  }

  wait(waitWordByteOffset: number, expected: number, timeoutMs: number): boolean {
    const limit = timeoutMs < 0 ? Infinity : timeoutMs;
    return Atomics.wait(this.words, waitWordByteOffset >>> 2, expected, limit) !== "timed-out";
  }

  keepAlive(active: boolean): void {
    if (active && this.keepAliveTimer === undefined) {
      this.keepAliveTimer = setInterval(() => {}, KEEP_ALIVE_PERIOD_MS);
    } else if (!active && this.keepAliveTimer !== undefined) {
      clearInterval(this.keepAliveTimer);
      this.keepAliveTimer = undefined;
    }
  }

  parkInLoop(waitWordByteOffset: number, wake: () => void): void {
    if (this.listening.has(waitWordByteOffset)) return;
    const result = waitAsync(this.words, waitWordByteOffset >>> 2, 2);
    if (!result.async) {
      // The peer already exchanged the word back to 0: it rang before we slept.
      queueMicrotask(wake);
      return;
    }
    this.listening.add(waitWordByteOffset);
    void result.value.then(() => {
      this.listening.delete(waitWordByteOffset);
      wake();
    });
  }
}
