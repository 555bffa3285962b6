/**
 * Seeded random messages of every type in the test schema: TS -> TS round
 * trips, encodedSize exactness and encodeInto agreement, and TS -> C
 * (nanopb) -> TS. A failure prints its seed; rerun one with
 * SHMRPC_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import * as common from "../codegen/golden/ts/shmrpc/test/common_pb.js";
import * as everything from "../codegen/golden/ts/shmrpc/test/everything_pb.js";
import * as service from "../codegen/golden/ts/shmrpc/test/service_pb.js";
import type { MessageCodec, MessageInit } from "../../js/src/pb/index.js";
import { findReencoder, reencodeInC } from "../codegen/support/c-peer.js";
import { Rng, randomMessage } from "../codegen/support/random.js";
import { messageDesc } from "../codegen/support/schema.js";

const CODECS: MessageCodec<object>[] = [
  common.Money,
  everything.Scalars,
  everything.Optionals,
  everything.Repeateds,
  everything.Maps,
  everything.Oneofs,
  everything.Outer,
  everything.Outer_Inner,
  everything.Tree,
  everything.Everything,
  everything.Awkward,
  service.EchoRequest,
  service.PriceQuery,
] as MessageCodec<object>[];

const BASE_SEED = Number(process.env.SHMRPC_SEED ?? 20240601);
const CASES = process.env.SHMRPC_SEED === undefined ? 400 : 1;

describe("random messages", () => {
  it(`round trip TS -> TS (${CASES} per type, ${CODECS.length} types)`, () => {
    for (const codec of CODECS) {
      const desc = messageDesc(codec.typeName);
      for (let i = 0; i < CASES; i++) {
        const seed = BASE_SEED + i;
        const init = randomMessage(new Rng(seed), desc, 0, { maxDepth: 4, noNul: false }) as MessageInit<object>;
        const expected = codec.create(init);
        const bytes = codec.encode(init);
        assert.equal(codec.encodedSize(init), bytes.length, `${codec.typeName} seed ${seed}`);
        assert.deepEqual(codec.decode(bytes), expected, `${codec.typeName} seed ${seed}`);
        // A created message encodes to the same bytes as its init.
        assert.deepEqual(codec.encode(expected), bytes, `${codec.typeName} seed ${seed}`);
        const target = new Uint8Array(bytes.length + 3);
        assert.equal(codec.encodeInto(init, target, 3), target.length);
        assert.deepEqual(target.subarray(3), bytes);
      }
    }
  });

  it("survive nanopb: TS -> C -> TS (3000 Everything messages)", () => {
    const program = findReencoder();
    const codec = everything.Everything;
    const desc = messageDesc(codec.typeName);
    const count = process.env.SHMRPC_SEED === undefined ? 3000 : 1;
    const messages: everything.Everything[] = [];
    for (let i = 0; i < count; i++) {
      const init = randomMessage(new Rng(BASE_SEED + 100000 + i), desc, 0, { maxDepth: 5, noNul: true });
      messages.push(codec.create(init as MessageInit<everything.Everything>));
    }
    const results = reencodeInC(program, messages.map((m) => codec.encode(m)));
    results.forEach((result, i) => {
      const seed = BASE_SEED + 100000 + i;
      if (!result.ok) assert.fail(`seed ${seed}: nanopb rejected it: ${result.error}`);
      assert.deepEqual(codec.decode(result.bytes), messages[i], `seed ${seed}`);
    });
  });
});
