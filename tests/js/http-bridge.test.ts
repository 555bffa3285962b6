/**
 * examples/http-bridge end to end: the seed's GET /read and POST /write and
 * the Store service's Connect, gRPC and gRPC-Web routes over real HTTP on
 * 127.0.0.1, with the C store in a process of its own (shmrpc-host, which
 * the bridge attaches to by name) behind shared memory; stock clients
 * (fetch, curl, @connectrpc/connect-node, @grpc/grpc-js) built from
 * protoc's own descriptors of store.proto. The host killed with SIGKILL
 * mid-traffic and restarted; the store in-process, dying and restarting.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import v8 from "node:v8";
import vm from "node:vm";

import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";

import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient } from "../../js/src/rpc/index.js";
import { startBridge, type Bridge, type BridgeOptions } from "../../examples/http-bridge/server.js";
import { StoreClient } from "../../examples/http-bridge/gen/store_pb.js";
import { killHost, serviceLibrary, startHost, stopHost, type HostProcess } from "./helpers/host-process.js";
import { FLAVOURS, GrpcJsClient, connectClient, curl, protocRegistry, serviceOf } from "./helpers/stock-clients.js";

const root = packageRoot();
const StoreDesc = serviceOf(protocRegistry(path.join(root, "examples/http-bridge"), "store.proto"), "bridge.Store");
const library = serviceLibrary("libshmrpc_http_bridge.so");

type AnyClient = Record<string, (request: object, options?: object) => unknown>;

let runtimeDir = "";
let counter = 0;

/** A shmrpc-host serving the store under a fresh name. */
async function storeHost(t: TestContext): Promise<HostProcess> {
  const host = await startHost(`bridge${process.pid}-${counter++}`, library, runtimeDir);
  t.after(() => stopHost(host.host));
  return host;
}

/**
 * A bridge on a free port. By default its store is a fresh shmrpc-host
 * process that the bridge attaches to by name; `service` or `library`
 * (in-process) in the options choose otherwise.
 */
async function start(t: TestContext, options: Partial<BridgeOptions> = {}): Promise<Bridge> {
  const own = options.service === undefined && options.library === undefined ? { service: (await storeHost(t)).name } : {};
  const bridge = await startBridge({ port: 0, runtimeDir, ...own, ...options });
  t.after(() => bridge.close());
  return bridge;
}

/** The store called directly over shared memory, beside the HTTP routes. */
function direct(bridge: Bridge): StoreClient {
  const client = bridge.link.client();
  assert.ok(client instanceof RpcClient, "the store is open");
  return new StoreClient(client);
}

/** True when the last Watch started with at most `ms` (and more than 0) left until its deadline. */
async function deadlineSeen(store: StoreClient, ms: number): Promise<boolean> {
  const { lastWatchDeadlineMs } = await store.stats({});
  return lastWatchDeadlineMs > 0n && lastWatchDeadlineMs <= BigInt(ms);
}

/**
 * Waits until `count` watches have ended in C and none is open. A watch
 * that the client did not cancel ends by its deadline: C's own timer, or
 * the CANCEL the client sends at the same deadline, which on a loaded
 * machine can arrive before C's timer (C counts the two apart only within
 * 20 ms), so the two counters are taken together.
 */
async function watchesEnded(store: StoreClient, count: number): Promise<void> {
  for (let i = 0; ; i++) {
    const stats = await store.stats({});
    if (stats.watchers === 0 && stats.watchesExpired + stats.watchesCancelled >= count) return;
    assert.ok(i < 400, `C still has ${stats.watchers} watches open, ${stats.watchesExpired + stats.watchesCancelled} ended`);
    await sleep(5);
  }
}

function postJson(url: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json" }, ...(signal && { signal }) });
}

