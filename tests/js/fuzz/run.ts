/**
 * Runs the TypeScript fuzz targets (scripts/fuzz.sh calls this).
 *
 *   node build/ts/tests/js/fuzz/run.js [--target NAME] [--runs N] [--seconds S] [--seed N]
 *
 * Prints one line per target: runs, inputs refused with the typed error,
 * distinct outcomes, corpus size, slowest run and heap. Exits 1 on a
 * finding (the input is saved to build/fuzz/crashes/).
 */
import path from "node:path";
import { parseArgs } from "node:util";

import { packageRoot } from "../../../js/src/native/addon.js";
import { FuzzFailure, fuzz } from "./engine.js";
import { targets } from "./targets.js";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    runs: { type: "string" },
    seconds: { type: "string" },
    seed: { type: "string", default: "1" },
  },
});
const chosen = values.target === undefined ? targets : targets.filter((t) => t.name === values.target);
if (chosen.length === 0) {
  console.error(`fuzz: no target ${values.target}; targets: ${targets.map((t) => t.name).join(", ")}`);
  process.exit(2);
}
const crashDir = path.join(packageRoot(), "build/fuzz/crashes");
try {
  for (const target of chosen) {
    const report = fuzz(target, {
      ...(values.runs !== undefined && { runs: Number(values.runs) }),
      seconds: values.seconds !== undefined ? Number(values.seconds) : values.runs === undefined ? 4 : undefined,
      seed: Number(values.seed),
      crashDir,
    });
    console.log(
      `js:${report.target}: ${report.runs} runs in ${report.seconds.toFixed(1)} s, ${report.refused} refused, ` +
        `${report.outcomes} outcomes, corpus ${report.corpus}, slowest ${report.slowestMs.toFixed(1)} ms, heap ${report.heapMB.toFixed(0)} MB`,
    );
  }
} catch (error) {
  if (!(error instanceof FuzzFailure)) throw error;
  console.error(error.message);
  if (error.cause) console.error(error.cause);
  process.exit(1);
}
