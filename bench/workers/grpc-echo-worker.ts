/** A @grpc/grpc-js server on a Unix socket whose one method echoes its bytes (bench/rpc.ts). */
import * as grpc from "@grpc/grpc-js";
import { parentPort, workerData } from "node:worker_threads";

import { loadAddon } from "../../js/src/native/addon.js";
import { echoService } from "../lib/grpc-echo.js";

const { cpu, socket } = workerData as { cpu: number; socket: string };
loadAddon().pinThread(cpu);
const server = new grpc.Server();
server.addService(echoService, {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
});
server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  parentPort!.postMessage("ready");
});
parentPort!.on("message", () => server.forceShutdown());
