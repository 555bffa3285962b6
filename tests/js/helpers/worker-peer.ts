/**
 * The worker end of WorkerTransport: an echo server (helpers/echo-server.ts)
 * on the server side of the posted region. "exit-on-hang" exits the thread
 * abruptly (no close) when a Hang call arrives, as a crashing peer would.
 */
import { workerData } from "node:worker_threads";

import { Channel, FrameType } from "../../../js/src/index.js";
import { EnvelopeKind, parseEnvelope } from "../../../js/src/internal.js";
import { RpcTest } from "../gen/rpc_test_pb.js";
import { serveEcho } from "./echo-server.js";
import type { WorkerPeerData } from "./worker-transport.js";

const { region, behaviour } = workerData as WorkerPeerData;
const channel = new Channel(region, { side: "server" });
serveEcho(channel);
if (behaviour === "exit-on-hang") {
  channel.onMessage((message) => {
    if (message.type !== FrameType.COMMAND) return;
    const envelope = parseEnvelope(message.data as Uint8Array);
    if (envelope.kind === EnvelopeKind.REQUEST && envelope.methodId === RpcTest.methods.hang.id) process.exit(7);
  });
}
