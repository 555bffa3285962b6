/**
 * examples/electron under Node (Electron itself cannot be downloaded here):
 * the page's protocol handler and headers, the lock-down of navigation,
 * windows, <webview> and permissions, the main process's order of calls, and
 * the preload's exposure of the API, which reaches the real greeter service.
 * Fakes stand in only for Electron's objects (app, protocol, session,
 * BrowserWindow, webContents, contextBridge), recording what they are asked.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import ts from "typescript";

// This file runs as build/ts/tests/js/electron-example.test.js.
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const EXAMPLE = path.join(ROOT, "examples/electron");
const require = createRequire(import.meta.url);

interface Security {
  SCHEME: string;
  ORIGIN: string;
  PRIVILEGED_SCHEMES: { scheme: string; privileges: Record<string, boolean> }[];
  ISOLATION_HEADERS: Record<string, string>;
  createPageHandler(dir: string): (request: Request) => Promise<Response>;
  isAppUrl(url: string): boolean;
  lockDown(contents: FakeContents): void;
  denyPermissions(session: FakeSession): void;
}
const security = require(path.join(EXAMPLE, "security.cjs")) as Security;
const { startApp, parseArgs } = require(path.join(EXAMPLE, "app.cjs")) as {
  startApp(electron: unknown, options: { service: string; client: string }): Promise<FakeWindow>;
  parseArgs(argv: string[]): { service: string; client: string };
};

class FakeContents extends EventEmitter {
  windowOpenHandler: (() => { action: string }) | undefined;
  setWindowOpenHandler(handler: () => { action: string }) {
    this.windowOpenHandler = handler;
  }
  /** Emits `name` as Electron would; true if a listener called preventDefault. */
  fire(name: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(name, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

type PermissionHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void) => void;
class FakeSession {
  requestHandler: PermissionHandler | undefined;
  checkHandler: (() => boolean) | undefined;
  setPermissionRequestHandler(handler: PermissionHandler) {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: () => boolean) {
    this.checkHandler = handler;
  }
}

class FakeWindow {
  loaded: string | undefined;
  constructor(readonly options: { webPreferences: Record<string, unknown> }) {}
  loadURL(url: string) {
    this.loaded = url;
    return Promise.resolve();
  }
}

describe("electron example: the page's protocol", () => {
  const pageDir = path.join(EXAMPLE, "page");
  const handler = security.createPageHandler(pageDir);
  const get = (url: string, method = "GET") => handler(new Request(url, { method }));

  test("the scheme is registered standard and secure, not readable cross-origin", () => {
    assert.deepEqual(security.PRIVILEGED_SCHEMES, [
      { scheme: "app", privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
  });

  test("the page and its script come with the cross-origin isolation headers", async () => {
    for (const [url, file, type] of [
      [`${security.ORIGIN}/`, "index.html", "text/html"],
      [`${security.ORIGIN}/index.html`, "index.html", "text/html"],
      [`${security.ORIGIN}/renderer.js`, "renderer.js", "text/javascript"],
    ] as const) {
      const response = await get(url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get("cross-origin-opener-policy"), "same-origin");
      assert.equal(response.headers.get("cross-origin-embedder-policy"), "require-corp");
      assert.equal(response.headers.get("cross-origin-resource-policy"), "same-origin");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.match(response.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      assert.match(response.headers.get("content-type") ?? "", new RegExp(type));
      assert.equal(await response.text(), readFileSync(path.join(pageDir, file), "utf8"));
    }
  });

  test("HEAD answers headers without a body", async () => {
    const response = await get(`${security.ORIGIN}/index.html`, "HEAD");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
  });

  test("nothing outside the page folder, on another host, of another type or by another method", async () => {
    const outside = mkdtempSync(path.join(tmpdir(), "shmrpc-electron-"));
    try {
      // A sibling folder whose name starts like the page folder's.
      writeFileSync(path.join(outside, "secret.html"), "secret");
      const siblingHandler = security.createPageHandler(path.join(outside, "pag"));
      assert.equal((await siblingHandler(new Request(`${security.ORIGIN}/../secret.html`))).status, 404);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
    const refused: [string, number, string?][] = [
      [`${security.ORIGIN}/%2e%2e/README.md`, 404],
      [`${security.ORIGIN}/%2e%2e%2fapp.cjs`, 404],
      [`${security.ORIGIN}/..%2f..%2fpackage.json`, 404],
      [`${security.ORIGIN}/%E0%A4%A`, 400],
      [`${security.ORIGIN}/missing.html`, 404],
      [`${security.ORIGIN}/index.json`, 404],
      [`app://other/index.html`, 404],
      [`${security.ORIGIN}/index.html`, 405, "POST"],
    ];
    for (const [url, status, method] of refused) {
      const response = await get(url, method);
      assert.equal(response.status, status, url);
      assert.equal(response.headers.get("cross-origin-embedder-policy"), "require-corp", url);
    }
  });
});

describe("electron example: lock-down", () => {
  test("navigation stays in the app; new windows and <webview> are refused", () => {
    const contents = new FakeContents();
    security.lockDown(contents);
    assert.equal(contents.fire("will-navigate", `${security.ORIGIN}/index.html`), false);
    for (const url of ["https://example.com/", "file:///etc/passwd", "app://other/", "javascript:alert(1)", "not a url"]) {
      assert.equal(contents.fire("will-navigate", url), true, url);
      assert.equal(contents.fire("will-redirect", url), true, url);
    }
    assert.equal(contents.fire("will-attach-webview", {}, {}), true);
    assert.deepEqual(contents.windowOpenHandler?.(), { action: "deny" });
  });

  test("every permission request and check is refused", () => {
    const session = new FakeSession();
    security.denyPermissions(session);
    const answers: boolean[] = [];
    session.requestHandler?.({}, "media", (granted) => answers.push(granted));
    session.requestHandler?.({}, "notifications", (granted) => answers.push(granted));
    assert.deepEqual(answers, [false, false]);
    assert.equal(session.checkHandler?.(), false);
  });
});

describe("electron example: main process", () => {
  test("scheme before ready; then handler, lock-down, isolated window on app://", async () => {
    const calls: string[] = [];
    const handlers = new Map<string, unknown>();
    const listeners = new Map<string, (...args: unknown[]) => void>();
    let ready!: () => void;
    const session = new FakeSession();
    const electron = {
      app: {
        on: (name: string, listener: (...args: unknown[]) => void) => listeners.set(name, listener),
        whenReady: () => new Promise<void>((resolve) => (ready = resolve)),
        quit: () => calls.push("quit"),
      },
      protocol: {
        registerSchemesAsPrivileged: (schemes: unknown) => {
          calls.push("registerSchemesAsPrivileged");
          assert.deepEqual(schemes, security.PRIVILEGED_SCHEMES);
        },
        handle: (scheme: string, handler: unknown) => {
          calls.push("handle");
          handlers.set(scheme, handler);
        },
      },
      session: { defaultSession: session },
      BrowserWindow: FakeWindow,
    };
    const started = startApp(electron, { service: "svc.so", client: "gen/greeter_pb.js" });
    assert.deepEqual(calls, ["registerSchemesAsPrivileged"], "registered synchronously, before ready");
    ready();
    const window = await started;
    assert.deepEqual(calls, ["registerSchemesAsPrivileged", "handle"]);
    assert.equal(typeof handlers.get("app"), "function");
    assert.ok(session.requestHandler !== undefined, "permissions handled");
    assert.equal(window.loaded, `${security.ORIGIN}/index.html`);
    const prefs = window.options.webPreferences;
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.preload, path.join(EXAMPLE, "preload.mjs"));
    assert.deepEqual(prefs.additionalArguments, [
      `--greeter-service=${path.resolve("svc.so")}`,
      `--greeter-client=${path.resolve("gen/greeter_pb.js")}`,
    ]);
    // Every webContents is locked down as it is created.
    const contents = new FakeContents();
    listeners.get("web-contents-created")?.({}, contents);
    assert.equal(contents.fire("will-navigate", "https://example.com/"), true);
    listeners.get("window-all-closed")?.();
    assert.deepEqual(calls.at(-1), "quit");
  });

  test("the command line names the service and the client", () => {
    assert.deepEqual(parseArgs(["electron", "main.cjs", "--service", "a.so", "--client", "b.js"]), {
      service: "a.so",
      client: "b.js",
    });
    assert.throws(() => parseArgs(["electron", "main.cjs", "--service", "a.so"]), /usage/);
  });
});

describe("electron example: preload", () => {
  test("preload.mjs exposes at the top level with static imports only (nothing awaited first)", () => {
    const file = path.join(EXAMPLE, "preload.mjs");
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const offending: string[] = [];
    const visit = (node: ts.Node, inFunction: boolean) => {
      if (!inFunction && (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier))) {
        offending.push(`top-level await: ${node.getText(source)}`);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        offending.push(`dynamic import: ${node.getText(source)}`);
      }
      const nested = inFunction || ts.isFunctionLike(node);
      ts.forEachChild(node, (child) => visit(child, nested));
    };
    visit(source, false);
    assert.deepEqual(offending, []);
    const topLevelCalls = source.statements
      .filter(ts.isVariableStatement)
      .map((statement) => statement.getText(source));
    assert.ok(topLevelCalls.some((text) => text.includes("exposeGreeter(contextBridge, process.argv)")));
  });

  test("the API is exposed synchronously, works before the service is up, and reaches the C greeter", async () => {
    const { exposeGreeter } = (await import(pathToFileURL(path.join(EXAMPLE, "expose-greeter.mjs")).href)) as {
      exposeGreeter(bridge: unknown, argv: string[]): { close(): Promise<number> };
    };
    const exposed = new Map<string, Record<string, (...args: never[]) => Promise<unknown>>>();
    const bridge = { exposeInMainWorld: (key: string, api: never) => exposed.set(key, api) };
    const argv = [
      `--greeter-service=${path.join(ROOT, "build/cmake/services/libshmrpc_greeter.so")}`,
      `--greeter-client=${path.join(ROOT, "build/ts/examples/greeter/gen/greeter_pb.js")}`,
    ];
    const handle = exposeGreeter(bridge, argv);
    const api = exposed.get("greeter");
    assert.ok(api !== undefined, "exposed before exposeGreeter returned");
    assert.deepEqual(Object.keys(api).sort(), ["sayHello", "streamGreetings"]);
    // Called at once, as a page script running during load would.
    const reply = (await api.sayHello!({ name: "Electron" } as never)) as { message: string };
    assert.equal(reply.message, "Hello, Electron!");
    const seen: number[] = [];
    await api.streamGreetings!({ name: "x", count: 3 } as never, ((g: { sequence: number }) => seen.push(g.sequence)) as never);
    assert.deepEqual(seen, [1, 2, 3]);
    // An RpcError crosses the bridge as a plain Error naming the status.
    await assert.rejects(api.sayHello!({ name: "x" } as never, { timeoutMs: 0 } as never), (error: unknown) => {
      assert.ok(error instanceof Error && error.constructor === Error, "a plain Error");
      assert.match(error.message, /^DEADLINE_EXCEEDED: /);
      return true;
    });
    await assert.rejects(
      api.streamGreetings!({ name: "x", count: 100_000 } as never, (() => {}) as never, { timeoutMs: 1 } as never),
      /^Error: DEADLINE_EXCEEDED: /,
    );
    assert.equal(await handle.close(), 0);
  });

  test("a missing argument is a clear error", async () => {
    const { exposeGreeter } = (await import(pathToFileURL(path.join(EXAMPLE, "expose-greeter.mjs")).href)) as {
      exposeGreeter(bridge: unknown, argv: string[]): unknown;
    };
    assert.throws(() => exposeGreeter({ exposeInMainWorld() {} }, []), /--greeter-service=/);
  });
});
