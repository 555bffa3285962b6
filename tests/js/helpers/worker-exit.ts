/**
 * A Worker thread with two busy in-process services on its event loop is
 * terminated mid-call; then this thread serves a call of its own. Prints
 * {"after": "..."} once it has. With "worker-only" this thread loads the
 * addon only after the Worker is gone (the Worker's environment was then
 * the addon's only user, and unloaded it on exit); with "both" it loads it
 * first. Run by tests/js/worker-exit.test.ts in a child process, since a
 * regression crashes the process.
 */
import { once } from "node:events";
import path from "node:path";
import { Worker } from "node:worker_threads";

const [mode, library] = process.argv.slice(2) as ["worker-only" | "both", string];
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

const before = mode === "both" ? await callHere("before") : undefined;
const source = `
  const { parentPort, workerData } = await import("node:worker_threads");
  const { InProcessService } = await import(${JSON.stringify(nodeEntry)});
  const { RpcClient } = await import(${JSON.stringify(rpcEntry)});
  const { RpcTestClient } = await import(${JSON.stringify(generated)});
  const clients = [0, 1].map(() => new RpcTestClient(new RpcClient(new InProcessService({ library: workerData }).channel)));
  let calls = 0;
  for (const client of clients) (async () => { for (;;) { await client.echo({ text: "w" }); if (++calls === 200) parentPort.postMessage("busy"); } })();
`;
const worker = new Worker(source, { eval: true, workerData: path.resolve(library) });
await Promise.race([once(worker, "message"), once(worker, "error").then(([error]) => Promise.reject(error))]);
await worker.terminate();
console.log(JSON.stringify({ before, after: await callHere("after") }));
