/**
 * What the TypeScript fuzz loop attacks: the generated decoders, the RPC
 * envelope parser, the frame header parser and a Channel receiving from a
 * segment that a hostile peer scribbles on. Each target says which typed
 * error bad input may give; any other exception is a finding.
 */
import { Channel, FrameType, createSegment, isShmrpcError, type Message } from "../../../js/src/index.js";
import { SEGMENT_HEADER_BYTES } from "../../../js/src/internal.js";
import { decodeFrameHeader, writeFrameHeader } from "../../../js/src/channel/frame.js";
import { Offset, RingOffset } from "../../../js/src/channel/layout.js";
import { isDecodeError } from "../../../js/src/pb/index.js";
import { EnvelopeError, encodeEnvelope, parseEnvelope } from "../../../js/src/rpc/envelope.js";
import type { MessageType } from "../../../js/src/rpc/types.js";
import * as everything from "../../codegen/golden/ts/shmrpc/test/everything_pb.js";
import * as rpcTest from "../gen/rpc_test_pb.js";
import { readVector, vectorNames } from "../helpers/vectors.js";
import type { FuzzTarget } from "./engine.js";

type Codec = MessageType<unknown> & { encode(message: unknown): Uint8Array };

function vectorsIn(folder: string, suffix = ".bin"): Uint8Array[] {
  return vectorNames(folder)
    .filter((name) => name.endsWith(suffix))
    .map((name) => readVector(`${folder}/${name}`));
}

