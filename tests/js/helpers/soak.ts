/**
 * The soak run (issue 18; scripts/soak.sh runs it, CI does not): long
 * traffic through an in-process service, checked end to end.
 *
 *   node build/ts/tests/js/helpers/soak.js [--frames N] [--rpc-seconds S] [--seed N]
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
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FrameType, type Message } from "../../../js/src/index.js";
import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";
import { RpcClient, Status, isRpcError } from "../../../js/src/rpc/index.js";
import { RpcTestClient } from "../gen/rpc_test_pb.js";
import { seededRandom } from "./seeded.js";

const services = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  return hash >>> 0;
}

/** Memory over time. */
class MemoryLog {
  readonly samples: Array<{ at: string; rssMiB: number; heapMiB: number }> = [];
  sample(at: string): void {
    const usage = process.memoryUsage();
    this.samples.push({ at, rssMiB: Math.round(usage.rss / 2 ** 20), heapMiB: Math.round(usage.heapUsed / 2 ** 20) });
  }
  /** Flat: no sample after the first tenth exceeds the level at the first tenth by more than 32 MiB. */
  flat(): { flat: boolean; baselineMiB: number; maxMiB: number; lastMiB: number } {
    const from = Math.floor(this.samples.length / 10);
    const rest = this.samples.slice(from);
    const baselineMiB = rest[0]?.rssMiB ?? 0;
    const maxMiB = Math.max(...rest.map((s) => s.rssMiB));
    return { flat: maxMiB - baselineMiB <= 32, baselineMiB, maxMiB, lastMiB: rest.at(-1)?.rssMiB ?? 0 };
  }
}

// --- 1. frames ----------------------------------------------------------------

const RING = 64 << 10;
const WINDOW = 512;
/** Frame body: seq u32 LE, checksum u32 LE of the bytes after it, then bytes derived from seq. */
const HEADER = 8;

