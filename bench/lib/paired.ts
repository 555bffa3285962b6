/**
 * Throughput of several operations measured in paired rounds: short rounds
 * that take every operation in turn, so that a ratio of two rates from one
 * round is measured on the same machine. The VM's speed drifts by up to 2x
 * for seconds at a time (more while other work loads its cores); the
 * medians of the within-round ratios are what can be compared.
 */

/**
 * A timing loop of its own for each operation (compiled from source), so
 * that every implementation's call site stays monomorphic. Returns ops/s.
 */
export function rateOf(op: () => unknown): (ms: number) => number {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(
    "op",
    `return function rate(ms) {
      let count = 0;
      const start = performance.now();
      const end = start + ms;
      let now = start;
      while (now < end) {
        for (let i = 0; i < 32; i++) op();
        count += 32;
        now = performance.now();
      }
      return count / ((now - start) / 1000);
    };`,
  )(op) as (ms: number) => number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

export interface Comparison {
  /** Median throughput of each operation over the rounds, ops/s. */
  rates: number[];
  /** Median over the rounds of the first operation's rate / each one's, measured in the same round. */
  ratios: number[];
}

/**
 * Unmeasured time per operation before the rounds, at least: V8 optimizes
 * in a background thread, which a loaded machine delays.
 */
const MIN_WARMUP_MS = 250;

/**
 * `rounds` rounds of `roundMs` per operation, each round starting with the
 * next operation; ratios are the first operation's against each one.
 */
export function compare(ops: (() => unknown)[], rounds: number, roundMs: number): Comparison {
  const rates = ops.map(rateOf);
  const perRound = ops.map((): number[] => []);
  for (const rate of rates) rate(Math.max(roundMs, MIN_WARMUP_MS));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < ops.length; k++) {
      const i = (r + k) % ops.length;
      perRound[i]!.push(rates[i]!(roundMs));
    }
  }
  const ours = perRound[0]!;
  return {
    rates: perRound.map(median),
    ratios: perRound.map((theirs) => median(ours.map((rate, r) => rate / theirs[r]!))),
  };
}
