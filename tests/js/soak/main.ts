/**
 * The soak run (issue 18; scripts/soak.sh runs it, CI does not): long
 * traffic through an in-process service, checked end to end.
 *
 *   node build/ts/tests/js/soak/main.js [--frames N] [--rpc-seconds S] [--seed N]
 *
 * 1. Frames: N frames (default 10^8) of mixed types (TEXT, BINARY,
 *    COMMAND) and sizes (empty, small, kilobytes, larger than the ring, so
 *    fragmented) through the C echo service, each carrying its sequence
 *    number and a checksum of its bytes. Every echoed frame is checked:
 *    lost (never came back), duplicated (came back twice), reordered (came
 *    back before an earlier one) and corrupted (bad checksum) must all be 0.
 * 2. RPC: S seconds (default 600) of calls to the RPC test service with up
 *    to 256 in flight: unary echoes whose reply must match the request,
 *    deferred echoes, streams whose items must arrive in order without
 *    gaps, hangs; a random share with deadlines, a random share cancelled
 *    through an AbortSignal at a random moment. Every call must settle
 *    exactly once (unsettled 0, settled twice 0), no reply may answer
 *    another call (crossed 0), and the server must hold no call at the end.
 *
 * Memory (RSS and the JavaScript heap) is sampled as it runs; the report
 * prints the samples and whether RSS stayed flat (within 32 MiB of its
 * level after the first tenth). Prints progress lines, then one JSON line;
 * the exit code is 0 only if every count that must be 0 is 0.
 */
import { soakFrames } from "./frames.js";
import { soakRpc } from "./rpc.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const frames = option("frames", 1e8);
const rpcSeconds = option("rpc-seconds", 600);
const seed = option("seed", 1);
const report: Record<string, unknown> = {};
if (frames > 0) {
  console.error(`== frames: ${frames}`);
  report.frames = await soakFrames(frames, seed);
  console.error(JSON.stringify({ ...(report.frames as object), samples: undefined }));
}
if (rpcSeconds > 0) {
  console.error(`== rpc: ${rpcSeconds} s`);
  report.rpc = await soakRpc(rpcSeconds, seed);
  console.error(JSON.stringify({ ...(report.rpc as object), samples: undefined }));
}
console.log(JSON.stringify(report));
const f = report.frames as Record<string, number> | undefined;
const r = report.rpc as Record<string, number> | undefined;
const zero = [f?.lost, f?.duplicated, f?.reordered, f?.corrupted, r?.unsettled, r?.settledTwice, r?.crossed, r?.streamGaps, r?.serverCallsInFlight, r?.serverCallsAlive];
const flat = [f, r].every((part) => !part || (part.memory as unknown as { flat: boolean }).flat);
process.exitCode = zero.every((v) => v === undefined || v === 0) && flat ? 0 : 1;
