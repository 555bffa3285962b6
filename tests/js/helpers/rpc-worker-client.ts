/**
 * An RPC client in a worker thread that uses only the portable entry and
 * generated code: it attaches to the region the test posts (a Uint8Array
 * over part of a SharedArrayBuffer), calls the test's echo server in the
 * ways a browser Worker would, posts what it got back, and exits.
 */
import { parentPort, workerData } from "node:worker_threads";

import { Channel, RpcClient } from "../../../js/src/index.js";
import { RpcTest, RpcTestClient } from "../gen/rpc_test_pb.js";

export interface WorkerReport {
  sequential: string[];
  payloadBytes: number[];
  concurrent: string[];
  sync: string;
}

const { region } = workerData as { region: Uint8Array };
const channel = new Channel(region, { side: "client" });
const rpc = new RpcClient(channel);
const client = new RpcTestClient(rpc);

const report: WorkerReport = { sequential: [], payloadBytes: [], concurrent: [], sync: "" };
for (let i = 0; i < 40; i++) {
  // Payloads up to 3.9 KB through 1 KiB rings: fragmented both ways.
  const reply = await client.echo({ text: `call ${i}`, payload: new Uint8Array(i * 100).fill(i) });
  report.sequential.push(reply.text);
  report.payloadBytes.push(reply.payload.every((b) => b === i) ? reply.payload.length : -1);
}
const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => client.echo({ text: `concurrent ${i}` })));
report.concurrent = replies.map((reply) => reply.text);
report.sync = rpc.unarySync(RpcTest.methods.echo, { text: "sync" }).text;
rpc.close();
channel.close();
parentPort!.postMessage(report);
