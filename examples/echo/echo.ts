/**
 * The echo demo: JavaScript sends TEXT, BINARY and COMMAND messages over the
 * shared-memory channel; a C service on a native thread sends each one back.
 *
 *   node build/ts/examples/echo/echo.js
 *
 * Run it from the repository root (it loads the service library that
 * scripts/setup.sh builds), or set SHMRPC_SERVICES_DIR.
 */
import path from "node:path";
import { FrameType, type Message } from "shmrpc";
import { InProcessService } from "shmrpc/node";

const library = path.resolve(process.env.SHMRPC_SERVICES_DIR ?? "build/cmake/services", "libshmrpc_echo.so");
const service = new InProcessService({ library });
const { channel } = service;
const replies = channel[Symbol.asyncIterator]();

function describe(message: Message): string {
  switch (message.type) {
    case FrameType.TEXT:
      return `TEXT    ${JSON.stringify(message.data)}`;
    case FrameType.BINARY:
      return `BINARY  ${message.data.length} bytes [${message.data.subarray(0, 8).join(", ")}${message.data.length > 8 ? ", ..." : ""}]`;
    default:
      return `COMMAND ${new TextDecoder().decode(message.data)}`;
  }
}

const sent: Array<[FrameType, string | Uint8Array]> = [
  [FrameType.TEXT, "hello from JavaScript"],
  [FrameType.BINARY, Uint8Array.from({ length: 16 }, (_, i) => i * 3)],
  [FrameType.COMMAND, new TextEncoder().encode('{"op":"ping"}')],
  [FrameType.BINARY, new Uint8Array(4 << 20).fill(7)], // 4x the ring: fragmented
];
for (const [type, data] of sent) {
  const started = process.hrtime.bigint();
  await channel.send(type, data);
  const reply = await replies.next();
  const micros = Number(process.hrtime.bigint() - started) / 1000;
  if (reply.done) throw new Error("the echo service closed the channel");
  console.log(`echoed ${describe(reply.value)}  (${micros.toFixed(1)} µs)`);
}
console.log(`service exited with ${await service.close()}`);
