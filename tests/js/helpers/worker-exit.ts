/**
 * A Worker thread with two busy channels on its event loop is terminated
 * mid-call; then this thread serves a call of its own. Prints
 * {"after": "..."} once it has. Modes:
 * - "worker-only": two in-process services, and this thread loads the
 *   addon only after the Worker is gone (the Worker's environment was the
 *   addon's only user, and unloaded it on exit);
 * - "both": the same, with the addon loaded here first;
 * - "cross-process", "relay": two connections to the shmrpc-host the test
 *   runs under "exit" (argument 3 its runtime directory), on the direct
 *   route (V8 frees their mappings when the Worker's isolate goes) or
 *   through the relay.
 * Run by tests/js/worker-exit.test.ts in a child process, since a
 * regression crashes the process.
 */
import { once } from "node:events";
import path from "node:path";
import { Worker } from "node:worker_threads";

const [mode, library, runtimeDir] = process.argv.slice(2) as ["worker-only" | "both" | "cross-process" | "relay", string, string?];
const entry = (relative: string) => new URL(relative, import.meta.url).href;
const nodeEntry = entry("../../../js/src/node.js");
const rpcEntry = entry("../../../js/src/rpc/index.js");
const generated = entry("../gen/rpc_test_pb.js");

/** One echo through a service of this thread's own. */
async function callHere(text: string): Promise<string> {
  const { InProcessService } = await import(nodeEntry);
  const { RpcClient } = await import(rpcEntry);
  const { RpcTestClient } = await import(generated);
  const service = new InProcessService({ library });
  const rpc = new RpcClient(service.channel);
  try {
    return (await new RpcTestClient(rpc).echo({ text })).text as string;
  } finally {
    rpc.close();
    await service.close();
  }
}

const crossProcess = mode === "cross-process" || mode === "relay";
const before = mode === "both" ? await callHere("before") : undefined;
const open = crossProcess
  ? `const { connect } = await import(${JSON.stringify(nodeEntry)});
     const channels = await Promise.all([0, 1].map(async () => (await connect("exit", { runtimeDir: workerData.runtimeDir, relay: workerData.relay })).channel));`
  : `const { InProcessService } = await import(${JSON.stringify(nodeEntry)});
     const channels = [0, 1].map(() => new InProcessService({ library: workerData.library }).channel);`;
const source = `
  const { parentPort, workerData } = await import("node:worker_threads");
  const { RpcClient } = await import(${JSON.stringify(rpcEntry)});
  const { RpcTestClient } = await import(${JSON.stringify(generated)});
  ${open}
  const clients = channels.map((channel) => new RpcTestClient(new RpcClient(channel)));
  let calls = 0;
  for (const client of clients) (async () => { for (;;) { await client.echo({ text: "w" }); if (++calls === 200) parentPort.postMessage("busy"); } })();
`;
const workerData = { library: path.resolve(library), runtimeDir, relay: mode === "relay" };
const worker = new Worker(source, { eval: true, workerData });
await Promise.race([once(worker, "message"), once(worker, "error").then(([error]) => Promise.reject(error))]);
await worker.terminate();
console.log(JSON.stringify({ before, after: await callHere("after") }));
