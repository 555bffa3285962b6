/**
 * A module Worker that is an shmrpc client itself (loaded by
 * browser.test.ts): the portable entry and shmrpc/browser in a Worker,
 * which starts the service's Worker in turn and calls it. Workers have no
 * import maps: everything is imported by path.
 */
import { RpcClient } from "../../js/src/index.js";
import { WasmService } from "../../js/src/browser.js";
import { RpcTestClient } from "../js/gen/rpc_test_pb.js";

const scope = globalThis as unknown as { postMessage(message: unknown): void };
try {
  const service = await WasmService.start({ module: new URL("/services/rpc_test_single.wasm", location.href) });
  const rpc = new RpcTestClient(new RpcClient(service.channel));
  const echoed = await rpc.echo({ text: "from a Worker" });
  const status = await service.close();
  scope.postMessage({ text: echoed.text, status });
} catch (error) {
  scope.postMessage({ error: String(error) });
}
