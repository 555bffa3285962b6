/**
 * The RPC envelope in TypeScript against the golden vectors of
 * tests/vectors/rpc/ (make_rpc_vectors.py), which the C tests check too.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";

import { packageRoot } from "../../js/src/native/addon.js";
import { Channel, FrameType, createSegment } from "../../js/src/index.js";
import { ENVELOPE_HEADER_BYTES, EnvelopeError, EnvelopeKind, encodeEnvelope, headerProblem, parseEnvelope } from "../../js/src/internal.js";
import { RpcClient, RpcError, Status, eventId, isRpcError, statusName } from "../../js/src/rpc/index.js";

const dir = path.join(packageRoot(), "tests/vectors/rpc");
const read = (file: string) => new Uint8Array(readFileSync(path.join(dir, file)));

interface WellFormed {
  file: string;
  kind: keyof typeof EnvelopeKind;
  call_id: number;
  method_id: number;
  schema_hash: number;
  status: number;
  timeout_us: number;
  credit: number;
  body_hex: string;
}
interface Malformed {
  file: string;
  call_id: number;
  why: "short" | "version" | "kind" | "status";
}
const manifest = JSON.parse(readFileSync(path.join(dir, "envelopes.json"), "utf8")) as {
  well_formed: WellFormed[];
  malformed: Malformed[];
};
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("RPC envelope", () => {
  test("the manifest lists every vector", () => {
    assert.equal(manifest.well_formed.length, 16);
    assert.equal(manifest.malformed.length, 13);
  });

  for (const v of manifest.well_formed) {
    test(`parses ${v.file}`, () => {
      const envelope = parseEnvelope(read(v.file));
      assert.deepEqual(
        {
          kind: envelope.kind,
          callId: envelope.callId,
          methodId: envelope.methodId,
          schemaHash: envelope.schemaHash,
          status: envelope.status,
          timeoutUs: envelope.timeoutUs,
          credit: envelope.credit,
          body: hex(envelope.body),
        },
        {
          kind: EnvelopeKind[v.kind],
          callId: v.call_id,
          methodId: v.method_id,
          schemaHash: v.schema_hash,
          status: v.status,
          timeoutUs: v.timeout_us,
          credit: v.credit,
          body: v.body_hex,
        },
      );
    });

    test(`encodes ${v.file}`, () => {
      const bytes = encodeEnvelope(
        {
          kind: EnvelopeKind[v.kind],
          callId: v.call_id,
          methodId: v.method_id,
          schemaHash: v.schema_hash,
          status: v.status,
          timeoutUs: v.timeout_us,
          credit: v.credit,
        },
        Buffer.from(v.body_hex, "hex"),
      );
      assert.equal(hex(bytes), hex(read(v.file)));
    });
  }

  for (const v of manifest.malformed) {
    test(`refuses ${v.file} (${v.why}) and still reads call id ${v.call_id}`, () => {
      assert.throws(
        () => parseEnvelope(read(v.file)),
        (error: unknown) => error instanceof EnvelopeError && error.callId === v.call_id,
      );
    });
  }

  test("the RpcClient drops exactly the vectors whose header does not route, with the parser's check", async () => {
    const sab = createSegment({ capacityC2S: 4096, capacityS2C: 4096 });
    const client = new Channel(sab, { side: "client" });
    const server = new Channel(sab, { side: "server" });
    const rpc = new RpcClient(client);
    const stop = rpc.onEvent(0, { decode: () => ({}) } as never, () => {}); // keeps the client reading
    try {
      for (const v of [...manifest.well_formed, ...manifest.malformed]) {
        const bytes = read(v.file);
        const unroutable = "why" in v && v.why !== "status";
        assert.equal(headerProblem(bytes) !== undefined, unroutable, v.file);
        const before = rpc.stats.malformed;
        await server.send(FrameType.COMMAND, bytes);
        await new Promise((resolve) => setImmediate(resolve));
        // Well-formed replies (and request-stream CREDITs) for calls not in flight count as late, not malformed.
        const clientOnly = ["REQUEST", "CANCEL", "REQUEST_MESSAGE", "REQUEST_END"];
        assert.equal(rpc.stats.malformed - before, unroutable || clientOnly.includes((v as WellFormed).kind) ? 1 : 0, v.file);
      }
    } finally {
      stop();
      rpc.close();
      client.close();
      server.close();
    }
  });

  test("ignores the reserved bytes", () => {
    const bytes = read("cancel.bin");
    bytes[2] = 0xff;
    bytes[3] = 0x7f;
    const envelope = parseEnvelope(bytes);
    assert.equal(envelope.kind, EnvelopeKind.CANCEL);
    assert.equal(envelope.callId, 7);
  });

  test("the body is a view after the 28-byte header", () => {
    const bytes = read("response.bin");
    const envelope = parseEnvelope(bytes);
    assert.equal(envelope.body.byteOffset, bytes.byteOffset + ENVELOPE_HEADER_BYTES);
    assert.equal(envelope.body.buffer, bytes.buffer);
  });
});

describe("RPC statuses, errors and event ids", () => {
  test("status names follow gRPC", () => {
    assert.equal(Status.UNIMPLEMENTED, 12);
    assert.equal(statusName(0), "OK");
    assert.equal(statusName(16), "UNAUTHENTICATED");
    assert.equal(statusName(17), "UNKNOWN");
    assert.equal(statusName(-1), "UNKNOWN");
    assert.equal(statusName(1.5), "UNKNOWN");
  });

  test("RpcError carries the code, its name, the message and the method", () => {
    const error = new RpcError(Status.NOT_FOUND, "no such user", "users.Users/Get");
    assert.ok(error instanceof Error);
    assert.equal(error.name, "RpcError");
    assert.equal(error.code, 5);
    assert.equal(error.codeName, "NOT_FOUND");
    assert.equal(error.method, "users.Users/Get");
    assert.equal(error.statusMessage, "no such user");
    assert.equal(error.message, "users.Users/Get: NOT_FOUND: no such user");
    assert.ok(isRpcError(error));
    assert.ok(isRpcError(error, Status.NOT_FOUND));
    assert.ok(!isRpcError(error, Status.INTERNAL));
    assert.ok(!isRpcError(new Error("x")));
  });

  test("event ids are FNV-1a 32 of the name, as shmrpc_event_id computes", () => {
    assert.equal(eventId("rpctest.RpcTest/StreamStopped"), 0xef824f57);
    assert.equal(eventId("rpctest.RpcTest/Echo"), 0x8dfc25f3);
    assert.equal(eventId(""), 0x811c9dc5);
  });
});
