/** Answers each odd counter value with the next even one, spinning (Atomics peer). */
import { parentPort, workerData } from "node:worker_threads";

import { loadAddon } from "../../js/src/native/addon.js";

const { cpu, words, rounds } = workerData as { cpu: number; words: Int32Array; rounds: number };
loadAddon().pinThread(cpu);
parentPort!.postMessage("ready");
for (let i = 0; i < rounds; i++) {
  while (Atomics.load(words, 0) !== 2 * i + 1);
  Atomics.store(words, 0, 2 * i + 2);
}
