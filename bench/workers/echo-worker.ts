/** Echoes every message back to the parent (worker_threads peer). */
import { parentPort, workerData } from "node:worker_threads";

import { loadAddon } from "../../js/src/native/addon.js";

loadAddon().pinThread((workerData as { cpu: number }).cpu);
parentPort!.on("message", (message) => parentPort!.postMessage(message));
parentPort!.postMessage("ready");
