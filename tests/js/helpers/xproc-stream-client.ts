/**
 * A client process for tests/js/cross-process.test.ts, to be killed with -9
 * mid-stream: connects to NAME in RUNTIME_DIR (argv; ROUTE "relayed" for
 * the relay, else directly), starts a long
 * CountDeferred stream, prints "streaming" once items arrive, then stops
 * reading (the server's stream thread waits for credit) and waits.
 */
import { connect } from "../../../js/src/node.js";
import { RpcClient } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";

const [name, runtimeDir, route] = process.argv.slice(2);
const connection = await connect(name!, { runtimeDir: runtimeDir!, relay: route === "relayed" });
const client = new RpcTestClient(new RpcClient(connection.channel, { streamWindow: 8 }));
const stream = client.countDeferred({ count: 1_000_000_000, payloadBytes: 16 })[Symbol.asyncIterator]();
for (let i = 0; i < 8; i++) await stream.next();
process.stdout.write("streaming\n");
setInterval(() => {}, 1 << 30);
