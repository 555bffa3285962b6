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
}

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

export async function runBrowserBench(rounds: number, throughputMs: number): Promise<BrowserBenchResult> {
  const service = await WasmService.start({ module: "/services/greeter.wasm" });
  const greeter = new GreeterClient(new RpcClient(service.channel));
  const request = { name: "bench" };
  const rpc = await roundTrips(rounds, () => greeter.sayHello(request));
  const rpcCallsPerSecond = await throughput(256, throughputMs, () => greeter.sayHello(request));
  await service.close();

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
  };
}
