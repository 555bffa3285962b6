/**
 * The browser example and shmrpc/browser in headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core; one browser for every
 * test): the test page's whole flow, the greeter's calls, a deadline and a
 * cancel that reach the C handler, a Worker terminated mid-call, a client
 * in a Worker, and a page served without cross-origin isolation.
 * Screenshots of the pages go to build/browser/.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { packageRoot } from "../../js/src/native/addon.js";
import { startDevServer, type DevServer } from "../../examples/browser/server.js";

const chromiumPath = process.env.SHMRPC_CHROMIUM ?? "/usr/bin/chromium";
const screenshots = path.join(packageRoot(), "build/browser");
let browser: Browser;
let isolated: DevServer;
let plain: DevServer;

before(async () => {
  fs.mkdirSync(screenshots, { recursive: true });
  [isolated, plain] = await Promise.all([startDevServer(), startDevServer({ isolated: false })]);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await Promise.all([isolated?.close(), plain?.close()]);
});

/** A fresh page; page errors fail the test that reads them. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url);
  return { page, errors };
}

const items = (page: Page, list: string) => page.locator(`${list} li`).allTextContents();

test("test page: send TEXT, BINARY and COMMAND, replies in order, a new buffer size, a message larger than the ring", async () => {
  const { page, errors } = await open(`${isolated.url}test-page.html`);
  await page.waitForSelector("body[data-ring-bytes='1024']");
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  const sendAs = async (type: string, text: string) => {
    await page.selectOption("#frame-type", { label: type });
    await page.fill("#message", text);
    await page.click("#send");
  };
  await sendAs("TEXT", "hello");
  await sendAs("BINARY", "AB");
  await sendAs("COMMAND", '{"op":"ping"}');
  await page.selectOption("#frame-type", { label: "TEXT" });
  await page.fill("#message", "by Enter");
  await page.press("#message", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("#received li").length === 4);
  assert.deepEqual(await items(page, "#received"), ["TEXT hello", "BINARY 2 bytes: 41 42", 'COMMAND {"op":"ping"}', "TEXT by Enter"]);
  assert.equal(await page.inputValue("#message"), "");

  await page.fill("#buffer-size", "256");
  await page.dispatchEvent("#buffer-size", "change");
  await page.waitForSelector("body[data-ring-bytes='256']");
  const large = "0123456789".repeat(300); // 3000 bytes through 256-byte rings
  await sendAs("TEXT", "after resize");
  await sendAs("TEXT", large);
  await page.waitForFunction(() => document.querySelectorAll("#received li").length === 6);
  const replies = await items(page, "#received");
  assert.equal(replies[4], "TEXT after resize");
  assert.equal(replies[5], `TEXT ${large}`);

  await page.fill("#buffer-size", "100");
  await page.dispatchEvent("#buffer-size", "change");
  assert.match((await page.textContent("#status")) ?? "", /power of two/);
  await page.screenshot({ path: path.join(screenshots, "test-page.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("greeter page: unary and streaming calls, a deadline, a cancel, a round-trip figure", async () => {
  const { page, errors } = await open(`${isolated.url}greeter.html`);
  await page.waitForSelector("body[data-generation='1']");
  await page.fill("#name", "Chromium");
  await page.click("#say-hello");
  await page.waitForFunction(() => document.querySelector("#reply")?.textContent !== "");
  assert.equal(await page.textContent("#reply"), "Hello, Chromium!");

  await page.fill("#count", "4");
  await page.click("#stream");
  await page.waitForFunction(() => document.querySelector("#stream-status")?.textContent?.startsWith("done"));
  assert.deepEqual(await items(page, "#greetings"), [1, 2, 3, 4].map((i) => `Hello #${i}, Chromium!`));

  await page.fill("#count", "100000");
  await page.fill("#pace", "20");
  await page.fill("#deadline", "300");
  await page.click("#stream");
  await page.waitForFunction(() => /DEADLINE_EXCEEDED/.test(document.querySelector("#stream-status")?.textContent ?? ""));
  assert.ok((await page.locator("#greetings li").count()) < 100000);

  await page.fill("#deadline", "0");
  await page.click("#stream");
  await page.waitForFunction(() => document.querySelectorAll("#greetings li").length >= 3);
  await page.click("#cancel");
  await page.waitForFunction(() => /CANCELLED/.test(document.querySelector("#stream-status")?.textContent ?? ""));

  await page.waitForFunction(() => /µs/.test(document.querySelector("#round-trip")?.textContent ?? ""), undefined, { timeout: 20000 });
  await page.screenshot({ path: path.join(screenshots, "greeter.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("greeter page: a Worker terminated mid-call fails it with UNAVAILABLE and the page goes on", async () => {
  const { page, errors } = await open(`${isolated.url}greeter.html`);
  await page.waitForSelector("body[data-generation='1']");
  await page.fill("#count", "100000");
  await page.fill("#pace", "20");
  await page.click("#stream");
  await page.waitForFunction(() => document.querySelectorAll("#greetings li").length >= 2);
  await page.click("#terminate");
  await page.waitForFunction(() => /UNAVAILABLE/.test(document.querySelector("#stream-status")?.textContent ?? ""));
  await page.click("#say-hello");
  await page.waitForFunction(() => /UNAVAILABLE|ECLOSED/.test(document.querySelector("#reply")?.textContent ?? ""));
  await page.click("#restart");
  await page.waitForSelector("body[data-generation='2']");
  await page.fill("#name", "again");
  await page.click("#say-hello");
  await page.waitForFunction(() => document.querySelector("#reply")?.textContent === "Hello, again!");
  await page.screenshot({ path: path.join(screenshots, "greeter-after-terminate.png"), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test("a deadline and a cancel reach the C handler (rpc_test_single.wasm, from the page)", async () => {
  const { page } = await open(`${isolated.url}index.html`);
  const result = await page.evaluate(async () => {
    const { RpcClient, RpcError } = await import("/ts/js/src/index.js" as string);
    const { WasmService } = await import("/ts/js/src/browser.js" as string);
    const { RpcTestClient } = await import("/ts/tests/js/gen/rpc_test_pb.js" as string);
    const service = await WasmService.start({ module: "/services/rpc_test_single.wasm" });
    const rpc = new RpcTestClient(new RpcClient(service.channel));
    const timeLeft = String((await rpc.echo({ text: "t" }, { timeoutMs: 5000 })).timeLeftMs);
    // A long string is encoded straight into the ring, which browsers' TextEncoder refuses.
    const long = "é ü ".repeat(500);
    const longEchoed = (await rpc.echo({ text: long })).text === long;
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => "OK",
        (error: unknown) => (error instanceof RpcError ? (error as { code: number }).code : String(error)),
      );
    const deadline = await codeOf(rpc.hang({}, { timeoutMs: 100 }));
    const controller = new AbortController();
    const pending = codeOf(rpc.hang({}, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    const cancel = await pending;
    let hangsCancelled = 0;
    for (let tries = 0; tries < 100 && hangsCancelled < 2; tries++) {
      hangsCancelled = (await rpc.getStats({})).hangsCancelled;
      if (hangsCancelled < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { timeLeft, longEchoed, deadline, cancel, hangsCancelled, status: await service.close() };
  });
  assert.ok(Number(result.timeLeft) > 0 && Number(result.timeLeft) <= 5000, `time left ${result.timeLeft}`);
  assert.equal(result.longEchoed, true);
  assert.equal(result.deadline, 4); // DEADLINE_EXCEEDED
  assert.equal(result.cancel, 1); // CANCELLED
  assert.equal(result.hangsCancelled, 2); // both hooks ran in C
  assert.equal(result.status, 0);
  await page.close();
});

test("the portable entry and shmrpc/browser work in a Worker (a client Worker starting the service's Worker)", async () => {
  const { page } = await open(`${isolated.url}index.html`);
  const reply = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const worker = new Worker("/ts/tests/browser/client-worker.js", { type: "module" });
        worker.onmessage = (event) => resolve(event.data);
        worker.onerror = (event: ErrorEvent) => resolve({ error: event.message });
      }),
  );
  assert.deepEqual(reply, { text: "from a Worker", status: 0 });
  await page.close();
});

test("a page served without COOP/COEP says it must be cross-origin isolated", async () => {
  const { page } = await open(`${plain.url}test-page.html`);
  await page.waitForSelector("#status.error");
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  assert.match((await page.textContent("#status")) ?? "", /SharedArrayBuffer is not available: .*cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  await page.screenshot({ path: path.join(screenshots, "not-isolated.png"), fullPage: true });
  await page.close();
});
