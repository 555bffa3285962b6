/**
 * The browser benchmark's measurements, run inside a cross-origin isolated
 * Chromium page (bench/browser.ts loads this module there): the C greeter
 * compiled to WebAssembly in a Worker, called with the generated client,
 * beside postMessage round trips to a plain Worker of the same page.
 */
import { RpcClient } from "../../js/src/index.js";
import { WasmService } from "../../js/src/browser.js";
import { GreeterClient } from "../../examples/greeter/gen/greeter_pb.js";

export interface BrowserBenchResult {
  rpcP50Micros: number;
  rpcP99Micros: number;
  rpcCallsPerSecond: number;
  postMessageP50Micros: number;
  postMessageP99Micros: number;
  /** Over the awaited round trips: how the page's waits for replies ended, and how often it woke the Worker. */
  pageWaits: { caught: number; parked: number; probes: number; budgetMicros: number; workerWakeUps: number; calls: number };
  /** --breakdown: awaited p50 with one side or both kept from spinning, same run. */
  breakdown?: Array<{ label: string; p50Micros: number; p99Micros: number }>;
}

/** Spin settings of the breakdown rows: which side's wake-up each removes from a round trip. */
const BREAKDOWN: Array<{ label: string; serviceSpinMicros?: number; pageSpinMicros?: number }> = [
  { label: "both spin (defaults)" },
  { label: "the page parks at once (Atomics.waitAsync per reply)", pageSpinMicros: 0 },
  { label: "the Worker parks at once (memory.atomic.wait32 per request)", serviceSpinMicros: 0 },
  { label: "both park at once", pageSpinMicros: 0, serviceSpinMicros: 0 },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function roundTrips(rounds: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(1000, rounds); i++) await call(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await call();
    samples.push((performance.now() - started) * 1000);
  }
  return samples.sort((a, b) => a - b);
}

/** Calls per second with `inFlight` calls outstanding at all times, for `ms`. */
async function throughput(inFlight: number, ms: number, call: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const until = performance.now() + ms;
  const lane = async () => {
    while (performance.now() < until) {
      await call();
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  return done / ((performance.now() - started) / 1000);
}

/** Awaited sayHello round trips against a new service with these spin settings. */
async function awaitedRoundTrips(rounds: number, settings: { serviceSpinMicros?: number; pageSpinMicros?: number }): Promise<number[]> {
  const service = await WasmService.start({
    module: "/services/greeter.wasm",
    ...(settings.serviceSpinMicros !== undefined && { serviceSpinMicros: settings.serviceSpinMicros }),
    ...(settings.pageSpinMicros !== undefined && { channel: { spinMicros: settings.pageSpinMicros } }),
  });
  const greeter = new GreeterClient(new RpcClient(service.channel));
  const samples = await roundTrips(rounds, () => greeter.sayHello({ name: "bench" }));
  await service.close();
  return samples;
}

export async function runBrowserBench(rounds: number, throughputMs: number, breakdownRounds = 0): Promise<BrowserBenchResult> {
  const service = await WasmService.start({ module: "/services/greeter.wasm" });
  const greeter = new GreeterClient(new RpcClient(service.channel));
  const request = { name: "bench" };
  const spinBefore = service.channel.loopSpinStats;
  const ringsBefore = service.channel.stats.doorbellRings;
  const rpc = await roundTrips(rounds, () => greeter.sayHello(request));
  const spinAfter = service.channel.loopSpinStats;
  const pageWaits = {
    caught: spinAfter.caught - spinBefore.caught,
    parked: spinAfter.parked - spinBefore.parked,
    probes: spinAfter.probes - spinBefore.probes,
    budgetMicros: spinAfter.budgetMicros,
    workerWakeUps: service.channel.stats.doorbellRings - ringsBefore,
    calls: rounds + Math.min(1000, rounds), // roundTrips warms up too
  };
  const rpcCallsPerSecond = await throughput(256, throughputMs, () => greeter.sayHello(request));
  await service.close();
  const breakdown = [];
  if (breakdownRounds > 0) {
    for (const settings of BREAKDOWN) {
      const samples = await awaitedRoundTrips(breakdownRounds, settings);
      breakdown.push({ label: settings.label, p50Micros: percentile(samples, 0.5), p99Micros: percentile(samples, 0.99) });
    }
  }

  const worker = new Worker(new URL("./echo-worker.js", import.meta.url), { type: "module" });
  let answer: (() => void) | undefined;
  worker.onmessage = () => answer!();
  const payload = { name: "bench" };
  const post = await roundTrips(
    rounds,
    () =>
      new Promise<void>((resolve) => {
        answer = resolve;
        worker.postMessage(payload);
      }),
  );
  worker.terminate();
  return {
    rpcP50Micros: percentile(rpc, 0.5),
    rpcP99Micros: percentile(rpc, 0.99),
    rpcCallsPerSecond,
    postMessageP50Micros: percentile(post, 0.5),
    postMessageP99Micros: percentile(post, 0.99),
    pageWaits,
    ...(breakdownRounds > 0 && { breakdown }),
  };
}
