// The preload's work, given contextBridge: the shmrpc runtime lives in the
// isolated preload world (a SharedArrayBuffer cannot cross contextBridge);
// the page gets function stubs whose arguments and results are plain objects.
import { pathToFileURL } from "node:url";

import { RpcClient, isRpcError } from "shmrpc";
import { InProcessService } from "shmrpc/node";

/** The value of --name=value among the process's arguments. */
function argument(argv, name) {
  const prefix = `--${name}=`;
  const found = argv.find((arg) => arg.startsWith(prefix));
  if (found === undefined) throw new Error(`preload: no ${prefix}... argument (main.cjs passes it)`);
  return found.slice(prefix.length);
}

// RpcError does not survive the bridge as a class: send its fields.
function bridgeError(error) {
  if (!isRpcError(error)) throw error;
  throw new Error(`${error.codeName}: ${error.message}`);
}

/**
 * Exposes window.greeter at once (synchronously), so a page script that
 * calls it while loading finds it. The generated client is loaded by a
 * dynamic import (its path comes from main.cjs), so the stubs wait for it
 * before their first call. Returns { close } for the page's unload.
 */
export function exposeGreeter(bridge, argv) {
  const library = argument(argv, "greeter-service");
  const clientModule = pathToFileURL(argument(argv, "greeter-client")).href;
  const ready = import(clientModule).then(({ GreeterClient }) => {
    const service = new InProcessService({ library });
    const rpc = new RpcClient(service.channel);
    return { service, rpc, greeter: new GreeterClient(rpc) };
  });
  // A failed start is reported here once; every call rejects with it.
  ready.catch((error) => console.error("greeter preload:", error));
  // Call options cross as plain data: only the deadline (an AbortSignal cannot cross).
  const callOptions = (options) => (options?.timeoutMs === undefined ? undefined : { timeoutMs: options.timeoutMs });
  bridge.exposeInMainWorld("greeter", {
    sayHello: async (request, options) =>
      (await ready).greeter.sayHello(request, callOptions(options)).catch(bridgeError),
    streamGreetings: async (request, onGreeting, options) => {
      const { greeter } = await ready;
      try {
        for await (const greeting of greeter.streamGreetings(request, callOptions(options))) onGreeting(greeting);
      } catch (error) {
        bridgeError(error);
      }
    },
  });
  return {
    close: async () => {
      const { service, rpc } = await ready;
      rpc.close();
      return service.close();
    },
  };
}
