/**
 * The http-bridge server: the seed's express routes, GET /read and POST
 * /write, whose JSON document lives in a C service, plus the C service's
 * typed Store API for Connect, gRPC and gRPC-Web clients, all on one port.
 * Requests reach C only as typed RPC over shared memory.
 *
 * The store is a C process of its own, served by shmrpc-host, which the
 * bridge attaches to by name; or, without --service, a native thread of
 * this process:
 *
 *   build/cmake/c/shmrpc-host store build/cmake/services/libshmrpc_http_bridge.so &
 *   node build/ts/examples/http-bridge/server.js --service store [--port 8080] [--host 127.0.0.1]
 *   node build/ts/examples/http-bridge/server.js [--library PATH]      # one process
 *
 * See README.md beside this file for curl examples.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import express from "express";
import type { NextFunction, Request, Response } from "express";
import { isRpcError } from "shmrpc";
import { createGateway, type Gateway, type GatewayServer } from "shmrpc/gateway";

import { Store, StoreClient } from "./gen/store_pb.js";
import { StoreLink, connectStoreService, startStoreService, type StoreService } from "./store-link.js";

export interface BridgeOptions {
  /** Attach to the store that `shmrpc-host NAME LIBRARY` serves under this name. Default: none (run `library` in-process). */
  service: string;
  /** Where that host listens (its --runtime-dir). Default: the user's runtime directory. */
  runtimeDir: string;
  /** Without `service`: the store's library, run on a native thread. Default: the one the CMake build makes. */
  library: string;
  /** Default 8080; 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host: string;
  /** Deadline of the seed routes' calls into C, in ms. Default 5000. */
  timeoutMs: number;
  /** After a failed attempt to reach the store, how long requests fail at once before the next attempt, in ms. Default 1000. */
  retryMs: number;
  /** Reaches the C store (tests replace it). Default: connectStoreService(service) or startStoreService(library). */
  open: () => Promise<StoreService>;
}

export interface Bridge {
  readonly url: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly link: StoreLink;
  close(): Promise<void>;
}

/** Built by scripts/setup.sh; relative to the repository root, where the example runs. */
const DEFAULT_LIBRARY = path.resolve(process.env.SHMRPC_SERVICES_DIR ?? "build/cmake/services", "libshmrpc_http_bridge.so");

/** An error response in the Connect protocol's shape, so both kinds of route fail alike. */
function sendError(res: Response, code: Code, message: string, httpStatus = codeToHttpStatus(code)): void {
  // Code.ResourceExhausted -> "resource_exhausted", Connect's names.
  const name = Code[code].replace(/[A-Z]/g, (c, at: number) => (at > 0 ? "_" : "") + c.toLowerCase());
  res.status(httpStatus).json({ code: name, message });
}

/** How the bridge reaches the store: by name from a host process, or in-process. */
function opener(options: Partial<BridgeOptions>): () => Promise<StoreService> {
  if (options.open !== undefined) return options.open;
  const { service, runtimeDir } = options;
  if (service !== undefined) return () => connectStoreService(service, runtimeDir !== undefined ? { runtimeDir } : {});
  const library = options.library ?? DEFAULT_LIBRARY;
  return () => startStoreService(library);
}

export async function startBridge(options: Partial<BridgeOptions> = {}): Promise<Bridge> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const link = new StoreLink(opener(options), options.retryMs ?? 1000);
  // Open it now, so the first request does not wait; a store that is not
  // there yet is tried again by the requests.
  await Promise.resolve(link.client()).catch(() => undefined);
  const gateway = createGateway({ service: Store, client: () => link.client() });

  const failed = (res: Response) => (error: unknown) => {
    if (res.headersSent) return;
    if (isRpcError(error)) sendError(res, error.code as Code, error.statusMessage || error.codeName);
    else sendError(res, Code.Internal, error instanceof Error ? error.message : String(error));
  };
  /** The typed client of the store, after a reconnect if one is due; rejects with UNAVAILABLE. */
  const store = async (): Promise<StoreClient> => new StoreClient(await link.client());

  const app = express();
  app.get("/read", (_req, res) => {
    store()
      .then((s) => s.read({}, { timeoutMs }))
      .then((document) => {
        res.set("X-Document-Version", String(document.version)).type("json").send(document.json);
      })
      .catch(failed(res));
  });
  app.post("/write", express.json({ limit: "32kb", strict: false }), (req, res) => {
    if (!req.is("application/json")) {
      sendError(res, Code.InvalidArgument, "send the document as JSON (Content-Type: application/json)");
      return;
    }
    // As in the seed: the body is stored, and what C stored is sent back.
    const json = JSON.stringify(req.body);
    store()
      .then((s) => s.write({ json }, { timeoutMs }))
      .then((document) => {
        res.set("X-Document-Version", String(document.version)).type("json").send(document.json);
      })
      .catch(failed(res));
  });
  app.use(gateway.middleware);
  // express.json's errors: malformed JSON (400), a body over the limit (413).
  app.use((error: { status?: number; message?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const code = error.status === 413 ? Code.ResourceExhausted : error.status === 400 ? Code.InvalidArgument : Code.Internal;
    sendError(res, code, error.message ?? "error", error.status ?? 500);
  });

  let server: GatewayServer;
  try {
    server = await gateway.listen({ port: options.port ?? 8080, host: options.host ?? "127.0.0.1", http1: app });
  } catch (error) {
    await link.close();
    throw error;
  }
  return {
    url: server.url,
    port: server.port,
    gateway,
    link,
    close: async () => {
      gateway.close();
      await server.close();
      await link.close();
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      service: { type: "string" },
      "runtime-dir": { type: "string" },
      library: { type: "string" },
    },
  });
  if (values.service !== undefined && values.library !== undefined) throw new Error("give --service NAME (a shmrpc-host) or --library PATH (in-process), not both");
  const bridge = await startBridge({
    port: Number(values.port),
    host: values.host,
    ...(values.service !== undefined && { service: values.service }),
    ...(values["runtime-dir"] !== undefined && { runtimeDir: values["runtime-dir"] }),
    ...(values.library !== undefined && { library: values.library }),
  });
  const store = values.service !== undefined ? `the store served as "${values.service}"` : "the store in-process";
  console.log(`http-bridge on ${bridge.url} (${store}): GET /read, POST /write, ${bridge.gateway.paths.join(", ")}`);
  if (bridge.link.runningService === undefined) console.log(`http-bridge: ${bridge.link.reason}; requests will try again`);
  const stop = (): void => void bridge.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
