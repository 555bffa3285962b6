/** The echo service for @grpc/grpc-js in bench/rpc.ts: raw bytes in and out, no codec. */
import type { ServiceDefinition } from "@grpc/grpc-js";

const identity = (bytes: Buffer) => bytes;

export const echoService: ServiceDefinition = {
  echo: {
    path: "/bench.Bench/Echo",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
