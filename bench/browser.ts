/**
 * Browser benchmark, in headless Chromium (Debian's /usr/bin/chromium via
 * playwright-core): awaited unary round trips (p50, p99) and calls/s with
 * 256 in flight from a page to the C greeter compiled to WebAssembly in a
 * Worker, beside postMessage round trips to a Worker of the same page, in
 * the same run.
 *
 *   node build/ts/bench/browser.js [--quick] [--breakdown]     (after scripts/setup.sh)
 *
 * --breakdown adds awaited round trips with the page, the Worker or both
 * kept from spinning (spinMicros / serviceSpinMicros 0), in the same run:
 * what each side's wake-up costs a round trip.
 *
 * A page's performance.now() has 5 µs resolution when cross-origin
 * isolated; round trips are timed one by one, so figures below ~10 µs are
 * coarse.
 */
import { chromium } from "playwright-core";
import { startDevServer } from "../examples/browser/server.js";
import type { BrowserBenchResult } from "./browser/page.js";

const quick = process.argv.includes("--quick");
const breakdown = process.argv.includes("--breakdown");
const server = await startDevServer();
const browser = await chromium.launch({
  executablePath: process.env.SHMRPC_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}index.html`);
  const result: BrowserBenchResult = await page.evaluate(
    async ([rounds, ms, breakdownRounds]) => {
      const { runBrowserBench } = await import("/ts/bench/browser/page.js" as string);
      return runBrowserBench(rounds, ms, breakdownRounds);
    },
    [quick ? 2000 : 20000, quick ? 500 : 3000, breakdown ? (quick ? 1000 : 5000) : 0] as const,
  );
  const us = (value: number) => `${value.toFixed(1)} µs`;
  console.log("Chromium page -> C greeter in a WebAssembly Worker (shmrpc) vs postMessage to a Worker");
  console.log(`  shmrpc sayHello awaited    p50 ${us(result.rpcP50Micros)}   p99 ${us(result.rpcP99Micros)}`);
  console.log(`  postMessage round trip     p50 ${us(result.postMessageP50Micros)}   p99 ${us(result.postMessageP99Micros)}`);
  console.log(`  p50 ratio (postMessage / shmrpc): ${(result.postMessageP50Micros / result.rpcP50Micros).toFixed(1)}x`);
  console.log(`  shmrpc calls/s, 256 in flight: ${Math.round(result.rpcCallsPerSecond).toLocaleString("en")}`);
  const w = result.pageWaits;
  console.log(
    `  the page's waits for ${w.calls} awaited replies: ${w.caught} caught spinning, ${w.parked} parked (${w.probes} probes), ` +
      `budget now ${w.budgetMicros} µs; the page woke the Worker ${w.workerWakeUps} times`,
  );
  for (const row of result.breakdown ?? []) {
    console.log(`  awaited, ${row.label.padEnd(62)} p50 ${us(row.p50Micros)}   p99 ${us(row.p99Micros)}`);
  }
} finally {
  await browser.close();
  await server.close();
}
