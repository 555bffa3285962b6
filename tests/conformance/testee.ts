#!/usr/bin/env node
/**
 * The testee of protobuf's conformance suite: reads ConformanceRequests
 * from stdin (each after a 4-byte little-endian length), decodes the payload
 * with the generated codec of the named message, re-encodes it and answers
 * with a ConformanceResponse on stdout. Binary only: requests in or for JSON,
 * text or JSPB are answered `skipped`. scripts/conformance.sh runs it.
 */
import { readSync, writeSync } from "node:fs";

import * as pb from "shmrpc/pb";

import {
  ConformanceRequest,
  ConformanceResponse,
  FailureSet,
  WireFormat,
} from "../../build/conformance/gen/conformance_pb.js";
import { TestAllTypesProto2 } from "../../build/conformance/gen/test_messages_proto2_pb.js";
import { TestAllTypesProto3 } from "../../build/conformance/gen/test_messages_proto3_pb.js";

interface Codec {
  decode(bytes: Uint8Array): unknown;
  encode(message: unknown): Uint8Array;
}

function codec<T>(type: pb.MessageType<T>): Codec {
  return { decode: (bytes) => type.decode(bytes), encode: (message) => type.encode(message as pb.MessageInit<T>) };
}

const codecs: { [name: string]: Codec } = {
  [TestAllTypesProto2.typeName]: codec(TestAllTypesProto2),
  [TestAllTypesProto3.typeName]: codec(TestAllTypesProto3),
};

/** Binary requests answered per message type, and requests skipped. */
const binary = new Map<string, number>();
let skipped = 0;

function answer(request: ConformanceRequest): ConformanceResponse["result"] {
  if (request.messageType === "conformance.FailureSet") {
    return { case: "protobufPayload", value: FailureSet.encode({}) };
  }
  const type = codecs[request.messageType];
  if (type === undefined) return { case: "runtimeError", value: `unknown message type ${request.messageType}` };
  if (request.payload.case !== "protobufPayload" || request.requestedOutputFormat !== WireFormat.PROTOBUF) {
    skipped++;
    return { case: "skipped", value: "binary only: JSON, text and JSPB are not implemented" };
  }
  binary.set(request.messageType, (binary.get(request.messageType) ?? 0) + 1);
  let message: unknown;
  try {
    message = type.decode(request.payload.value);
  } catch (error) {
    if (!pb.isDecodeError(error)) throw error;
    return { case: "parseError", value: error.message };
  }
  try {
    return { case: "protobufPayload", value: type.encode(message) };
  } catch (error) {
    return { case: "serializeError", value: String(error) };
  }
}

/** Exactly `n` bytes from stdin, or undefined at its end. */
function readExactly(n: number): Uint8Array | undefined {
  const out = new Uint8Array(n);
  let have = 0;
  while (have < n) {
    const got = readSync(0, out, have, n - have, null);
    if (got === 0) {
      if (have === 0) return undefined;
      throw new Error(`stdin ended inside a request (${have} of ${n} bytes)`);
    }
    have += got;
  }
  return out;
}

function writeAll(bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(1, bytes, done);
}

function main(): void {
  for (;;) {
    const header = readExactly(4);
    if (header === undefined) break;
    const size = new DataView(header.buffer).getUint32(0, true);
    const request = ConformanceRequest.decode(readExactly(size) ?? new Uint8Array(0));
    const response = ConformanceResponse.encode({ result: answer(request) });
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, response.length, true);
    writeAll(length);
    writeAll(response);
  }
  // scripts/conformance.sh reads these lines from the runner's output.
  for (const [type, count] of binary) process.stderr.write(`testee: binary ${type} ${count}\n`);
  process.stderr.write(`testee: skipped ${skipped}\n`);
}

main();
