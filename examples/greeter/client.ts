/**
 * The greeter client: starts the C service in-process, then calls it with
 * typed methods generated from proto/greeter.proto (the repository's
 * top-level schema folder).
 *
 *   node build/ts/examples/greeter/client.js [name]
 *
 * Run it from the repository root (it loads the service library that
 * scripts/setup.sh builds), or set SHMRPC_SERVICES_DIR.
 */
import path from "node:path";

import { RpcClient, isRpcError } from "shmrpc";
import { InProcessService } from "shmrpc/node";

import { GreeterClient } from "./gen/greeter_pb.js";

const name = process.argv[2] ?? "shmrpc";
const service = new InProcessService({
  library: path.resolve(process.env.SHMRPC_SERVICES_DIR ?? "build/cmake/services", "libshmrpc_greeter.so"),
});
const rpc = new RpcClient(service.channel);
const greeter = new GreeterClient(rpc);

// A unary call: a Promise of the typed reply.
const reply = await greeter.sayHello({ name });
console.log(`SayHello        -> ${reply.message}`);

// A server stream: an async iterable with backpressure.
for await (const greeting of greeter.streamGreetings({ name, count: 3 })) {
  console.log(`StreamGreetings -> #${greeting.sequence} ${greeting.message}`);
}

// Errors carry a gRPC status: this deadline is too short for 100 000 messages.
try {
  for await (const _ of greeter.streamGreetings({ name, count: 100_000 }, { timeoutMs: 1 }));
} catch (error) {
  if (!isRpcError(error)) throw error;
  console.log(`deadline        -> ${error.message}`);
}

// Round-trip time of an awaited call (bench/rpc.ts measures properly).
const rounds = 10_000;
const samples = new Float64Array(rounds);
for (let i = 0; i < rounds; i++) {
  const started = performance.now();
  await greeter.sayHello({ name });
  samples[i] = (performance.now() - started) * 1000;
}
samples.sort();
console.log(`round trip      -> ${samples[rounds >> 1]!.toFixed(1)} µs median of ${rounds} awaited sayHello calls`);

rpc.close();
console.log(`service exited with ${await service.close()}`);
