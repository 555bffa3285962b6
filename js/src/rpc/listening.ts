/**
 * When the RpcClient reads its channel. Every message is decoded (or
 * dropped) before the listener returns, and the client says when it awaits
 * replies (channel.expect): the listener, a passive one, is registered
 * once and stays between calls at no cost per call; per call only
 * channel.expect changes. unarySync pauses it while it reads the channel
 * itself.
 */
import type { Channel } from "../channel/channel.js";
import type { Message } from "../channel/frame.js";

const LISTENER_OPTIONS = Object.freeze({ borrow: true, passive: true });

export class ChannelListening {
  private stopListening: (() => void) | undefined;
  /** What the client last told channel.expect(). */
  private expecting = false;
  /** unarySync is reading the channel itself. */
  private paused = false;

  constructor(
    private readonly channel: Channel,
    private readonly onMessage: (message: Message) => void,
  ) {}

  /**
   * Awaits messages exactly while `wanted` (calls in flight or event
   * listeners, and the client open) and nothing reads the channel in
   * their place.
   */
  update(wanted: boolean): void {
    const awaiting = wanted && !this.paused;
    if (awaiting) this.setListening(true);
    if (awaiting !== this.expecting) {
      this.expecting = awaiting;
      this.channel.expect(awaiting);
    }
  }

  /** unarySync reads the channel itself from now (true) or no longer (false; then call update). */
  pause(paused: boolean): void {
    this.paused = paused;
    if (paused) this.setListening(false);
  }

  /** The client closed: no listener any more. */
  stop(): void {
    this.setListening(false);
  }

  private setListening(on: boolean): void {
    if (on && !this.stopListening) {
      this.stopListening = this.channel.onMessage(this.onMessage, LISTENER_OPTIONS);
    } else if (!on && this.stopListening) {
      this.stopListening();
      this.stopListening = undefined;
      if (this.expecting) {
        this.expecting = false;
        this.channel.expect(false);
      }
    }
  }
}
