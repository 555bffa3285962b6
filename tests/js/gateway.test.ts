/**
 * The HTTP gateway over the RPC test service (tests/services), hosted
 * in-process: real HTTP on 127.0.0.1 (port 0), stock clients of every
 * protocol it serves, the status mapping, every error case, and that no
 * call stays in flight afterwards, on either side of shared memory.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";

import { InProcessService } from "../../js/src/node.js";
import { createGateway, type Gateway, type GatewayLimits, type GatewayServer } from "../../js/src/gateway/index.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient, Status } from "../../js/src/rpc/index.js";
import { RpcTest, RpcTestClient, StreamStopped } from "./gen/rpc_test_pb.js";
import { FLAVOURS, GrpcJsClient, connectClient, curl, protocRegistry, serviceOf, type Flavour } from "./helpers/stock-clients.js";

const root = packageRoot();
const servicesDir = process.env.SHMRPC_SERVICES_DIR ?? path.join(root, "build/cmake/services");
const registry = protocRegistry(path.join(root, "tests/services"), "rpc_test.proto");
const RpcTestDesc = serviceOf(registry, "rpctest.RpcTest");
const STREAM_STOPPED = "rpctest.RpcTest/StreamStopped";

interface Setup {
  service: InProcessService;
  rpc: RpcClient;
  direct: RpcTestClient;
  gateway: Gateway;
  server: GatewayServer;
  url: string;
}

async function start(t: TestContext, limits: Partial<GatewayLimits> = {}): Promise<Setup> {
  const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so") });
  const rpc = new RpcClient(service.channel);
  const gateway = createGateway({ service: RpcTest, client: rpc, ...limits });
  const server = await gateway.listen({ port: 0 });
  t.after(async () => {
    await server.close();
    rpc.close();
    await service.close();
  });
  return { service, rpc, direct: new RpcTestClient(rpc), gateway, server, url: server.url };
}

/** Waits until no call is in flight in the gateway, the RpcClient and the C server. */
async function settled(setup: Setup): Promise<void> {
  for (let i = 0; ; i++) {
    const stats = await setup.direct.getStats({});
    if (setup.gateway.stats.callsInFlight === 0 && setup.rpc.callsInFlight === 0 && stats.callsInFlight === 0 && stats.callsAlive === 0) return;
    assert.ok(i < 400, `calls stay in flight: gateway ${setup.gateway.stats.callsInFlight}, client ${setup.rpc.callsInFlight}, C ${stats.callsInFlight}/${stats.callsAlive}`);
    await sleep(5);
  }
}

async function hangsCancelled(setup: Setup, atLeast: number): Promise<number> {
  for (let i = 0; ; i++) {
    const { hangsCancelled } = await setup.direct.getStats({});
    if (hangsCancelled >= atLeast) return hangsCancelled;
    assert.ok(i < 400, `C saw ${hangsCancelled} cancelled hangs, expected ${atLeast}`);
    await sleep(5);
  }
}

function post(url: string, body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
}

function streamStopped(rpc: RpcClient): Promise<StreamStopped> {
  return new Promise((resolve) => {
    const off = rpc.onEvent(STREAM_STOPPED, StreamStopped, (event) => (off(), resolve(event)));
  });
}

