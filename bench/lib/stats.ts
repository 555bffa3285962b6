/** Latency samples → quantiles, and printing of the benchmark tables. */

/**
 * Unmeasured rounds before a latency measurement. V8 keeps optimizing a hot
 * loop well past the first thousand rounds: with a 2000-round warm-up the
 * sync echo measured 0.4 µs in some processes and 1.3 µs in others.
 */
export const SYNC_WARMUP = 100_000;
export const ASYNC_WARMUP = 10_000;

export interface Latency {
  p50: number;
  p99: number;
}

export function quantiles(samples: Float64Array | number[]): Latency {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Measures `rounds` calls of `once` (after `warmup` unmeasured ones), in µs. */
export async function timeRounds(rounds: number, warmup: number, once: () => unknown): Promise<Latency> {
  for (let i = 0; i < warmup; i++) await once();
  const samples = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    await once();
    samples[i] = (performance.now() - start) * 1000;
  }
  return quantiles(samples);
}

/** The synchronous variant: no await between rounds. */
export function timeRoundsSync(rounds: number, warmup: number, once: () => void): Latency {
  for (let i = 0; i < warmup; i++) once();
  const samples = new Float64Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    once();
    samples[i] = (performance.now() - start) * 1000;
  }
  return quantiles(samples);
}

export function printTable(title: string, header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((row) => row.map((cell) => (typeof cell === "number" ? format(cell) : cell)))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  console.log(`\n${title}`);
  for (const [index, row] of cells.entries()) {
    console.log("  " + row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("   "));
    if (index === 0) console.log("  " + widths.map((w) => "-".repeat(w)).join("   "));
  }
}

function format(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
