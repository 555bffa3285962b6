/**
 * Run in a fresh process: `node import-probe.js ENTRY LOG`. Registers the
 * import recorder, then imports ENTRY, so LOG lists every module ENTRY's
 * graph resolves (and nothing this probe needed itself).
 */
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const [entry, log] = process.argv.slice(2);
if (!entry || !log) throw new Error("usage: import-probe.js ENTRY LOG");
register(new URL("./import-recorder.js", import.meta.url), { data: { log } });
await import(pathToFileURL(entry).href);
