/** Memory over time, for the soak run (tests/js/soak/main.ts). */

/** Memory over time. */
export class MemoryLog {
  readonly samples: Array<{ at: string; rssMiB: number; heapMiB: number }> = [];
  sample(at: string): void {
    const usage = process.memoryUsage();
    this.samples.push({ at, rssMiB: Math.round(usage.rss / 2 ** 20), heapMiB: Math.round(usage.heapUsed / 2 ** 20) });
  }
  /** Flat: no sample after the first tenth exceeds the level at the first tenth by more than 32 MiB. */
  flat(): { flat: boolean; baselineMiB: number; maxMiB: number; lastMiB: number } {
    const from = Math.floor(this.samples.length / 10);
    const rest = this.samples.slice(from);
    const baselineMiB = rest[0]?.rssMiB ?? 0;
    const maxMiB = Math.max(...rest.map((s) => s.rssMiB));
    return { flat: maxMiB - baselineMiB <= 32, baselineMiB, maxMiB, lastMiB: rest.at(-1)?.rssMiB ?? 0 };
  }
}
