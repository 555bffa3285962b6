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
