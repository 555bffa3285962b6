/**
 * Generated service code: the descriptor and the typed client over an
 * RpcTransport, and method ids, schema hashes and fingerprints recomputed
 * here from protoc's descriptors by the rules of docs/PROTOCOL.md section 8,
 * an implementation independent of the plugin's, against both the
 * TypeScript and the C output.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";

import type { DescMessage, DescService } from "@bufbuild/protobuf";

import { Money } from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import { Everything } from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import { Echo, EchoClient, EchoRequest, PriceQuery } from "../codegen/golden/ts/shmrpc/test/service_pb.js";
import { Order, Receipt, Till, TillClient } from "../codegen/golden/ts/shmrpc/test/streams_pb.js";
import { GENERATED_CODE_VERSION, requireGeneratedCodeVersion } from "../../js/src/codegen-runtime.js";
import type { CallOptions, MessageInit, MethodDescriptor, RequestSource, RpcTransport } from "../../js/src/codegen-runtime.js";
import { registry, repoRoot } from "../codegen/support/schema.js";

// ---- the documented algorithm, written from docs/PROTOCOL.md -----------------

function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, "utf8")) h = BigInt.asUintN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h;
}

/** The canonical schema text of a method (docs/PROTOCOL.md section 8). */
function schemaText(request: DescMessage, response: DescMessage, kind: string): string {
  return `shmrpc-schema-2\nrequest ${request.typeName}\nresponse ${response.typeName}\nkind ${kind}\n`;
}

interface Expected {
  path: string;
  id: number;
  schemaHash: number;
  kind: string;
}

function recompute(service: DescService): { methods: Expected[]; fingerprint: string } {
  const methods = service.methods.map((m) => {
    const kind = m.methodKind; // "unary", "server_streaming", "client_streaming" or "bidi_streaming": section 8's names
    return {
      name: m.name,
      path: `${service.typeName}/${m.name}`,
      id: fnv1a32(`${service.typeName}/${m.name}`),
      schemaHash: fnv1a32(schemaText(m.input, m.output, kind)),
      kind,
    };
  });
  let text = `service ${service.typeName}\n`;
  for (const m of [...methods].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    text += `method ${m.path} ${m.kind} ${m.schemaHash.toString(16).padStart(8, "0")}\n`;
  }
  return { methods, fingerprint: fnv1a64(text).toString(16).padStart(16, "0") };
}

// ---- tests ----------------------------------------------------------------------

