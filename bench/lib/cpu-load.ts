/**
 * CPU time over wall time of a timer loop, with or without an awaited call
 * per tick: what a caller at a UI's rate costs. Read from the kernel's
 * per-thread run times (/proc/<pid>/task/<tid>/schedstat, nanoseconds), so
 * a peer process's threads count as well as this process's.
 */
import { readFileSync, readdirSync } from "node:fs";

/** Nanoseconds the threads of `pid` have run so far (threads that ended are not counted). */
function cpuNanos(pid: number | "self"): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return total;
}

export interface CpuLoad {
  /** Percent of one core: CPU time of this process and `peers` over wall time. */
  percent: number;
  /** Calls made (none for the bare timer). */
  calls: number;
}

/**
 * Runs `call` (awaited, one at a time) `rate` times a second from a
 * setInterval timer for `ms`, or the bare timer when `call` is undefined,
 * and measures the CPU this process and the `peers` processes used.
 */
export async function cpuAtRate(rate: number, ms: number, call: (() => Promise<unknown>) | undefined, peers: number[] = []): Promise<CpuLoad> {
  const cpu = () => cpuNanos("self") + peers.reduce((sum, pid) => sum + cpuNanos(pid), 0);
  let calls = 0;
  let busy = false;
  const began = performance.now();
  const cpuBefore = cpu();
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (performance.now() - began >= ms) {
        clearInterval(timer);
        resolve();
        return;
      }
      if (!call || busy) return;
      busy = true;
      calls++;
      call().then(() => (busy = false), reject);
    }, 1000 / rate);
  });
  const wallNanos = (performance.now() - began) * 1e6;
  return { percent: (100 * (cpu() - cpuBefore)) / wallNanos, calls };
}