async function soakFrames(total: number, seed: number): Promise<Record<string, unknown>> {
  const random = seededRandom(seed);
  const service = new InProcessService({ library: path.join(services, "libshmrpc_channel_test.so"), capacity: RING });
  const channel = service.channel;
  const memory = new MemoryLog();
  const seen = new Uint8Array(Math.ceil(total / 8));
  let sent = 0;
  let received = 0;
  let expected = 0;
  let duplicated = 0;
  let reordered = 0;
  let corrupted = 0;
  let bytes = 0;
  const typeOf = new Uint8Array(1024); // the type of frame seq % 1024, to check types come back

  const sizeFor = (): number => {
    const r = random();
    if (r < 0.7) return HEADER + Math.floor(random() * 56); // small
    if (r < 0.95) return HEADER + Math.floor(random() * 2048); // up to 2 KiB
    if (r < 0.999) return HEADER + Math.floor(random() * 16384); // up to 16 KiB
    return RING + Math.floor(random() * RING); // larger than the ring: fragmented
  };
  const binary = (seq: number, size: number): Uint8Array => {
    const data = new Uint8Array(size);
    const view = new DataView(data.buffer);
    for (let i = HEADER; i < size; i++) data[i] = (seq * 31 + i) & 0xff;
    view.setUint32(0, seq, true);
    view.setUint32(4, fnv1a(data, HEADER, size), true);
    return data;
  };
  const text = (seq: number, size: number): string => {
    let pad = "";
    for (let i = 0; i < size; i++) pad += String.fromCharCode(97 + ((seq + i) % 26));
    return `${seq} ${pad.length} ${pad}`;
  };
  const check = (message: Message): void => {
    let seq: number;
    let ok: boolean;
    if (typeof message.data === "string") {
      const [seqText, lengthText, pad = ""] = message.data.split(" ");
      seq = Number(seqText);
      ok = Number(lengthText) === pad.length && message.data === text(seq, pad.length);
      bytes += message.data.length;
    } else {
      const data = message.data;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      seq = data.byteLength >= HEADER ? view.getUint32(0, true) : -1;
      ok = seq >= 0 && view.getUint32(4, true) === fnv1a(data, HEADER, data.byteLength);
      bytes += data.byteLength;
    }
    if (!ok || !(seq >= 0 && seq < total) || typeOf[seq % 1024] !== message.type) {
      corrupted++;
      return;
    }
    if (seen[seq >> 3]! & (1 << (seq & 7))) {
      duplicated++;
      return;
    }
    seen[seq >> 3]! |= 1 << (seq & 7);
    received++;
    if (seq !== expected) reordered++;
    expected = seq + 1;
  };

  const handled = (): number => received + duplicated + corrupted;
  let waiting = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const pump = (): void => {
    while (sent < total && !waiting && sent - handled() < WINDOW) {
      const seq = sent++;
      const size = sizeFor();
      const r = random();
      const type = r < 0.1 ? FrameType.TEXT : r < 0.55 ? FrameType.BINARY : FrameType.COMMAND;
      typeOf[seq % 1024] = type;
      const data = type === FrameType.TEXT ? text(seq, Math.min(size, 4096)) : binary(seq, size);
      if (size > RING / 4 - 5 || !channel.trySend(type, data)) {
        // Fragmented, or the ring is full: send() waits for space; the
        // next frames wait until it is written, so the order holds.
        waiting = true;
        void channel.send(type, data).then(() => {
          waiting = false;
          pump();
        });
        break;
      }
    }
    channel.flush();
  };
  const started = performance.now();
  let lastReport = started;
  let lastSample = started;
  const stop = channel.onMessage(
    (message) => {
      check(message);
      const count = handled();
      if (sent >= total && count >= sent) resolveDone();
      else if (sent - count < WINDOW / 2) pump();
      if ((count & 0x3fff) === 0) {
        const now = performance.now();
        if (now - lastSample > 2000) {
          lastSample = now;
          memory.sample(`${count} frames`);
        }
        if (now - lastReport > 10000) {
          lastReport = now;
          console.error(`frames: ${count} of ${total} (${Math.round(count / ((now - started) / 1000))}/s), rss ${memory.samples.at(-1)!.rssMiB} MiB`);
        }
      }
    },
    { borrow: true },
  );
  memory.sample("start");
  pump();
  // Waits for the last echo; a frame that never comes back ends the wait after 10 s of silence.
  let last = -1;
  while (!(await Promise.race([done.then(() => true), sleep(10000).then(() => false)]))) {
    if (handled() === last) break;
    last = handled();
  }
  memory.sample("end");
  stop();
  const exit = await service.close();
  const seconds = (performance.now() - started) / 1000;
  return {
    frames: total,
    sent,
    received,
    lost: sent - received,
    duplicated,
    reordered,
    corrupted,
    megabytes: Math.round(bytes / 2 ** 20),
    seconds: Math.round(seconds),
    serviceExit: exit,
    memory: memory.flat(),
    samples: memory.samples,
  };
}

// --- 2. RPC -------------------------------------------------------------------

