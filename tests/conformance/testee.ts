#!/usr/bin/env node
/**
 * The testee of protobuf's conformance suite: reads ConformanceRequests
 * from stdin (each after a 4-byte little-endian length), decodes the payload
 * with the generated codec of the named message, re-encodes it and answers
 * with a ConformanceResponse on stdout. JSON requests and answers take the
 * gateway's route (json-route.ts); text format and JSPB are answered
 * `skipped`. scripts/conformance.sh runs it.
 */
import { readSync, writeSync } from "node:fs";

import * as pb from "shmrpc/pb";

import {
  ConformanceRequest,
  ConformanceResponse,
  FailureSet,
  TestCategory,
  WireFormat,
} from "../../build/conformance/gen/conformance_pb.js";
import { TestAllTypesProto2, file_test_messages_proto2 } from "../../build/conformance/gen/test_messages_proto2_pb.js";
import { TestAllTypesProto3, file_test_messages_proto3 } from "../../build/conformance/gen/test_messages_proto3_pb.js";
import { binaryFromJson, jsonFromBinary, jsonRegistry } from "./json-route.js";

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

const registry = jsonRegistry([file_test_messages_proto2, file_test_messages_proto3]);

/** Requests answered per format ("binary" or "json") and message type, and requests skipped. */
const answered = new Map<string, number>();
let skipped = 0;

function answer(request: ConformanceRequest): ConformanceResponse["result"] {
  if (request.messageType === "conformance.FailureSet") {
    return { case: "protobufPayload", value: FailureSet.encode({}) };
  }
  const type = codecs[request.messageType];
  const schema = registry.getMessage(request.messageType);
  if (type === undefined || schema === undefined) {
    return { case: "runtimeError", value: `unknown message type ${request.messageType}` };
  }
  const input = request.payload;
  const output = request.requestedOutputFormat;
  const jsonInOrOut = input.case === "jsonPayload" || output === WireFormat.JSON;
  if ((input.case !== "protobufPayload" && input.case !== "jsonPayload") || (output !== WireFormat.PROTOBUF && output !== WireFormat.JSON)) {
    skipped++;
    return { case: "skipped", value: "binary and JSON only: text format and JSPB are not implemented" };
  }
  const counter = `${jsonInOrOut ? "json" : "binary"} ${request.messageType}`;
  answered.set(counter, (answered.get(counter) ?? 0) + 1);

  let message: unknown;
  try {
    const bytes =
      input.case === "jsonPayload"
        ? binaryFromJson(registry, schema, input.value, request.testCategory === TestCategory.JSON_IGNORE_UNKNOWN_PARSING_TEST)
        : input.value;
    message = type.decode(bytes);
  } catch (error) {
    if (input.case === "protobufPayload" && !pb.isDecodeError(error)) throw error;
    return { case: "parseError", value: String(error) };
  }
  try {
    const bytes = type.encode(message);
    if (output === WireFormat.PROTOBUF) return { case: "protobufPayload", value: bytes };
    return { case: "jsonPayload", value: jsonFromBinary(registry, schema, bytes) };
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
  for (const [counter, count] of answered) process.stderr.write(`testee: ${counter} ${count}\n`);
  process.stderr.write(`testee: skipped ${skipped}\n`);
}

main();