describe("examples/http-bridge", { timeout: 120000 }, () => {
  before(() => {
    runtimeDir = mkdtempSync(path.join(tmpdir(), "shmrpc-bridge-"));
  });
  after(() => rmSync(runtimeDir, { recursive: true, force: true }));

  test("seed: POST /write stores the JSON body in C, GET /read reads it back", async (t) => {
    const bridge = await start(t);
    const empty = await fetch(`${bridge.url}/read`);
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), {});

    const document = { name: "shmrpc", list: [1, 2, 3], nested: { ok: true, text: "héllo ✓" } };
    const written = await postJson(`${bridge.url}/write`, JSON.stringify(document));
    assert.equal(written.status, 200);
    assert.equal(written.headers.get("x-document-version"), "1");
    assert.deepEqual(await written.json(), document);

    const read = await fetch(`${bridge.url}/read`);
    assert.deepEqual(await read.json(), document);
    // It is C's copy: the typed Read over shared memory sees the same text and version.
    const stored = await direct(bridge).read({});
    assert.equal(stored.json, JSON.stringify(document));
    assert.equal(stored.version, 1n);
    assert.ok(stored.updatedAt !== undefined && stored.updatedAt.seconds > 0n);

    // And the typed route shows it in proto3 JSON: uint64 as a string, a Timestamp as RFC 3339.
    const typed = await postJson(`${bridge.url}/bridge.Store/Read`, "{}");
    const body = (await typed.json()) as { json: string; version: string; updatedAt: string };
    assert.equal(body.json, JSON.stringify(document));
    assert.equal(body.version, "1");
    assert.match(body.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test("seed routes with curl, and their errors: bad JSON 400, too large 413, not JSON 400", async (t) => {
    const bridge = await start(t);
    const written = await curl(["-H", "Content-Type: application/json", "-d", '{"from":"curl"}', `${bridge.url}/write`]);
    assert.equal(written.status, 200);
    assert.deepEqual(JSON.parse(written.body), { from: "curl" });
    const read = await curl([`${bridge.url}/read`]);
    assert.deepEqual(JSON.parse(read.body), { from: "curl" });

    const bad = await postJson(`${bridge.url}/write`, '{"from": ');
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, "invalid_argument");
    const large = await postJson(`${bridge.url}/write`, JSON.stringify({ blob: "x".repeat(40000) }));
    assert.equal(large.status, 413);
    assert.equal(((await large.json()) as { code: string }).code, "resource_exhausted");
    const text = await fetch(`${bridge.url}/write`, { method: "POST", body: "hello", headers: { "Content-Type": "text/plain" } });
    assert.equal(text.status, 400);
    await text.arrayBuffer();
    // Nothing of that reached the document.
    assert.deepEqual(await (await fetch(`${bridge.url}/read`)).json(), { from: "curl" });
  });

  test("C's own limit: a document C refuses is RESOURCE_EXHAUSTED with C's message", async (t) => {
    const bridge = await start(t);
    // Through the typed route the gateway's limit (4 MiB) lets it through; C refuses it.
    const response = await postJson(`${bridge.url}/bridge.Store/Write`, JSON.stringify({ json: JSON.stringify({ blob: "y".repeat(40000) }) }));
    assert.equal(response.status, 429);
    const error = (await response.json()) as { code: string; message: string };
    assert.equal(error.code, "resource_exhausted");
    assert.match(error.message, /over the store's 32768/);
  });

  for (const flavour of FLAVOURS) {
    test(`${flavour}: typed Put, Get, List and NOT_FOUND`, async (t) => {
      const bridge = await start(t);
      const store = connectClient(StoreDesc, flavour, bridge.url) as unknown as AnyClient;
      const put = (await store.put!({ key: "user/1", value: new TextEncoder().encode("ada"), kind: 1 })) as { revision: bigint; kind: number };
      assert.equal(put.revision, 1n);
      await store.put!({ key: "user/2", value: Uint8Array.of(0, 255), kind: 2 });
      await store.put!({ key: "other", value: new Uint8Array(0) });
      const got = (await store.get!({ key: "user/1" })) as { value: Uint8Array; kind: number };
      assert.equal(new TextDecoder().decode(got.value), "ada");
      assert.equal(got.kind, 1);
      const listed = (await store.list!({ prefix: "user/" })) as { entries: { key: string }[] };
      assert.deepEqual(listed.entries.map((e) => e.key), ["user/1", "user/2"]);
      await assert.rejects(store.get!({ key: "nobody" }) as Promise<unknown>, (error: unknown) => {
        const e = ConnectError.from(error);
        return e.code === Code.NotFound && e.rawMessage === "no entry nobody";
      });
      await assert.rejects(store.put!({ key: "" }) as Promise<unknown>, (error: unknown) => ConnectError.from(error).code === Code.InvalidArgument);
    });
  }

  test("curl on the typed routes: proto3 JSON (bytes base64, enums by name, int64 as strings)", async (t) => {
    const bridge = await start(t);
    const json = ["-H", "Content-Type: application/json"];
    const put = await curl([...json, "-d", '{"key":"k","value":"aGk=","kind":"VALUE_KIND_TEXT"}', `${bridge.url}/bridge.Store/Put`]);
    assert.equal(put.status, 200);
    const entry = JSON.parse(put.body) as Record<string, unknown>;
    assert.equal(entry.key, "k");
    assert.equal(entry.value, "aGk=");
    assert.equal(entry.kind, "VALUE_KIND_TEXT");
    assert.equal(entry.revision, "1");
    const missing = await curl([...json, "-d", '{"key":"none"}', `${bridge.url}/bridge.Store/Get`]);
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { code: "not_found", message: "no entry none" });
    // Unknown enum names are ignored as unknown fields are (Connect's default); a wrong type is not.
    const badKind = await curl([...json, "-d", '{"key":"k","kind":true}', `${bridge.url}/bridge.Store/Put`]);
    assert.equal(badKind.status, 400);
    assert.equal((JSON.parse(badKind.body) as { code: string }).code, "invalid_argument");
  });

  test("Watch streams existing entries, then each Put, to every kind of client", async (t) => {
    const bridge = await start(t);
    const store = direct(bridge);
    await store.put({ key: "w/a", value: Uint8Array.of(1) });
    const grpcJs = new GrpcJsClient(`127.0.0.1:${bridge.port}`, StoreDesc);
    t.after(() => grpcJs.close());
    const controllers = FLAVOURS.map(() => new AbortController());
    const seen = FLAVOURS.map(() => [] as string[]);
    const readers = FLAVOURS.map(async (flavour, i) => {
      const client = connectClient(StoreDesc, flavour, bridge.url) as unknown as AnyClient;
      try {
        for await (const event of client.watch!({ prefix: "w/" }, { signal: controllers[i]!.signal }) as AsyncIterable<{ entry: { key: string }; existing: boolean }>) {
          seen[i]!.push(`${event.existing ? "had" : "put"} ${event.entry.key}`);
          if (seen[i]!.length === 3) controllers[i]!.abort();
        }
      } catch (error) {
        assert.equal(ConnectError.from(error).code, Code.Canceled);
      }
    });
    const grpcSeen: string[] = [];
    const grpcStream = grpcJs.serverStream("Watch", { prefix: "w/" });
    const grpcDone = new Promise<void>((resolve) => {
      grpcStream.on("data", (event: { entry: { key: string }; existing: boolean }) => {
        grpcSeen.push(`${event.existing ? "had" : "put"} ${event.entry.key}`);
        if (grpcSeen.length === 3) grpcStream.cancel();
      });
      grpcStream.on("error", (error: grpc.ServiceError) => (assert.equal(error.code, grpc.status.CANCELLED), resolve()));
    });
    // Every watch is registered in C before the Puts.
    for (let i = 0; (await store.stats({})).watchers < FLAVOURS.length + 1; i++) {
      assert.ok(i < 400, "the watches never started");
      await sleep(5);
    }
    await store.put({ key: "w/b" });
    await store.put({ key: "x/ignored" });
    await store.put({ key: "w/c" });
    await Promise.all([...readers, grpcDone]);
    for (const events of [...seen, grpcSeen]) assert.deepEqual(events, ["had w/a", "put w/b", "put w/c"]);
    // C saw every cancel: no watcher left, no call in flight.
    for (let i = 0; ; i++) {
      const stats = await store.stats({});
      if (stats.watchers === 0 && stats.callsInFlight === 0) {
        assert.equal(stats.watchesCancelled, FLAVOURS.length + 1);
        break;
      }
      assert.ok(i < 400, `C still has ${stats.watchers} watchers, ${stats.callsInFlight} calls`);
      await sleep(5);
    }
    assert.equal(bridge.gateway.stats.callsInFlight, 0);
  });

  test("a deadline reaches the C handler: Watch sees it and ends by it", async (t) => {
    const bridge = await start(t);
    const store = direct(bridge);
    // A Connect stream: enveloped messages (flags byte, u32 length, JSON), ending with an
    // end-of-stream message that carries the error; the HTTP status is 200.
    const watch = await curl(["-H", "Content-Type: application/connect+json", "-H", "Connect-Timeout-Ms: 300",
      "--data-binary", "@-", `${bridge.url}/bridge.Store/Watch`], Buffer.from([0, 0, 0, 0, 2, 0x7b, 0x7d]));
    assert.equal(watch.status, 200);
    assert.match(watch.body, /"code":"deadline_exceeded"/);
    assert.ok(await deadlineSeen(store, 300), "C saw the 300 ms deadline");
    await watchesEnded(store, 1);

    const grpcJs = new GrpcJsClient(`127.0.0.1:${bridge.port}`, StoreDesc);
    t.after(() => grpcJs.close());
    const stream = grpcJs.serverStream("Watch", {}, { deadline: Date.now() + 250 });
    const code = await new Promise<number>((resolve) => {
      stream.on("data", () => undefined);
      stream.on("error", (error: grpc.ServiceError) => resolve(error.code));
    });
    assert.equal(code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(await deadlineSeen(store, 250), "C saw the 250 ms deadline");
    await watchesEnded(store, 2);
  });

  test("the command line: --service NAME attaches to a shmrpc-host; starts, serves, stops on SIGTERM", async (t) => {
    const host = await storeHost(t);
    const server = spawn(process.execPath, [path.join(root, "build/ts/examples/http-bridge/server.js"), "--port", "0", "--service", host.name, "--runtime-dir", runtimeDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    t.after(() => void (server.exitCode === null && server.kill("SIGKILL")));
    const [line] = (await once(createInterface({ input: server.stdout! }), "line")) as [string];
    const url = /on (http:\/\/[^:]+:\d+) /.exec(line)?.[1];
    assert.ok(url, line);
    assert.match(line, new RegExp(`the store served as "${host.name}"`));
    assert.match(line, /GET \/read, POST \/write, \/bridge.Store\/Read/);
    const written = await postJson(`${url}/write`, '{"cli":true}');
    assert.deepEqual(await written.json(), { cli: true });
    assert.match(host.log(), new RegExp(`connect pid=${server.pid} `));
    server.kill("SIGTERM");
    const [code] = (await once(server, "exit")) as [number];
    assert.equal(code, 0);
    await until(() => host.log().includes(`disconnect pid=${server.pid} `), "the host to see the bridge go");
  });

  test("no store process: every route answers 503 with the reason, until the host starts", async (t) => {
    const name = `bridge${process.pid}-${counter++}`;
    const bridge = await start(t, { service: name, retryMs: 100 });
    const read = await fetch(`${bridge.url}/read`);
    assert.equal(read.status, 503);
    const error = (await read.json()) as { code: string; message: string };
    assert.equal(error.code, "unavailable");
    assert.match(error.message, /cannot reach the store: ENOSERVER: no server: .*\.sock does not exist/);
    const typed = await postJson(`${bridge.url}/bridge.Store/Get`, '{"key":"a"}');
    assert.equal(typed.status, 503);
    assert.match(((await typed.json()) as { message: string }).message, /cannot reach the store/);
    assert.equal((await postJson(`${bridge.url}/write`, "{}")).status, 503);

    const host = await startHost(name, library, runtimeDir);
    t.after(() => stopHost(host.host));
    assert.deepEqual(await readWhenBack(bridge), {});
  });

  test("the store's host killed with SIGKILL mid-traffic: 503 / UNAVAILABLE, nothing leaks, served again once the host is back", async (t) => {
    const first = await storeHost(t);
    const bridge = await start(t, { service: first.name, retryMs: 100 });
    const before = descriptors();
    assert.equal((await postJson(`${bridge.url}/write`, '{"before":"kill"}')).status, 200);
    let store = bridge.link.client() as RpcClient | undefined;
    assert.ok(store instanceof RpcClient);

    // A gRPC Watch stays open across the kill.
    const watching = (await watchOverGrpc(bridge)).ended;

    // Eight clients, each cycling through the seed routes and a typed Put.
    const statuses = new Map<string, number>();
    let stop = false;
    const traffic = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const which = i % 3;
        const signal = AbortSignal.timeout(5000); // a request that hangs fails the test
        const response =
          which === 0
            ? await postJson(`${bridge.url}/write`, JSON.stringify({ c, i }), signal)
            : which === 1
              ? await fetch(`${bridge.url}/read`, { signal })
              : await postJson(`${bridge.url}/bridge.Store/Put`, JSON.stringify({ key: `k/${c}`, value: "AA==" }), signal);
        const body = (await response.json()) as { code?: string };
        const key = response.status === 200 ? "200" : `${response.status} ${body.code}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    });
    for (let i = 0; (statuses.get("200") ?? 0) < 100; i++) {
      assert.ok(i < 2000, "no traffic got through");
      await sleep(5);
    }
    const okBeforeKill = statuses.get("200")!;
    await killHost(first.host);
    await assert.rejects(watching, (error: unknown) => ConnectError.from(error).code === Code.Unavailable);
    const killedAt = statuses.get("200") ?? 0;
    await sleep(300);
    stop = true;
    await Promise.all(traffic);

    // Only successes (before the kill) and Connect's 503 "unavailable".
    assert.deepEqual([...statuses.keys()].sort(), ["200", "503 unavailable"], JSON.stringify([...statuses]));
    assert.ok(okBeforeKill >= 100 && statuses.get("503 unavailable")! > 0);
    assert.ok((statuses.get("200") ?? 0) - killedAt <= 8, "requests succeeded long after the kill");
    // Nothing left in flight: the gateway, the dead connection's client.
    assert.equal(bridge.gateway.stats.callsInFlight, 0);
    assert.equal(store.callsInFlight, 0);
    store = undefined; // the last reference here to the dead segment
    assert.equal(bridge.link.runningService, undefined);
    // The connection's socket and eventfd are closed.
    assert.deepEqual(descriptors(), { ...before, eventfd: before.eventfd - 1, unix: before.unix - 1 });

    // The host comes back (its stale socket is replaced): the next request reconnects.
    const second = await startHost(first.name, library, runtimeDir);
    t.after(() => stopHost(second.host));
    assert.deepEqual(await readWhenBack(bridge), {}, "the new store process starts empty");
    assert.equal((await postJson(`${bridge.url}/write`, '{"after":"restart"}')).status, 200);
    assert.deepEqual(await (await fetch(`${bridge.url}/read`)).json(), { after: "restart" });
    assert.match(second.log(), new RegExp(`connect pid=${process.pid} `));
    // The dead segment is unmapped once its SharedArrayBuffer is collected.
    // (The codec's shared reader holds the last input it decoded until the
    // next decode, so this is checked after replies from the new segment.)
    for (let i = 0; segmentMappings() !== 1; i++) {
      assert.ok(i < 50, `${segmentMappings()} segments mapped, 1 expected (the new connection's)`);
      gc();
      await sleep(20);
    }
  });

  test("in-process store (--library): a store that dies fails its calls with UNAVAILABLE, and the next request starts a fresh one", async (t) => {
    const bridge = await start(t, { library, retryMs: 200 });
    await postJson(`${bridge.url}/write`, '{"before":"crash"}');
    const watching = (await watchOverGrpc(bridge)).ended;
    await bridge.link.runningService!.close();
    await assert.rejects(watching, (error: unknown) => ConnectError.from(error).code === Code.Unavailable);
    assert.equal(bridge.gateway.stats.callsInFlight, 0);
    assert.equal(bridge.link.runningService, undefined);
    assert.match(bridge.link.reason, /the store (closed|is gone)/);
    assert.deepEqual(await readWhenBack(bridge), {}, "a new store starts empty");
  });

  test("a missing in-process library: 503 with the reason", async (t) => {
    const bridge = await start(t, { library: path.join(root, "build/no-such-service.so"), retryMs: 60000 });
    const read = await fetch(`${bridge.url}/read`);
    assert.equal(read.status, 503);
    assert.match(((await read.json()) as { message: string }).message, /cannot reach the store/);
  });
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; !check(); i++) {
    assert.ok(i < 400, `timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A gRPC Watch of everything, once C has it open; settles when the stream ends. */
async function watchOverGrpc(bridge: Bridge): Promise<{ ended: Promise<void> }> {
  const watcher = connectClient(StoreDesc, "grpc", bridge.url) as unknown as AnyClient;
  const watching = (async () => {
    for await (const event of watcher.watch!({}) as AsyncIterable<unknown>) void event;
  })();
  watching.catch(() => undefined); // the caller awaits it; no unhandled rejection meanwhile
  for (let i = 0; (await direct(bridge).stats({})).watchers < 1; i++) {
    assert.ok(i < 400, "the watch never started");
    await sleep(5);
  }
  return { ended: watching };
}

/** GET /read until the store answers (the bridge reconnects on demand); its document. */
async function readWhenBack(bridge: Bridge): Promise<unknown> {
  for (let i = 0; ; i++) {
    const response = await fetch(`${bridge.url}/read`);
    if (response.status === 200) return response.json();
    assert.equal(response.status, 503);
    await response.arrayBuffer();
    assert.ok(i < 100, "the store never came back");
    await sleep(20);
  }
}

/** This process's eventfds and Unix sockets (the connections' descriptors; TCP sockets of the HTTP traffic are not counted). */
function descriptors(): { eventfd: number; unix: number } {
  const unixInodes = new Set(
    readFileSync("/proc/net/unix", "utf8")
      .split("\n")
      .slice(1)
      .map((line) => line.trim().split(/\s+/)[6])
      .filter((inode): inode is string => inode !== undefined),
  );
  const counts = { eventfd: 0, unix: 0 };
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the readdir's own descriptor)
    }
    if (target === "anon_inode:[eventfd]") counts.eventfd++;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && unixInodes.has(inode)) counts.unix++;
  }
  return counts;
}


/** Mappings of cross-process segments in this process. */
function segmentMappings(): number {
  return readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) => line.includes("memfd:shmrpc-segment")).length;
}

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;