async function soakRpc(seconds: number, seed: number): Promise<Record<string, unknown>> {
  const random = seededRandom(seed);
  const service = new InProcessService({ library: path.join(services, "libshmrpc_rpc_test.so") });
  const rpc = new RpcClient(service.channel);
  const client = new RpcTestClient(rpc);
  const memory = new MemoryLog();
  const counts = { started: 0, settled: 0, settledTwice: 0, ok: 0, deadline: 0, cancelled: 0, otherErrors: 0, crossed: 0, streamGaps: 0, streamItems: 0 };
  const otherErrors = new Map<string, number>();
  let inFlight = 0;
  const MAX_IN_FLIGHT = 256;

  const run = (work: (signal: AbortSignal | undefined, timeoutMs: number | undefined) => Promise<void>): void => {
    counts.started++;
    inFlight++;
    const r = random();
    const timeoutMs = r < 0.3 ? 1 + Math.floor(random() * 20) : undefined;
    let signal: AbortSignal | undefined;
    if (random() < 0.2) {
      const abort = new AbortController();
      signal = abort.signal;
      setTimeout(() => abort.abort(), Math.floor(random() * 10));
    }
    let settledOnce = false;
    const settle = (): void => {
      if (settledOnce) {
        counts.settledTwice++;
        return;
      }
      settledOnce = true;
      counts.settled++;
      inFlight--;
    };
    work(signal, timeoutMs).then(
      () => {
        counts.ok++;
        settle();
      },
      (error: unknown) => {
        if (isRpcError(error, Status.DEADLINE_EXCEEDED)) counts.deadline++;
        else if (isRpcError(error, Status.CANCELLED)) counts.cancelled++;
        else {
          counts.otherErrors++;
          const key = isRpcError(error) ? `${error.code}: ${error.message.slice(0, 80)}` : String(error).slice(0, 80);
          otherErrors.set(key, (otherErrors.get(key) ?? 0) + 1);
        }
        settle();
      },
    );
  };
  const issue = (n: number): void => {
    const choice = random();
    const options = (signal: AbortSignal | undefined, timeoutMs: number | undefined) => ({
      ...(signal && { signal }),
      ...(timeoutMs !== undefined && { timeoutMs }),
    });
    if (choice < 0.5) {
      const payload = new Uint8Array(Math.floor(random() * 4096)).fill(n & 0xff);
      run(async (signal, timeoutMs) => {
        const reply = await client.echo({ text: `call ${n}`, payload }, options(signal, timeoutMs));
        if (reply.text !== `call ${n}` || reply.payload.length !== payload.length || (payload.length > 0 && reply.payload[0] !== (n & 0xff))) counts.crossed++;
      });
    } else if (choice < 0.7) {
      run(async (signal, timeoutMs) => {
        const reply = await client.echoDeferred({ text: `deferred ${n}`, delayMs: Math.floor(random() * 3) }, options(signal, timeoutMs));
        if (reply.text !== `deferred ${n}`) counts.crossed++;
      });
    } else if (choice < 0.92) {
      const count = 1 + Math.floor(random() * 200);
      run(async (signal, timeoutMs) => {
        let next = 0;
        for await (const item of client.count({ count, payloadBytes: Math.floor(random() * 256) }, options(signal, timeoutMs))) {
          if (item.index !== next || (item.payload.length > 0 && item.payload[0] !== (next & 0xff))) counts.streamGaps++;
          next = item.index + 1;
          counts.streamItems++;
        }
        if (next !== count) counts.streamGaps++;
      });
    } else {
      run(async (signal, timeoutMs) => {
        // Only a deadline or a cancel ends a hang: give it one if it has neither.
        await client.hang({ text: "hang" }, signal || timeoutMs !== undefined ? options(signal, timeoutMs) : { timeoutMs: 5 });
      });
    }
  };

  const started = performance.now();
  const end = started + seconds * 1000;
  let n = 0;
  let nextSample = started;
  while (performance.now() < end) {
    while (inFlight < MAX_IN_FLIGHT) issue(n++);
    await sleep(random() < 0.5 ? 0 : 1);
    if (performance.now() >= nextSample) {
      memory.sample(`${Math.round((performance.now() - started) / 1000)} s`);
      if (memory.samples.length > 1) console.error(`rpc: ${counts.settled} calls settled, ${inFlight} in flight, rss ${memory.samples.at(-1)!.rssMiB} MiB`);
      nextSample += Math.max(1000, (seconds * 1000) / 60);
    }
  }
  // Quiesce: every call must settle on its own (deadlines, cancels, replies).
  const quiesceBy = performance.now() + 30000;
  while (inFlight > 0 && performance.now() < quiesceBy) await sleep(10);
  memory.sample("end");
  const stats = await client.getStats({}, { timeoutMs: 5000 });
  rpc.close();
  const exit = await service.close();
  return {
    seconds,
    ...counts,
    unsettled: counts.started - counts.settled,
    otherErrorKinds: Object.fromEntries(otherErrors),
    serverCallsInFlight: stats.callsInFlight,
    serverCallsAlive: stats.callsAlive,
    lateReplies: rpc.stats.lateReplies,
    serviceExit: exit,
    memory: memory.flat(),
    samples: memory.samples,
  };
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
