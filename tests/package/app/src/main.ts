// Calls the inventory service (the library named on the command line) and
// prints what it answered, one line per call.
import { RpcClient, isRpcError } from "shmrpc";
import { InProcessService } from "shmrpc/node";

import { InventoryClient, type ReserveRequest } from "./gen/inventory_pb.js";

const library = process.argv[2];
if (library === undefined) throw new Error("usage: main.js <service library>");

const service = new InProcessService({ library });
const rpc = new RpcClient(service.channel);
const inventory = new InventoryClient(rpc);

const plain: ReserveRequest = { sku: "bolt", quantity: 3 };
const first = await inventory.reserve(plain);
console.log(`reserve -> ${first.reservation}, ${first.remaining} left, note ${first.note ?? "absent"}`);

const second = await inventory.reserve({ sku: "nut", quantity: 2, note: "urgent" });
console.log(`reserve -> ${second.reservation}, ${second.remaining} left, note ${second.note ?? "absent"}`);

try {
  await inventory.reserve({ sku: "bolt", quantity: 100 });
} catch (error) {
  if (!isRpcError(error)) throw error;
  console.log(`reserve -> ${error.codeName}`);
}

const levels: number[] = [];
for await (const event of inventory.watch({ sku: "bolt", events: 3 })) levels.push(event.level);
console.log(`watch -> ${levels.join(" ")}`);

rpc.close();
console.log(`service exited with ${await service.close()}`);
