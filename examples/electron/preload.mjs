// Preload for the greeter window: the shmrpc runtime lives here, in the
// isolated preload world, because a SharedArrayBuffer cannot cross
// contextBridge. The page gets function stubs whose arguments and results
// are plain objects (structured clone).
import { contextBridge } from "electron";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { InProcessService, RpcClient, isRpcError } from "shmrpc";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { GreeterClient } = await import(path.join(root, "build/ts/examples/greeter/gen/greeter_pb.js"));

const service = new InProcessService({
  library: path.join(root, "build/cmake/services/libshmrpc_greeter.so"),
});
const rpc = new RpcClient(service.channel);
const greeter = new GreeterClient(rpc);
window.addEventListener("beforeunload", () => {
  rpc.close();
  void service.close();
});

// RpcError does not survive the bridge as a class: send its fields.
function bridgeError(error) {
  if (!isRpcError(error)) throw error;
  throw new Error(`${error.codeName}: ${error.message}`);
}

contextBridge.exposeInMainWorld("greeter", {
  sayHello: (request) => greeter.sayHello(request).catch(bridgeError),
  streamGreetings: async (request, onGreeting) => {
    try {
      for await (const greeting of greeter.streamGreetings(request)) onGreeting(greeting);
    } catch (error) {
      bridgeError(error);
    }
  },
});
