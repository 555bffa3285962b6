/**
 * How long a channel spins before it parks (docs/PROTOCOL.md section 4,
 * "Spin budgets"): the polling loop, and the adaptive budget, the
 * TypeScript twin of the C core's shmrpc_spin_policy_t (c/src/spin_policy.c)
 * with the same rules:
 * 1. The budget starts at the cap (spinMicros) and never exceeds it.
 * 2. A wait that ended while spinning leaves the budget as it is.
 * 3. A wait that parked and ended within the cap of its start doubles the
 *    budget (a longer spin would have caught it); from 0 it grows to a
 *    quarter of the cap.
 * 4. A wait that parked and ended later than 8 times the cap (an idle
 *    peer: a caller at a UI's rate) halves it; below a sixteenth of the
 *    cap it becomes 0, so such a receiver parks at once.
 * 5. A wait in between (a peer a wake-up away) leaves the budget.
 * A fixed policy (spinFixed) always spins the cap.
 */

/** A wait longer than this many caps saw an idle peer (rule 4). */
const IDLE_FACTOR = 8;
/** Ring polls between two clock reads while a channel spins. */
const SPIN_POLLS_PER_CLOCK_READ = 64;

/** Polls `ready` until it holds (true) or performance.now() passes `until` (false). */
export function spinUntil(until: number, ready: () => boolean): boolean {
  do {
    // performance.now() costs several ring polls: look at it less often.
    for (let i = 0; i < SPIN_POLLS_PER_CLOCK_READ; i++) if (ready()) return true;
  } while (performance.now() < until);
  return false;
}

/** A spin policy's state, for stats and tests. */
export interface SpinStats {
  /** What the next wait spins, in microseconds. */
  budgetMicros: number;
  /** The cap: the configured spinMicros. */
  maxMicros: number;
  fixed: boolean;
  /** Waits that ended while spinning. */
  caught: number;
  /** Waits that parked. */
  parked: number;
}

export class SpinPolicy implements SpinStats {
  budgetMicros: number;
  caught = 0;
  parked = 0;

  constructor(
    readonly maxMicros: number,
    readonly fixed = false,
  ) {
    this.budgetMicros = maxMicros;
  }

  /** One wait: `caught` when it ended while spinning, else it parked and lasted `waitedMicros`. */
  observe(caught: boolean, waitedMicros: number): void {
    if (caught) {
      this.caught++;
      return;
    }
    this.parked++;
    if (this.fixed) return;
    const max = this.maxMicros;
    if (waitedMicros <= max) {
      this.budgetMicros = this.budgetMicros === 0 ? max / 4 : Math.min(max, 2 * this.budgetMicros);
    } else if (waitedMicros > max * IDLE_FACTOR) {
      const halved = this.budgetMicros / 2;
      this.budgetMicros = halved < max / 16 ? 0 : halved;
    }
  }

  /** A copy of the state. */
  stats(): SpinStats {
    const { budgetMicros, maxMicros, fixed, caught, parked } = this;
    return { budgetMicros, maxMicros, fixed, caught, parked };
  }
}
