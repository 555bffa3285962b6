/**
 * The portable entry bundled, as an application ships it (issue #15: "in a
 * page and in a Worker, bundled or as plain ES modules"): esbuild bundles
 * the greeter page's client (examples/browser/greeter-page.ts: shmrpc,
 * shmrpc/browser and the generated GreeterClient, imported by their
 * package names) into one script, and the service's Worker
 * (shmrpc/browser/worker) into another beside it, where WasmService looks
 * for it (new URL("./worker.js", import.meta.url)). The page is served
 * without an import map and driven in headless Chromium; it must load
 * nothing but the two bundles and the .wasm. browser.test.ts covers the
 * plain ES modules.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { packageRoot } from "../../js/src/native/addon.js";
import { startDevServer, type DevServer } from "../../examples/browser/server.js";

const root = packageRoot();
const out = path.join(root, "build/browser-bundle"); // served as /bundle/
const screenshots = path.join(root, "build/browser");
let browser: Browser;
let server: DevServer;

/** Bundles the page and the Worker with esbuild into build/browser-bundle, with a page that loads them. */
async function bundleGreeterPage(): Promise<void> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, "entries"), { recursive: true });
  // The Worker's entry by its package name, as an application names it.
  const workerEntry = path.join(out, "entries/worker.js");
  fs.writeFileSync(workerEntry, 'import "shmrpc/browser/worker";\n');
  const result = await build({
    entryPoints: { "greeter-page": path.join(root, "build/ts/examples/browser/greeter-page.js"), worker: workerEntry },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outdir: out,
    logLevel: "silent",
  });
  assert.deepEqual(result.errors, []);
  const html = fs
    .readFileSync(path.join(root, "examples/browser/public/greeter.html"), "utf8")
    .replace(/<script type="importmap">[\s\S]*?<\/script>\n/, "")
    .replace('src="/ts/examples/browser/greeter-page.js"', 'src="greeter-page.js"')
    .replace('href="style.css"', 'href="/style.css"');
  assert.doesNotMatch(html, /importmap|\/ts\//);
  fs.writeFileSync(path.join(out, "greeter.html"), html);
}

before(async () => {
  fs.mkdirSync(screenshots, { recursive: true });
  await bundleGreeterPage();
  server = await startDevServer();
  browser = await chromium.launch({ executablePath: process.env.SHMRPC_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("esbuild's bundles hold the whole client: no import of a module is left", () => {
  for (const name of ["greeter-page.js", "worker.js"]) {
    const text = fs.readFileSync(path.join(out, name), "utf8");
    assert.doesNotMatch(text, /^\s*import\s[^(]*from\s*["']/m, `${name} still imports a module`);
    assert.doesNotMatch(text, /["']shmrpc(\/[a-z/]+)?["']/, `${name} still names a shmrpc entry`);
  }
});

test("the bundled greeter page: unary and streaming calls against the C greeter in the bundled Worker", async () => {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  const errors: string[] = [];
  const loaded: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  // Requests of the page and of its Workers (the Worker script, the .wasm).
  page.context().on("request", (request) => loaded.push(new URL(request.url()).pathname));
  await page.goto(`${server.url}bundle/greeter.html`);
  await page.waitForSelector("body[data-generation='1']");
  await page.fill("#name", "bundled");
  await page.click("#say-hello");
  await page.waitForFunction(() => document.querySelector("#reply")?.textContent !== "");
  assert.equal(await page.textContent("#reply"), "Hello, bundled!");
  await page.fill("#count", "3");
  await page.click("#stream");
  await page.waitForFunction(() => document.querySelector("#stream-status")?.textContent?.startsWith("done"));
  assert.deepEqual(await page.locator("#greetings li").allTextContents(), [1, 2, 3].map((i) => `Hello #${i}, bundled!`));
  await page.screenshot({ path: path.join(screenshots, "greeter-bundled.png"), fullPage: true });
  assert.deepEqual(errors, []);
  const scripts = loaded.filter((pathname) => pathname.endsWith(".js"));
  assert.deepEqual(scripts.sort(), ["/bundle/greeter-page.js", "/bundle/worker.js"], `scripts loaded: ${scripts.join(", ")}`);
  assert.ok(loaded.includes("/services/greeter.wasm"), loaded.join(", "));
  await page.close();
});