describe("method ids and schema fingerprints", () => {
  it("FNV-1a matches its published test values", () => {
    assert.equal(fnv1a32("a"), 0xe40c292c);
    assert.equal(fnv1a64("a"), 0xaf63dc4c8601ec8cn);
  });

  it("the documented example is what the plugin hashes", () => {
    const example = [
      "shmrpc-schema-2",
      "request greeter.HelloRequest",
      "response greeter.HelloReply",
      "kind unary",
      "",
    ].join("\n");
    const doc = readFileSync(join(repoRoot(), "docs", "PROTOCOL.md"), "utf8");
    assert.ok(doc.includes("```\n" + example + "```"), "docs/PROTOCOL.md shows this text");

    const dir = mkdtempSync(join(tmpdir(), "shmrpc-example-"));
    try {
      writeFileSync(
        join(dir, "greeter.proto"),
        `syntax = "proto3";
package greeter;
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; repeated Tag tags = 2; }
message Tag { int64 id = 1; }
service Greeter { rpc SayHello(HelloRequest) returns (HelloReply); }
`,
      );
      const run = spawnSync(process.execPath, [
        join(repoRoot(), "js", "bin", "shmrpc.js"), "gen", join(dir, "greeter.proto"), "-I", dir, "--ts-out", dir,
      ], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      const ts = readFileSync(join(dir, "greeter_pb.ts"), "utf8");
      assert.match(ts, new RegExp(`schemaHash: 0x${fnv1a32(example).toString(16).padStart(8, "0")},`));
      assert.match(ts, new RegExp(`id: 0x${fnv1a32("greeter.Greeter/SayHello").toString(16).padStart(8, "0")},`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("TypeScript output agrees with the recomputation", () => {
    const expected = recompute(registry().getService("shmrpc.test.api.Echo")!);
    assert.equal(Echo.fingerprint, expected.fingerprint);
    const actual = [Echo.methods.echo, Echo.methods.echoStream, Echo.methods.prices];
    assert.deepEqual(
      actual.map((m) => ({ path: m.path, id: m.id, schemaHash: m.schemaHash, kind: m.kind })),
      expected.methods.map(({ path, id, schemaHash, kind }) => ({ path, id, schemaHash, kind })),
    );
  });

  it("C output agrees with the recomputation", () => {
    const header = readFileSync(
      join(repoRoot(), "tests", "codegen", "golden", "c", "shmrpc", "test", "service.shmrpc.h"),
      "utf8",
    );
    const define = (name: string): bigint => {
      const match = new RegExp(`#define ${name} UINT(?:32|64)_C\\((0x[0-9a-f]+)\\)`).exec(header);
      assert.ok(match, `${name} in service.shmrpc.h`);
      return BigInt(match[1]!);
    };
    const expected = recompute(registry().getService("shmrpc.test.api.Echo")!);
    assert.equal(define("shmrpc_test_api_Echo_FINGERPRINT").toString(16).padStart(16, "0"), expected.fingerprint);
    for (const m of expected.methods) {
      const name = m.path.split("/")[1];
      assert.equal(Number(define(`shmrpc_test_api_Echo_${name}_ID`)), m.id, m.path);
      assert.equal(Number(define(`shmrpc_test_api_Echo_${name}_SCHEMA_HASH`)), m.schemaHash, m.path);
    }
  });

  it("the schema hash covers the request and response types and the call kind, not the fields", () => {
    // Echo and EchoStream carry the same types; one is unary, one streams.
    assert.equal(Echo.methods.echo.requestType, Echo.methods.echoStream.requestType);
    assert.notEqual(Echo.methods.echo.schemaHash, Echo.methods.echoStream.schemaHash);
    assert.notEqual(Echo.methods.echo.schemaHash, Echo.methods.prices.schemaHash);
  });
});

describe("generated code and its runtime", () => {
  it("every generated file checks the runtime's generated-code version as it loads", () => {
    const source = readFileSync(join(repoRoot(), "tests", "codegen", "golden", "ts", "shmrpc", "test", "service_pb.ts"), "utf8");
    assert.match(source, new RegExp(`^pb\\.requireGeneratedCodeVersion\\(${GENERATED_CODE_VERSION}, "protoc-gen-shmrpc [0-9.]+"\\);$`, "m"));
    requireGeneratedCodeVersion(GENERATED_CODE_VERSION, "protoc-gen-shmrpc test");
  });

  it("code generated for another runtime throws with what to do", () => {
    assert.throws(
      () => requireGeneratedCodeVersion((GENERATED_CODE_VERSION + 1) as typeof GENERATED_CODE_VERSION, "protoc-gen-shmrpc 9.9.9"),
      new RegExp(`protoc-gen-shmrpc 9\\.9\\.9 \\(generated-code version ${GENERATED_CODE_VERSION + 1}\\) does not fit this shmrpc runtime \\(version ${GENERATED_CODE_VERSION}\\): regenerate it`),
    );
  });
});

describe("service descriptor and client", () => {
  it("describes every method with its codecs", () => {
    assert.equal(Echo.name, "shmrpc.test.api.Echo");
    assert.match(Echo.fingerprint, /^[0-9a-f]{16}$/);
    assert.deepEqual(Object.keys(Echo.methods), ["echo", "echoStream", "prices"]);
    assert.equal(Echo.methods.echo.kind, "unary");
    assert.equal(Echo.methods.echoStream.kind, "server_streaming");
    assert.equal(Echo.methods.echo.requestType, EchoRequest);
    assert.equal(Echo.methods.echo.responseType, Everything);
    assert.equal(Echo.methods.prices.requestType, PriceQuery);
    assert.equal(Echo.methods.prices.responseType, Money);
  });

  it("client methods call the transport with the method's descriptor", async () => {
    const calls: { kind: string; method: unknown; request: unknown; options?: CallOptions }[] = [];
    const transport: RpcTransport = {
      unary<Req, Res>(method: MethodDescriptor<Req, Res>, request: MessageInit<Req>, options?: CallOptions) {
        calls.push({ kind: "unary", method, request, options });
        return Promise.resolve(method.responseType.create({ farAway: "reply" } as unknown as MessageInit<Res>));
      },
      serverStreaming<Req, Res>(method: MethodDescriptor<Req, Res>, request: MessageInit<Req>, options?: CallOptions) {
        calls.push({ kind: "stream", method, request, options });
        return (async function* () {
          yield method.responseType.create({ units: 1n } as unknown as MessageInit<Res>);
          yield method.responseType.create({ units: 2n } as unknown as MessageInit<Res>);
        })();
      },
      clientStreaming: () => Promise.reject(new Error("not called")),
      bidiStreaming: () => {
        throw new Error("not called");
      },
    };
    const client = new EchoClient(transport);
    const controller = new AbortController();
    const reply: Everything = await client.echo({ repeat: 3 }, { timeoutMs: 50, signal: controller.signal });
    assert.equal(reply.farAway, "reply");
    assert.equal(calls[0]!.kind, "unary");
    assert.equal(calls[0]!.method, Echo.methods.echo);
    assert.deepEqual(calls[0]!.request, { repeat: 3 });
    assert.deepEqual(calls[0]!.options, { timeoutMs: 50, signal: controller.signal });

    const prices: Money[] = [];
    for await (const price of client.prices({ skus: ["a", "b"] })) prices.push(price);
    assert.deepEqual(prices.map((p) => p.units), [1n, 2n]);
    assert.equal(calls[1]!.kind, "stream");
    assert.equal(calls[1]!.method, Echo.methods.prices);
    assert.equal(calls[1]!.options, undefined);
  });
});

describe("every call kind (streams.proto)", () => {
  it("descriptors name the four kinds, and agree with the recomputation in TypeScript and C", () => {
    const expected = recompute(registry().getService("shmrpc.test.streams.Till")!);
    assert.equal(Till.fingerprint, expected.fingerprint);
    const actual = [Till.methods.price, Till.methods.checkout, Till.methods.live, Till.methods.journal];
    assert.deepEqual(
      actual.map((m) => m.kind),
      ["unary", "client_streaming", "bidi_streaming", "server_streaming"],
    );
    assert.deepEqual(
      actual.map((m) => ({ path: m.path, id: m.id, schemaHash: m.schemaHash, kind: m.kind })),
      expected.methods.map(({ path, id, schemaHash, kind }) => ({ path, id, schemaHash, kind })),
    );
    const header = readFileSync(join(repoRoot(), "tests", "codegen", "golden", "c", "shmrpc", "test", "streams.shmrpc.h"), "utf8");
    for (const m of expected.methods) {
      const name = m.path.split("/")[1];
      const match = new RegExp(`#define shmrpc_test_streams_Till_${name}_SCHEMA_HASH UINT32_C\\((0x[0-9a-f]+)\\)`).exec(header);
      assert.ok(match, `${name} in streams.shmrpc.h`);
      assert.equal(Number(match[1]), m.schemaHash, m.path);
    }
    // Same types, four kinds: four schema hashes.
    assert.equal(new Set(actual.map((m) => m.schemaHash)).size, 4);
  });

  it("client-streaming and bidirectional methods hand the transport their request iterable", async () => {
    const calls: { kind: string; method: unknown; requests: unknown; options?: CallOptions }[] = [];
    const transport: RpcTransport = {
      unary: () => Promise.reject(new Error("not called")),
      serverStreaming: () => {
        throw new Error("not called");
      },
      clientStreaming<Req, Res>(method: MethodDescriptor<Req, Res>, requests: RequestSource<Req>, options?: CallOptions) {
        calls.push({ kind: "client", method, requests, options });
        return Promise.resolve(method.responseType.create({ lines: 2 } as unknown as MessageInit<Res>));
      },
      bidiStreaming<Req, Res>(method: MethodDescriptor<Req, Res>, requests: RequestSource<Req>, options?: CallOptions) {
        calls.push({ kind: "bidi", method, requests, options });
        return (async function* () {
          yield method.responseType.create({ lines: 1 } as unknown as MessageInit<Res>);
        })();
      },
    };
    const till = new TillClient(transport);
    const orders = [{ sku: "a", quantity: 1 }, { sku: "b" }];
    const receipt: Receipt = await till.checkout(orders, { timeoutMs: 10 });
    assert.equal(receipt.lines, 2);
    assert.deepEqual(calls[0], { kind: "client", method: Till.methods.checkout, requests: orders, options: { timeoutMs: 10 } });
    const live: number[] = [];
    for await (const r of till.live(orders)) live.push(r.lines);
    assert.deepEqual(live, [1]);
    assert.equal(calls[1]!.method, Till.methods.live);
    assert.equal(Till.methods.live.requestType, Order);
  });
});
