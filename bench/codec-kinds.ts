/**
 * Where the generated codec stands against protobufjs and
 * @bufbuild/protobuf field kind by field kind: one small message per kind
 * (a double, a short string, 200 packed int32, 20 map entries, ...), each
 * encoded and decoded in paired rounds (bench/lib/paired.ts). bench/codec.ts
 * measures whole messages; this one shows which kinds of field make their
 * ratios, and so where to look first.
 *
 *   node build/ts/bench/codec-kinds.js [--ms 1200] [--rounds 15] [--only double,rint32,...]
 */
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage } from "@bufbuild/protobuf";

import { MapsSchema, OptionalsSchema, RepeatedsSchema, ScalarsSchema } from "./gen/es/shmrpc/test/everything_pb.js";

import { Maps, Optionals, Repeateds, Scalars } from "../tests/codegen/golden/ts/shmrpc/test/everything_pb.js";
import type { MessageCodec, MessageInit } from "../js/src/pb/index.js";
import { loadProtobufjs, packageVersion } from "./lib/codec-peers.js";
import { compare } from "./lib/paired.js";

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const MEASURE_MS = Number(arg("--ms") ?? 1200);
const ROUNDS = Number(arg("--rounds") ?? 15);
const ONLY = arg("--only")?.split(",");

interface Kind {
  name: string;
  codec: MessageCodec<object>;
  schema: DescMessage;
  init: object;
}

function kind<T extends object>(name: string, codec: MessageCodec<T>, schema: DescMessage, init: MessageInit<T>): Kind {
  return { name, codec: codec as MessageCodec<object>, schema, init };
}

const kinds: Kind[] = [
  kind("double", Scalars, ScalarsSchema, { fDouble: 3.25 }),
  kind("int32", Scalars, ScalarsSchema, { fInt32: 300 }),
  kind("int64", Scalars, ScalarsSchema, { fInt64: 1234567890123n }),
  kind("string 12", Scalars, ScalarsSchema, { fString: "hello, world" }),
  kind("string 40", Scalars, ScalarsSchema, { fString: "customer note 1: handle with care, ok??" }),
  kind("bytes 16", Scalars, ScalarsSchema, { fBytes: new Uint8Array(16).fill(7) }),
  kind("message", Optionals, OptionalsSchema, { oMoney: { currency: "EUR", units: 125n, nanos: 1000 } }),
  kind("200 int32", Repeateds, RepeatedsSchema, { rInt32: Array.from({ length: 200 }, (_, i) => i * 37) }),
  kind("200 double", Repeateds, RepeatedsSchema, { rDouble: Array.from({ length: 200 }, (_, i) => i / 8) }),
  kind("40 string", Repeateds, RepeatedsSchema, {
    rString: Array.from({ length: 40 }, (_, i) => `customer note ${i}: handle with care`),
  }),
  kind("20 message", Repeateds, RepeatedsSchema, {
    rMoney: Array.from({ length: 20 }, (_, i) => ({ currency: "EUR", units: BigInt(i * 125), nanos: i })),
  }),
  kind("map str", Maps, MapsSchema, {
    stringToString: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`label-${i}`, `value ${i}`])),
  }),
  kind("map int32", Maps, MapsSchema, {
    int32ToInt64: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i * 3, BigInt(i)])),
  }),
];

function main(): void {
  const root = loadProtobufjs();
  console.log(
    `shmrpc's generated codec / protobufjs ${packageVersion("protobufjs")} and / @bufbuild/protobuf ` +
      `${packageVersion("@bufbuild/protobuf")}, per field kind: medians of the ratios within ${ROUNDS} paired rounds`,
  );
  console.log("kind          bytes   encode vs pbjs / bufbuild   decode vs pbjs / bufbuild");
  for (const k of kinds) {
    if (ONLY !== undefined && !ONLY.includes(k.name)) continue;
    const message = k.codec.create(k.init);
    const bytes = k.codec.encode(message);
    const type = root.lookupType(k.codec.typeName);
    const pbjsMessage = type.decode(bytes);
    const bufMessage = fromBinary(k.schema, bytes);
    let sink = 0;
    const encode = compare([
      () => (sink += k.codec.encode(message).length),
      () => (sink += type.encode(pbjsMessage).finish().length),
      () => (sink += toBinary(k.schema, bufMessage).length),
    ], ROUNDS, MEASURE_MS / ROUNDS);
    const decode = compare([
      () => k.codec.decode(bytes),
      () => type.decode(bytes),
      () => fromBinary(k.schema, bytes),
    ], ROUNDS, MEASURE_MS / ROUNDS);
    if (sink === 0) throw new Error("nothing was encoded");
    const pair = (c: { ratios: number[] }) => `${c.ratios[1]!.toFixed(2)}x / ${c.ratios[2]!.toFixed(2)}x`;
    console.log(`${k.name.padEnd(12)} ${String(bytes.length).padStart(6)}   ${pair(encode).padEnd(26)}  ${pair(decode)}`);
  }
}

main();