describe("HTTP gateway (RPC test service in-process)", { timeout: 120000 }, () => {
  test("Connect JSON: the canonical proto3 JSON mapping, both ways", async (t) => {
    const setup = await start(t);
    const response = await post(`${setup.url}/rpctest.RpcTest/Echo`, JSON.stringify({ text: "héllo ✓", payload: "AAEC/w==" }));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const reply = (await response.json()) as Record<string, unknown>;
    assert.equal(reply.text, "héllo ✓");
    assert.equal(reply.payload, "AAEC/w==", "bytes as base64");
    assert.equal(reply.timeLeftMs, "-1", "int64 as a string, lowerCamelCase name");
    assert.equal(reply.peer, "in-process");
    assert.equal(typeof reply.callId, "number");
    // proto field names are accepted too, and absent fields are defaults.
    const named = await post(`${setup.url}/rpctest.RpcTest/Echo`, JSON.stringify({ text: "a", delay_ms: 0 }));
    assert.equal(((await named.json()) as { text: string }).text, "a");
    assert.equal(setup.gateway.stats.callsStarted, 2);
    await settled(setup);
  });

  test("every route is listed and unknown ones are 404", async (t) => {
    const setup = await start(t);
    assert.deepEqual([...setup.gateway.paths].sort(), Object.values(RpcTest.methods).map((m) => `/${m.path}`).sort());
    for (const route of ["/rpctest.RpcTest/Nope", "/rpctest.Other/Echo", "/"]) {
      const response = await post(`${setup.url}${route}`, "{}");
      assert.equal(response.status, 404, route);
      await response.arrayBuffer();
    }
    assert.equal(setup.gateway.stats.callsStarted, 0);
  });

  for (const flavour of FLAVOURS) {
    test(`${flavour}: unary, server streaming, status codes and a deadline that reaches C`, async (t) => {
      const setup = await start(t);
      const client = connectClient(RpcTestDesc, flavour, setup.url) as unknown as Record<string, (...args: unknown[]) => unknown>;
      const echo = client.echo as (req: object, options?: object) => Promise<{ text: string; payload: Uint8Array; timeLeftMs: bigint }>;
      const payload = Uint8Array.from({ length: 60000 }, (_, i) => i % 251);
      const reply = await echo({ text: "ok", payload });
      assert.equal(reply.text, "ok");
      assert.ok(Buffer.from(reply.payload).equals(payload), "payload round trip");
      assert.equal(reply.timeLeftMs, -1n, "no deadline: none in C");

      const timed = await echo({ text: "t" }, { timeoutMs: 5000 });
      assert.ok(timed.timeLeftMs > 3000n && timed.timeLeftMs <= 5000n, `C saw ${timed.timeLeftMs} ms left`);

      const items: number[] = [];
      const count = client.count as (req: object) => AsyncIterable<{ index: number }>;
      for await (const item of count({ count: 200 })) items.push(item.index);
      assert.deepEqual(items, Array.from({ length: 200 }, (_, i) => i));

      await assert.rejects(echo({ status: Status.NOT_FOUND, errorMessage: "no such key" }), (error: unknown) => {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.NotFound);
        assert.equal(error.rawMessage, "no such key");
        return true;
      });

      const hang = client.hang as (req: object, options?: object) => Promise<unknown>;
      await assert.rejects(hang({}, { timeoutMs: 150 }), (error: unknown) => ConnectError.from(error).code === Code.DeadlineExceeded);
      await hangsCancelled(setup, 1);

      const controller = new AbortController();
      const call = hang({}, { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(call, (error: unknown) => ConnectError.from(error).code === Code.Canceled);
      await hangsCancelled(setup, 2);
      await settled(setup);
    });
  }

  // Over HTTP/1.1 (Connect JSON, gRPC-Web) a request stream goes out as one
  // body: client streaming works, bidirectional streaming needs HTTP/2.
  const REQUEST_STREAMING: readonly { flavour: Flavour; bidi: boolean }[] = [
    { flavour: "connect-json", bidi: false },
    { flavour: "connect-binary", bidi: true },
    { flavour: "grpc", bidi: true },
    { flavour: "grpc-web", bidi: false },
  ];
  type SumItemInit = { value?: bigint; delayMs?: number; status?: number; errorMessage?: string };
  type SumReply = { total: bigint; count: number; timeLeftMs: bigint };
  async function* items(list: SumItemInit[]): AsyncGenerator<SumItemInit> {
    for (const item of list) yield item;
  }

  for (const { flavour, bidi } of REQUEST_STREAMING) {
    test(`${flavour}: client streaming${bidi ? " and bidirectional streaming" : ""} reach C, with a deadline and an error`, async (t) => {
      const setup = await start(t);
      const client = connectClient(RpcTestDesc, flavour, setup.url) as unknown as Record<string, (...args: unknown[]) => unknown>;
      const sum = client.sum as (requests: AsyncIterable<SumItemInit>, options?: object) => Promise<SumReply>;
      const values = Array.from({ length: 50 }, (_, i) => ({ value: BigInt(i + 1) }));
      const reply = await sum(items(values), { timeoutMs: 5000 });
      assert.deepEqual([reply.total, reply.count], [1275n, 50]);
      assert.ok(reply.timeLeftMs > 3000n && reply.timeLeftMs <= 5000n, `C saw ${reply.timeLeftMs} ms left`);

      await assert.rejects(sum(items([{ value: 1n }, { status: Status.FAILED_PRECONDITION, errorMessage: "not now" }])), (error: unknown) => {
        assert.ok(error instanceof ConnectError);
        assert.equal(error.code, Code.FailedPrecondition);
        assert.equal(error.rawMessage, "not now");
        return true;
      });
      await assert.rejects(sum(items([{ value: 1n, delayMs: 2000 }]), { timeoutMs: 150 }), (error: unknown) => ConnectError.from(error).code === Code.DeadlineExceeded);

      if (bidi) {
        const chat = client.chat as (requests: AsyncIterable<SumItemInit>) => AsyncIterable<SumReply>;
        const totals: bigint[] = [];
        for await (const running of chat(items(values.slice(0, 10)))) totals.push(running.total);
        assert.deepEqual(totals, [1n, 3n, 6n, 10n, 15n, 21n, 28n, 36n, 45n, 55n]);
      }
      await settled(setup);
    });
  }

  test("a client that aborts mid-stream cancels the C reader (HTTP/2 gRPC)", async (t) => {
    const setup = await start(t);
    const stopped = streamStopped(setup.rpc);
    const client = connectClient(RpcTestDesc, "grpc", setup.url) as unknown as Record<string, (...args: unknown[]) => unknown>;
    const controller = new AbortController();
    // The handler sleeps after the first message, so the abort arrives
    // while it is still reading (connect-node's client ends its request
    // stream cleanly before it resets the call).
    async function* endless(): AsyncGenerator<SumItemInit> {
      yield { value: 1n, delayMs: 500 };
      for (let i = 1; ; i++) {
        if (i === 20) controller.abort();
        yield { value: 1n };
        await sleep(1);
      }
    }
    const sum = client.sum as (requests: AsyncIterable<SumItemInit>, options: object) => Promise<SumReply>;
    await assert.rejects(sum(endless(), { signal: controller.signal }), (error: unknown) => ConnectError.from(error).code === Code.Canceled);
    const event = await stopped;
    assert.equal(event.status, Status.CANCELLED, "the C handler's read saw the cancel");
    assert.ok(event.sent >= 1 && event.sent <= 20, `C read ${event.sent} messages`);
    await settled(setup);
  });

  test("@grpc/grpc-js: unary, streaming, status and deadline", async (t) => {
    const setup = await start(t);
    const client = new GrpcJsClient(`127.0.0.1:${setup.server.port}`, RpcTestDesc);
    t.after(() => client.close());
    const reply = (await client.unary("Echo", { text: "grpc" }, { deadline: Date.now() + 5000 })) as { text: string; timeLeftMs: bigint };
    assert.equal(reply.text, "grpc");
    assert.ok(reply.timeLeftMs > 3000n && reply.timeLeftMs <= 5000n, `C saw ${reply.timeLeftMs} ms left`);

    const items: number[] = [];
    for await (const item of client.serverStream("Count", { count: 100 })) items.push((item as { index: number }).index);
    assert.equal(items.length, 100);

    await assert.rejects(client.unary("Echo", { status: Status.PERMISSION_DENIED, errorMessage: "go away" }), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.PERMISSION_DENIED);
      assert.equal(error.details, "go away");
      return true;
    });
    await assert.rejects(client.unary("Hang", {}, { deadline: Date.now() + 150 }), (error: grpc.ServiceError) => error.code === grpc.status.DEADLINE_EXCEEDED);
    await hangsCancelled(setup, 1);
    await settled(setup);
  });

  test("curl: JSON in and out, errors as Connect JSON, Connect-Timeout-Ms reaches C", async (t) => {
    const setup = await start(t);
    const echo = `${setup.url}/rpctest.RpcTest/Echo`;
    const json = ["-H", "Content-Type: application/json"];
    const ok = await curl([...json, "-d", '{"text":"from curl"}', echo]);
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body) as { text: string }).text, "from curl");

    const timed = await curl([...json, "-H", "Connect-Timeout-Ms: 4000", "-d", "{}", echo]);
    const left = BigInt((JSON.parse(timed.body) as { timeLeftMs: string }).timeLeftMs);
    assert.ok(left > 2000n && left <= 4000n, `C saw ${left} ms left`);

    const hang = await curl([...json, "-H", "Connect-Timeout-Ms: 150", "-d", "{}", `${setup.url}/rpctest.RpcTest/Hang`]);
    assert.equal(hang.status, 504);
    assert.equal((JSON.parse(hang.body) as { code: string }).code, "deadline_exceeded");
    await hangsCancelled(setup, 1);

    const failed = await curl([...json, "-d", '{"status":9,"errorMessage":"not now"}', echo]);
    assert.equal(failed.status, 400);
    assert.deepEqual(JSON.parse(failed.body), { code: "failed_precondition", message: "not now" });
    await settled(setup);
  });

  test("every gRPC status from C maps to Connect's HTTP status and code name", async (t) => {
    const setup = await start(t);
    // The Connect protocol's table (connectrpc.com/docs/protocol, "Error Codes").
    const http: Record<number, [number, string]> = {
      1: [499, "canceled"], 2: [500, "unknown"], 3: [400, "invalid_argument"], 4: [504, "deadline_exceeded"],
      5: [404, "not_found"], 6: [409, "already_exists"], 7: [403, "permission_denied"], 8: [429, "resource_exhausted"],
      9: [400, "failed_precondition"], 10: [409, "aborted"], 11: [400, "out_of_range"], 12: [501, "unimplemented"],
      13: [500, "internal"], 14: [503, "unavailable"], 15: [500, "data_loss"], 16: [401, "unauthenticated"],
    };
    for (const [status, [httpStatus, name]] of Object.entries(http)) {
      const response = await post(`${setup.url}/rpctest.RpcTest/Echo`, JSON.stringify({ status: Number(status), errorMessage: `status ${status}` }));
      assert.equal(response.status, httpStatus, name);
      assert.deepEqual(await response.json(), { code: name, message: `status ${status}` });
    }
    assert.equal(setup.gateway.stats.callsFailed, 16);
    await settled(setup);
  });

  test("bad input: malformed JSON, wrong types, bad binary, a body over the limit", async (t) => {
    const setup = await start(t, { readMaxBytes: 1024 });
    const echo = `${setup.url}/rpctest.RpcTest/Echo`;
    const cases: [string, string | Uint8Array<ArrayBuffer>, Record<string, string>][] = [
      ["malformed JSON", '{"text": ', {}],
      ["a string for a uint32", '{"delayMs": "soon"}', {}],
      ["a negative uint32", '{"delayMs": -1}', {}],
      ["bytes that are not base64", '{"payload": "***"}', {}],
      ["an array for a string", '{"text": [1]}', {}],
    ];
    for (const [what, body, headers] of cases) {
      const response = await post(echo, body, headers);
      assert.equal(response.status, 400, what);
      const error = (await response.json()) as { code: string; message: string };
      assert.equal(error.code, "invalid_argument", what);
      assert.ok(error.message.length > 0, what);
    }
    // Binary that does not parse is INTERNAL in Connect, as in grpc-go.
    const garbage = await post(echo, Uint8Array.of(0x0a, 0x05, 0x61), { "Content-Type": "application/proto" });
    assert.equal(garbage.status, 500);
    assert.equal(((await garbage.json()) as { code: string }).code, "internal");
    const big = await post(echo, JSON.stringify({ text: "x".repeat(2000) }));
    assert.equal(big.status, 429);
    assert.deepEqual(await big.json(), { code: "resource_exhausted", message: "message size 2011 is larger than configured readMaxBytes 1024" });
    assert.equal(setup.gateway.stats.callsStarted, 0, "nothing reached C");
    // The server is fine afterwards.
    assert.equal((await post(echo, '{"text":"fine"}')).status, 200);
    await settled(setup);
  });

  test("a request that parses but that C cannot decode fails INVALID_ARGUMENT from C", async (t) => {
    const setup = await start(t);
    // An unknown field encoded as a group (field 100: start 0xa3 0x06, end
    // 0xa4 0x06): protobuf-es keeps and forwards it, nanopb has no groups.
    const response = await post(`${setup.url}/rpctest.RpcTest/Echo`, Uint8Array.of(0xa3, 0x06, 0xa4, 0x06), { "Content-Type": "application/proto" });
    assert.equal(response.status, 400);
    const error = (await response.json()) as { code: string; message: string };
    assert.equal(error.code, "invalid_argument");
    assert.match(error.message, /request does not decode/);
    assert.equal(setup.gateway.stats.callsFailed, 1);
    await settled(setup);
  });

  test("a missing service: UNAVAILABLE (503), and calls flow once it is there", async (t) => {
    const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so") });
    const rpc = new RpcClient(service.channel);
    let current: RpcClient | undefined;
    const gateway = createGateway({ service: RpcTest, client: () => current });
    const server = await gateway.listen();
    t.after(async () => {
      await server.close();
      rpc.close();
      await service.close();
    });
    const missing = await post(`${server.url}/rpctest.RpcTest/Echo`, "{}");
    assert.equal(missing.status, 503);
    assert.deepEqual(await missing.json(), { code: "unavailable", message: "rpctest.RpcTest: the service is not connected" });
    current = rpc;
    assert.equal((await post(`${server.url}/rpctest.RpcTest/Echo`, "{}")).status, 200);
  });

  test("a service that dies: streams and unary calls in flight end UNAVAILABLE, later calls too", async (t) => {
    const setup = await start(t);
    const client = connectClient(RpcTestDesc, "connect-json", setup.url) as unknown as Record<string, (...args: unknown[]) => unknown>;
    const stream = (client.countDeferred as (req: object) => AsyncIterable<{ index: number }>)({ count: 10_000_000 });
    const hang = (client.hang as (req: object) => Promise<unknown>)({});
    let taken = 0;
    const reading = (async () => {
      for await (const item of stream) {
        assert.equal(item.index, taken++);
        if (taken === 10) void setup.service.close();
      }
    })();
    await assert.rejects(reading, (error: unknown) => ConnectError.from(error).code === Code.Unavailable);
    await assert.rejects(hang, (error: unknown) => ConnectError.from(error).code === Code.Unavailable);
    const later = await post(`${setup.url}/rpctest.RpcTest/Echo`, "{}");
    assert.equal(later.status, 503);
    assert.equal(((await later.json()) as { code: string }).code, "unavailable");
    assert.equal(setup.gateway.stats.callsInFlight, 0);
    assert.equal(setup.rpc.callsInFlight, 0);
  });

  for (const version of ["1.1", "2"] as const) {
    test(`a client that disconnects mid-stream (HTTP/${version}) cancels the C producer`, async (t) => {
      const setup = await start(t);
      const stopped = streamStopped(setup.rpc);
      const controller = new AbortController();
      const flavour = version === "1.1" ? "connect-json" : "grpc";
      const client = connectClient(RpcTestDesc, flavour, setup.url) as unknown as Record<string, (...args: unknown[]) => unknown>;
      let taken = 0;
      await assert.rejects(async () => {
        for await (const item of (client.countDeferred as (req: object, o: object) => AsyncIterable<{ index: number }>)({ count: 10_000_000 }, { signal: controller.signal })) {
          assert.equal(item.index, taken++);
          if (taken === 100) controller.abort();
        }
      });
      const event = await stopped;
      assert.equal(event.status, Status.CANCELLED, "the C handler's write saw the cancel");
      assert.ok(event.sent < 10_000_000);
      await settled(setup);
      assert.equal((await post(`${setup.url}/rpctest.RpcTest/Echo`, "{}")).status, 200);
    });
  }

  test("defaultTimeoutMs bounds calls without a deadline; maxTimeoutMs refuses longer ones", async (t) => {
    const setup = await start(t, { defaultTimeoutMs: 120, maxTimeoutMs: 10_000 });
    const hang = await post(`${setup.url}/rpctest.RpcTest/Hang`, "{}");
    assert.equal(hang.status, 504);
    await hang.arrayBuffer();
    await hangsCancelled(setup, 1);
    const tooLong = await post(`${setup.url}/rpctest.RpcTest/Echo`, "{}", { "Connect-Timeout-Ms": "20000" });
    assert.equal(tooLong.status, 400);
    assert.equal(((await tooLong.json()) as { code: string }).code, "invalid_argument");
    await settled(setup);
  });

  test("close(): calls in flight end UNAVAILABLE and C sees the cancel", async (t) => {
    const setup = await start(t);
    const pending = post(`${setup.url}/rpctest.RpcTest/Hang`, "{}");
    for (let i = 0; setup.gateway.stats.callsInFlight === 0; i++) {
      assert.ok(i < 400, "the call never started");
      await sleep(5);
    }
    setup.gateway.close();
    const response = await pending;
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { code: "unavailable", message: "the gateway is closed" });
    await hangsCancelled(setup, 1);
    const later = await post(`${setup.url}/rpctest.RpcTest/Echo`, "{}");
    assert.equal(later.status, 503);
    await later.arrayBuffer();
    await settled(setup);
  });

  test("raw connections that reset, stay silent or speak nonsense do not hurt the server", async (t) => {
    const service = new InProcessService({ library: path.join(servicesDir, "libshmrpc_rpc_test.so") });
    const rpc = new RpcClient(service.channel);
    const gateway = createGateway({ service: RpcTest, client: rpc });
    const server = await gateway.listen({ firstBytesTimeoutMs: 200 });
    t.after(async () => {
      await server.close();
      rpc.close();
      await service.close();
    });
    const open = async (): Promise<net.Socket> => {
      const socket = net.connect(server.port, "127.0.0.1");
      await once(socket, "connect");
      return socket;
    };
    (await open()).resetAndDestroy();
    const partial = await open();
    partial.write("P");
    partial.resetAndDestroy();
    const silent = await open();
    silent.write("PR");
    const closedAt = performance.now();
    await once(silent, "close");
    assert.ok(performance.now() - closedAt >= 150, "closed by the first-bytes timeout");
    const nonsense = await open();
    nonsense.end("PRX garbage\r\n\r\n");
    nonsense.resume();
    await once(nonsense, "close");
    const fakeH2 = await open();
    fakeH2.end("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "x".repeat(64));
    fakeH2.resume();
    await once(fakeH2, "close");
    assert.equal((await post(`${server.url}/rpctest.RpcTest/Echo`, '{"text":"still here"}')).status, 200);
  });

  test("many concurrent calls over all protocols: every reply arrives once, to its caller", async (t) => {
    const setup = await start(t);
    const clients = FLAVOURS.map((f) => connectClient(RpcTestDesc, f, setup.url) as unknown as Record<string, (req: object) => Promise<{ text: string }>>);
    const calls = Array.from({ length: 400 }, (_, i) => clients[i % clients.length]!.echo!({ text: `call ${i}` }));
    const replies = await Promise.all(calls);
    replies.forEach((reply, i) => assert.equal(reply.text, `call ${i}`));
    await settled(setup);
  });
});
