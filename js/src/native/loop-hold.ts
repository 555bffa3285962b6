/**
 * JavaScript's half of the addon's LoopHold (js/native/loop_hold.h):
 * whether a transport's handle holds the event loop open, changed without
 * a call into the addon except to take the hold. An RpcClient's every call
 * takes and drops the hold; the drop is only a store here, applied by the
 * addon before the loop would block, so back-to-back calls keep it.
 */

/** What the addon's ServiceHost and XprocClient offer for it. */
export interface NativeLoopHold {
  /** Holds the event loop open (true) or releases it, at once. */
  keepAlive(active: boolean): void;
  /** [wanted (written here), held (written by the addon)]. */
  readonly holdWords: Int32Array;
}

const WANTED = 0;
const HELD = 1;

export class LoopHold {
  private readonly words: Int32Array;

  constructor(private readonly native: NativeLoopHold) {
    this.words = native.holdWords;
  }

  /** Holds the loop open (at once) or lets it go (before the loop next blocks). */
  set(active: boolean): void {
    this.words[WANTED] = active ? 1 : 0;
    if (active && this.words[HELD] === 0) this.native.keepAlive(true);
  }
}