/** The fields of a decoded message that hold more than their default, as an outcome signature. */
function presentFields(message: unknown): string {
  const set = Object.entries(message as Record<string, unknown>).filter(([, v]) => {
    if (v === undefined || v === 0 || v === 0n || v === "" || v === false) return false;
    if (v instanceof Uint8Array || Array.isArray(v)) return v.length > 0;
    return typeof v !== "object" || v === null || Object.keys(v).length > 0;
  });
  return set.map(([k]) => k).join(",");
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The first byte picks a message type, the rest is decoded. A message that
 * decodes must encode, and that encoding must decode and encode again to
 * the same bytes.
 */
function decoderTarget(name: string, types: Codec[], seeds: () => Uint8Array[]): FuzzTarget {
  return {
    name,
    seeds,
    isExpected: isDecodeError,
    run(input) {
      const type = types[(input[0] ?? 0) % types.length]!;
      const first = type.decode(input.subarray(1));
      const bytes = type.encode(first);
      const again = type.encode(type.decode(bytes));
      if (!sameBytes(bytes, again)) throw new Error("decode(encode(message)) encodes differently");
      return `decoded ${presentFields(first)}`;
    },
  };
}

const everythingTypes = [
  everything.Everything,
  everything.Scalars,
  everything.Optionals,
  everything.Repeateds,
  everything.Maps,
  everything.Oneofs,
  everything.Outer,
  everything.Tree,
  everything.Awkward,
] as unknown as Codec[];

const rpcTypes = [rpcTest.EchoRequest, rpcTest.EchoReply, rpcTest.CountRequest, rpcTest.CountItem, rpcTest.Stats, rpcTest.StreamStopped] as unknown as Codec[];

const envelopeTarget: FuzzTarget = {
  name: "envelope",
  seeds: () => vectorsIn("rpc"),
  isExpected: (error) => error instanceof EnvelopeError,
  run(input) {
    const envelope = parseEnvelope(input);
    const again = encodeEnvelope(envelope, envelope.body);
    const expected = input.slice();
    expected[2] = expected[3] = 0; // reserved: ignored by the parser, written as 0
    if (!sameBytes(again, expected)) throw new Error("a parsed envelope encodes to other bytes");
    return `kind ${envelope.kind}`;
  },
};

const frameTarget: FuzzTarget = {
  name: "frame",
  seeds: () => vectorsIn("channel").filter((v) => v.length < 4096),
  isExpected: (error) => isShmrpcError(error, "EPROTO") || isShmrpcError(error, "EINVAL"),
  run(input) {
    const offset = (input[0] ?? 0) % 8;
    const header = decodeFrameHeader(input, offset);
    const again = new Uint8Array(5);
    writeFrameHeader(again, 0, header.type, header.more, header.length);
    if (!sameBytes(again, input.subarray(offset, offset + 5))) throw new Error("a decoded header encodes to other bytes");
    return `type ${header.type}${header.more ? " more" : ""}`;
  },
};

/**
 * A client Channel reading what a hostile server writes: frame bytes at
 * the server's position, its tail published or forged, any word of the
 * segment overwritten, the server's state set, all between receives. The
 * channel may fail with EPROTO or end with ECLOSED (EPEERDEAD for a state
 * word set to DEAD); messages it delivers
 * have a valid type and fit its limit.
 */
const channelTarget: FuzzTarget = {
  name: "channel",
  seeds: () =>
    vectorsIn("channel")
      .filter((v) => v.length < 1024)
      .map((stream) => {
        // capacity selector, u16 limit, then write (0) + publish (1) + receive (4)
        const ops: number[] = [0, 0xe8, 0x03];
        for (let at = 0; at < stream.length; at += 60) {
          const chunk = stream.subarray(at, at + 60);
          ops.push(0, chunk.length - 1, ...chunk, 1, 4);
        }
        return Uint8Array.from(ops);
      }),
  isExpected: (error) => isShmrpcError(error, "EPROTO") || isShmrpcError(error, "ECLOSED") || isShmrpcError(error, "EPEERDEAD"),
  run(input) {
    let at = 0;
    const u8 = () => input[at++] ?? 0;
    const u16 = () => u8() | (u8() << 8);
    const capacity = 64 << (u8() % 3);
    const maxMessageBytes = 1 + (u16() % 2048);
    const sab = createSegment({ capacityC2S: 64, capacityS2C: capacity });
    const bytes = new Uint8Array(sab);
    const words = new Int32Array(sab);
    const dataOffset = SEGMENT_HEADER_BYTES + 64;
    const tailWord = (Offset.RING1_CONTROL + RingOffset.TAIL) / 4;
    // The hostile server: opens, then writes as it likes.
    Atomics.store(words, Offset.SERVER_MAX_MESSAGE / 4, 1 << 20);
    Atomics.store(words, Offset.SERVER_STATE / 4, 1);
    const channel = new Channel(sab, { side: "client", spinMicros: 0, maxMessageBytes });
    let tail = 0;
    let delivered = 0;
    const check = (message: Message | undefined): boolean => {
      if (!message) return false;
      if (message.type !== FrameType.TEXT && message.type !== FrameType.BINARY && message.type !== FrameType.COMMAND) {
        throw new Error(`a message of type ${String(message.type)}`);
      }
      if (message.data.length > maxMessageBytes) throw new Error(`a ${message.data.length}-byte message over the ${maxMessageBytes}-byte limit`);
      delivered++;
      return true;
    };
    try {
      for (let ops = 0; at < input.length && ops < 4096; ops++) {
        switch (u8() % 6) {
          case 0: {
            const n = u8() + 1;
            for (let i = 0; i < n && at < input.length; i++) bytes[dataOffset + (tail++ & (capacity - 1))] = u8();
            break;
          }
          case 1:
            Atomics.store(words, tailWord, tail);
            break;
          case 2:
            Atomics.store(words, u16() % words.length, u16() | (u16() << 16));
            break;
          case 3:
            check(channel.receiveSync(0));
            break;
          case 4:
            for (let i = 0; i < 64 && check(channel.receiveSync(0)); i++);
            break;
          default:
            Atomics.store(words, Offset.SERVER_STATE / 4, 2); // the server closes
        }
      }
      for (let i = 0; i < 64 && check(channel.receiveSync(0)); i++);
      return `delivered ${Math.min(delivered, 4)}`;
    } finally {
      channel.close();
    }
  },
};

export const targets: FuzzTarget[] = [
  decoderTarget("pb-everything", everythingTypes, () => vectorsIn("messages").map((m) => Uint8Array.of(0, ...m))),
  decoderTarget("pb-rpc", rpcTypes, () =>
    ["request_echo.bin", "response.bin", "request_count.bin", "stream_message.bin"].map((name, i) =>
      Uint8Array.of([0, 1, 2, 3][i]!, ...readVector(`rpc/${name}`).subarray(28)),
    ),
  ),
  envelopeTarget,
  frameTarget,
  channelTarget,
];
