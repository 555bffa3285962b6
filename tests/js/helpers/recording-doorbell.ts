/**
 * A doorbell for single-thread tests: records every call and lets the test
 * decide when the channel hears a wake-up (call `channel.wake()` yourself).
 */
import type { Doorbell } from "../../../js/src/channel/doorbell.js";

export class RecordingDoorbell implements Doorbell {
  readonly rings: Array<{ offset: number; parked: number }> = [];
  readonly waits: Array<{ offset: number; expected: number; timeoutMs: number }> = [];
  readonly keepAlives: boolean[] = [];
  readonly parks: number[] = [];

  ring(offset: number, parked: number): void {
    this.rings.push({ offset, parked });
  }
  wait(offset: number, expected: number, timeoutMs: number): boolean {
    this.waits.push({ offset, expected, timeoutMs });
    return false;
  }
  keepAlive(active: boolean): void {
    this.keepAlives.push(active);
  }
  parkInLoop(offset: number): void {
    this.parks.push(offset);
  }
}
