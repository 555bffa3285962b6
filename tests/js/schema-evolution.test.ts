/**
 * Schema evolution (docs/PROTOCOL.md section 8): generated TypeScript
 * clients and C services built from two versions of one schema
 * (tests/services/evolution/v1 and v2) call each other in both directions.
 * Every change protobuf's wire rules allow keeps the call working; a changed
 * request type, a changed call kind and a field number reused with another
 * wire type are refused with an error that names the method or the field.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test, type TestContext } from "node:test";

import { InProcessService } from "../../js/src/node.js";
import { packageRoot } from "../../js/src/native/addon.js";
import { RpcClient, Status, isRpcError } from "../../js/src/rpc/index.js";
import * as v1 from "./gen/evolution/v1/catalog_pb.js";
import * as v2 from "./gen/evolution/v2/catalog_pb.js";

const servicesDir = path.join(packageRoot(), "build/cmake/services");

/** A client of one version against the C service of the other. */
function connect<Client>(t: TestContext, serverVersion: "v1" | "v2", makeClient: (rpc: RpcClient) => Client): Client {
  const service = new InProcessService({ library: path.join(servicesDir, `libshmrpc_catalog_${serverVersion}.so`) });
  const rpc = new RpcClient(service.channel);
  t.after(async () => {
    rpc.close();
    assert.equal(await service.close(), 0, "the service exits cleanly");
  });
  return makeClient(rpc);
}

function refusedWith(code: number, ...parts: string[]) {
  return (error: unknown): boolean => {
    assert.ok(isRpcError(error, code), `expected status ${code}, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `"${error.message}" mentions "${part}"`);
    return true;
  };
}

describe("schema evolution: an old client against a new server", { timeout: 60000 }, () => {
  test("a renamed field, an added field, a removed field and an added enum value cross", async (t) => {
    const client = connect(t, "v2", (rpc) => new v1.CatalogClient(rpc));
    const item = await client.get({ name: "lamp" });
    assert.equal(item.name, "lamp");
    assert.equal(item.count, 7, "v2 calls field 2 `quantity`: the number is what counts");
    assert.equal(item.kind, 2, "MUSIC, a value v1 does not name, arrives as its number (an open enum)");
    assert.equal(item.legacyCode, 0n, "v2 removed field 4: v1 sees it unset");
    assert.ok(item.$unknown !== undefined && item.$unknown.length > 0, "v2's added tags are kept as unknown fields");
    const reencoded = v2.Item.decode(v1.Item.encode(item));
    assert.deepEqual(reencoded.tags, ["new"], "and written back by encode, as protobuf does");

    const stored = await client.put({ name: "desk", count: 3, kind: v1.Kind.BOOK, legacyCode: 5n });
    assert.equal(stored.seen, "name=desk quantity=3 kind=1 tags=0", "v2 skips the removed field 4");
  });

  test("a method the new server added is no concern of the old client; the old methods all work", async (t) => {
    const client = connect(t, "v2", (rpc) => new v1.CatalogClient(rpc));
    const results = await Promise.all([client.get({ name: "a" }), client.put({ name: "b" }), client.get({ name: "c" })]);
    assert.deepEqual(results.map((r) => ("name" in r ? r.name : r.seen)), ["a", "name=b quantity=0 kind=0 tags=0", "c"]);
  });

  test("a method whose request type changed is refused, naming the method", async (t) => {
    const client = connect(t, "v2", (rpc) => new v1.CatalogClient(rpc));
    await assert.rejects(client.lookup({ name: "x" }), refusedWith(Status.FAILED_PRECONDITION, "evolution.Catalog/Lookup", "request or response type"));
  });

  test("a method that stopped streaming is refused, naming the method", async (t) => {
    const client = connect(t, "v2", (rpc) => new v1.CatalogClient(rpc));
    const drain = async (): Promise<void> => {
      for await (const item of client.watch({ name: "x" })) assert.fail(`no message expected, got ${item.name}`);
    };
    await assert.rejects(drain(), refusedWith(Status.FAILED_PRECONDITION, "evolution.Catalog/Watch", "call kind"));
  });

  test("a field number reused with another wire type: C refuses the request", async (t) => {
    const client = connect(t, "v2", (rpc) => new v1.CatalogClient(rpc));
    await assert.rejects(client.annotate({ body: 5n }), refusedWith(Status.INVALID_ARGUMENT, "request does not decode", "wrong wire type"));
  });
});

describe("schema evolution: a new client against an old server", { timeout: 60000 }, () => {
  test("a renamed field, an added field, a removed field and an added enum value cross", async (t) => {
    const client = connect(t, "v1", (rpc) => new v2.CatalogClient(rpc));
    const item = await client.get({ name: "lamp" });
    assert.equal(item.name, "lamp");
    assert.equal(item.quantity, 7);
    assert.equal(item.kind, v2.Kind.BOOK);
    assert.deepEqual(item.tags, [], "v1 has no tags: v2 sees the field empty");
    assert.ok(item.$unknown !== undefined && item.$unknown.length > 0, "v1's field 4, removed in v2, is kept as unknown");

    const stored = await client.put({ name: "desk", quantity: 3, kind: v2.Kind.MUSIC, tags: ["x", "y"] });
    assert.equal(stored.seen, "name=desk count=3 kind=2 legacy_code=0", "v1 skips the tags and keeps the enum's number");
  });

  test("a method the old server lacks fails with UNIMPLEMENTED", async (t) => {
    const client = connect(t, "v1", (rpc) => new v2.CatalogClient(rpc));
    await assert.rejects(client.remove({ name: "x" }), refusedWith(Status.UNIMPLEMENTED));
    assert.equal((await client.get({ name: "still" })).name, "still", "the channel goes on");
  });

  test("a method whose request type or call kind changed is refused, naming the method", async (t) => {
    const client = connect(t, "v1", (rpc) => new v2.CatalogClient(rpc));
    await assert.rejects(client.lookup({ prefix: "x" }), refusedWith(Status.FAILED_PRECONDITION, "evolution.Catalog/Lookup"));
    await assert.rejects(client.watch({ name: "x" }), refusedWith(Status.FAILED_PRECONDITION, "evolution.Catalog/Watch"));
  });

  test("a field number reused with another wire type: C refuses the request, TypeScript the response", async (t) => {
    const client = connect(t, "v1", (rpc) => new v2.CatalogClient(rpc));
    await assert.rejects(client.annotate({ body: "text" }), refusedWith(Status.INVALID_ARGUMENT, "request does not decode", "wrong wire type"));
    await assert.rejects(client.stamp({ name: "x" }), refusedWith(Status.INTERNAL, "the response does not decode", "field 1 has wire type 0"));
  });
});
