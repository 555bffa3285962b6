/**
 * Messages that contain themselves (tests/proto/shmrpc/test/recursion.proto)
 * round-trip through TypeScript and through nanopb, where the singular
 * fields on a cycle are pointers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Holder, Node, Pong } from "../codegen/golden/ts/shmrpc/test/recursion_pb.js";
import type { MessageCodec, MessageInit } from "../../js/src/pb/index.js";
import { findReencoder, reencodeInC } from "../codegen/support/c-peer.js";

function chain(depth: number): Node {
  let node = Node.create({ value: depth });
  for (let i = depth - 1; i >= 0; i--) {
    node = Node.create({ value: i, child: node, children: i % 3 === 0 ? [{ value: -(i + 1) }] : [],
      named: i % 4 === 0 ? { k: { value: i * 10, child: { value: 1 } } } : {} });
  }
  return node;
}

function throughC<T>(codec: MessageCodec<T>, type: string, message: T): T {
  const [back] = reencodeInC(findReencoder(), [codec.encode(message as MessageInit<T>)], type);
  assert.ok(back?.ok, back?.ok === false ? back.error : "");
  return codec.decode(back.bytes);
}

describe("recursive messages", () => {
  it("a Node chain round-trips in TypeScript and through C", () => {
    const node = chain(40);
    assert.deepEqual(Node.decode(Node.encode(node)), node);
    assert.deepEqual(throughC(Node, "Node", node), node);
  });

  it("mutual recursion and recursion through a oneof round-trip through C", () => {
    const pong = Pong.create({
      ping: { note: "a", pong: { ping: { note: "b" }, next: { case: "node", value: { value: 3 } } } },
      next: { case: "again", value: { next: { case: "again", value: { ping: { note: "c" } } } } },
    });
    assert.deepEqual(throughC(Pong, "Pong", pong), pong);
    const holder = Holder.create({ node: chain(3), ping: { note: "h" } });
    assert.deepEqual(throughC(Holder, "Holder", holder), holder);
  });
});
