/**
 * The browser example's dev server: static files with the headers that
 * make a page cross-origin isolated (SharedArrayBuffer needs them).
 *
 *   node build/ts/examples/browser/server.js [--port 8080] [--no-isolation]
 *
 * Serves, from the repository root (run scripts/setup.sh first):
 *   /            examples/browser/public/ (the pages)
 *   /ts/         build/ts/ (the package's ES modules, the pages' scripts,
 *                the generated greeter client)
 *   /services/   build/wasm/services/ (echo.wasm, greeter.wasm, ...)
 *   /bundle/     build/browser-bundle/ (what tests/browser/bundle.test.ts
 *                bundles with esbuild: the greeter page as one script)
 * --no-isolation leaves out COOP and COEP, to see the error a page without
 * them gets.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

const mounts: ReadonlyArray<[prefix: string, dir: string]> = [
  ["/ts/", path.join(root, "build/ts")],
  ["/services/", path.join(root, "build/wasm/services")],
  ["/bundle/", path.join(root, "build/browser-bundle")],
  ["/", path.join(root, "examples/browser/public")],
];

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".wasm": "application/wasm",
};

export interface DevServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Send COOP same-origin and COEP require-corp (default true). */
  isolated?: boolean;
}

export interface DevServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The file a URL path names, or undefined when it is outside every mount. */
function fileFor(urlPath: string): string | undefined {
  const decoded = decodeURIComponent(urlPath);
  for (const [prefix, dir] of mounts) {
    if (!decoded.startsWith(prefix)) continue;
    const file = path.resolve(dir, "." + decoded.slice(prefix.length - 1));
    if (file !== dir && !file.startsWith(dir + path.sep)) return undefined;
    return decoded.endsWith("/") ? path.join(file, "index.html") : file;
  }
  return undefined;
}

export function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const isolated = options.isolated ?? true;
  const server = http.createServer(async (request, response) => {
    const headers: Record<string, string> = { "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store" };
    if (isolated) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
    }
    let file: string | undefined;
    try {
      file = fileFor(new URL(request.url ?? "/", "http://localhost").pathname);
    } catch {
      file = undefined; // a malformed escape
    }
    const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
    if (file === undefined || info === undefined || !info.isFile() || request.method !== "GET") {
      response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    response.writeHead(200, {
      ...headers,
      "Content-Type": types[path.extname(file)] ?? "application/octet-stream",
      "Content-Length": info.size,
    });
    createReadStream(file).pipe(response);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--port");
  const port = at > 0 ? Number(process.argv[at + 1]) : 8080;
  const server = await startDevServer({ port, isolated: !process.argv.includes("--no-isolation") });
  console.log(`shmrpc browser example: ${server.url} (test page: ${server.url}test-page.html, greeter: ${server.url}greeter.html)`);
}
