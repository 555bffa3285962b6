/**
 * How long a channel spins before it parks (docs/PROTOCOL.md section 4,
 * "Spin budgets"): the polling loop, and the adaptive budget, the
 * TypeScript twin of the C core's shmrpc_spin_policy_t (c/src/spin_policy.c)
 * with the same rules, checked by the same table
 * (tests/vectors/spin/policy.txt). begin() says how long a wait spins,
 * observe() applies the rules after it. A parked wait's period runs from
 * the end of the previous wait to its own end (its own length when the
 * previous one ended spinning):
 * 1. The budget starts at the cap (spinMicros) and never exceeds it.
 * 2. A wait that ended while spinning leaves the budget as it is.
 * 3. A wait that parked with a period over 8 caps (an idle exchange: a
 *    caller at a UI's rate, on either side) halves it; below a sixteenth
 *    of the cap it becomes 0, so such a side parks at once.
 * 4. Otherwise a wait that parked and ended within the cap of its start
 *    doubles the budget (a longer spin would have caught it); from 0 it
 *    grows to a quarter of the cap.
 * 5. Otherwise (a wake-up paid in a busy exchange) the budget stays.
 * 6. The probe: after 4 rule-5 waits in a row the next wait spins 8 caps,
 *    long enough to span the peer's wake-up and answer; caught, the budget
 *    is back at the cap. Every other wait, and every probe, starts the
 *    count again. A probe that parks (on an oversubscribed machine the
 *    spin only delays the peer) doubles the count the next probe needs,
 *    up to 256; a wait that ends spinning sets it back to 4.
 * A fixed policy (spinFixed) always spins the cap.
 */

/** A period longer than this many caps is an idle exchange (rule 3); a probe spins this many caps (rule 6). */
const IDLE_FACTOR = 8;
/** Rule-5 waits in a row before a probe (rule 6); each probe that parks doubles it, up to PROBE_AFTER_MAX. */
const PROBE_AFTER = 4;
const PROBE_AFTER_MAX = 256;
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
  /** What the next wait spins, in microseconds (unless it probes). */
  budgetMicros: number;
  /** The cap: the configured spinMicros. */
  maxMicros: number;
  fixed: boolean;
  /** Waits that ended while spinning. */
  caught: number;
  /** Waits that parked. */
  parked: number;
  /** Waits that were probes (rule 6). */
  probes: number;
}

export class SpinPolicy implements SpinStats {
  budgetMicros: number;
  caught = 0;
  parked = 0;
  probes = 0;
  /** The wait under way is a probe. */
  private probing = false;
  /** Rule-5 waits in a row. */
  private near = 0;
  /** Rule-5 waits in a row the next probe needs. */
  private probeAfter = PROBE_AFTER;
  /** When the last wait that parked ended (microseconds); 0: unknown. */
  private lastEnd = 0;

  constructor(
    readonly maxMicros: number,
    readonly fixed = false,
  ) {
    this.budgetMicros = maxMicros;
  }

  /**
   * How long the wait that begins now spins, in microseconds: the budget,
   * or 8 caps for a probe. Then report it with observe(); a wait never
   * reported (its condition held at once) changes nothing.
   */
  begin(): number {
    this.probing = !this.fixed && this.maxMicros !== 0 && this.near >= this.probeAfter;
    return this.probing ? this.maxMicros * IDLE_FACTOR : this.budgetMicros;
  }

  /**
   * One wait: `caught` when it ended while spinning (the other arguments
   * unused), else it parked, lasted `waitedMicros` and ended at
   * `endedMicros` (performance.now() * 1000).
   */
  observe(caught: boolean, waitedMicros: number, endedMicros = 0): void {
    const probe = this.probing;
    this.probing = false;
    if (probe) this.probes++;
    const lastEnd = this.lastEnd;
    // A wait that ended spinning: the next one's period is its own length.
    this.lastEnd = caught ? 0 : endedMicros;
    const max = this.maxMicros;
    if (caught) {
      this.caught++;
      this.near = 0;
      this.probeAfter = PROBE_AFTER;
      if (probe && !this.fixed) this.budgetMicros = max;
      return;
    }
    this.parked++;
    if (probe) this.probeAfter = Math.min(PROBE_AFTER_MAX, 2 * this.probeAfter);
    const idle = max * IDLE_FACTOR;
    const period = Math.max(waitedMicros, lastEnd !== 0 && endedMicros > lastEnd ? endedMicros - lastEnd : 0);
    this.near = !probe && waitedMicros > max && period <= idle ? this.near + 1 : 0;
    if (this.fixed) return;
    if (period > idle) {
      const halved = this.budgetMicros / 2;
      this.budgetMicros = halved < max / 16 ? 0 : halved;
    } else if (waitedMicros <= max) {
      this.budgetMicros = this.budgetMicros === 0 ? max / 4 : Math.min(max, 2 * this.budgetMicros);
    }
  }

  /** A copy of the state. */
  stats(): SpinStats {
    const { budgetMicros, maxMicros, fixed, caught, parked, probes } = this;
    return { budgetMicros, maxMicros, fixed, caught, parked, probes };
  }
}
