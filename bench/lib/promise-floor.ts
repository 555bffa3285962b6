/**
 * The JavaScript floor under bench/rpc's calls per second: the same lanes
 * of awaited calls, each call a bare promise that a "reply pump" settles,
 * all that are pending at once, every turn of the event loop. No transport,
 * no codec, no call table: what awaiting costs on this machine, beside
 * what a shmrpc call costs on top of it.
 */

/** Calls per second with `inFlight` lanes of awaited bare promises for `ms` (after a warm-up of ms / 2). */
export async function promiseFloor(inFlight: number, ms: number): Promise<number> {
  const reply = { data: new Uint8Array(16) };
  let pending: Array<(value: typeof reply) => void> = [];
  let pumping = true;
  const pump = () => {
    const settling = pending;
    pending = [];
    for (const resolve of settling) resolve(reply);
    if (pumping) setImmediate(pump);
  };
  const call = () => new Promise<typeof reply>((resolve) => pending.push(resolve));
  const run = async (runMs: number): Promise<number> => {
    let completed = 0;
    const end = performance.now() + runMs;
    const lane = async () => {
      do {
        for (let i = 0; i < 16; i++) await call();
        completed += 16;
      } while (performance.now() < end);
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return completed;
  };
  setImmediate(pump);
  try {
    await run(ms / 2);
    const began = performance.now();
    const completed = await run(ms);
    return completed / ((performance.now() - began) / 1000);
  } finally {
    pumping = false;
  }
}
