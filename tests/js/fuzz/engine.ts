/**
 * A mutation fuzz loop for the TypeScript decoders and parsers. Each input
 * must give a value or the target's typed error: any other exception, a
 * run over 100 ms (confirmed by running the input again) or a heap beyond
 * a bound fails, and the input is saved to build/fuzz/crashes/. Time is
 * the process's CPU time, so a busy machine that leaves the loop waiting
 * for a core does not count as a hang. Inputs
 * start from the target's seeds (tests/vectors) and are mutated (bit and
 * byte changes, boundary integers, inserted, deleted, repeated and spliced
 * ranges); an input whose outcome was not seen before joins the corpus, so
 * the loop spreads over the decoders' distinct errors and results.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface FuzzTarget {
  readonly name: string;
  /** Inputs to start from. */
  seeds(): Uint8Array[];
  /**
   * Runs one input. Returns a short description of the outcome (what kind
   * of value) and throws only errors that isExpected accepts, or an Error
   * for an invariant that does not hold.
   */
  run(input: Uint8Array): string;
  /** True for the typed errors a target may throw on bad input. */
  isExpected(error: unknown): boolean;
}

export interface FuzzOptions {
  /** Stop after this many inputs. */
  runs?: number;
  /** Stop after this many seconds. */
  seconds?: number;
  /** The PRNG seed; the same seed and target give the same inputs. */
  seed?: number;
  /** Where failing inputs are written. */
  crashDir: string;
}

export interface FuzzReport {
  target: string;
  runs: number;
  /** Inputs refused with the target's typed error. */
  refused: number;
  /** Distinct outcomes seen (the corpus grows by them). */
  outcomes: number;
  corpus: number;
  slowestMs: number;
  heapMB: number;
  seconds: number;
}

/** Slower than this is a hang. */
const HANG_MS = 100;
/** The heap may not grow past this. */
const HEAP_LIMIT_MB = 512;
const MAX_INPUT_BYTES = 1 << 16;
const MAX_CORPUS = 4096;

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** xorshift32: fast and reproducible. */
class Rng {
  constructor(private state: number) {
    if (this.state === 0) this.state = 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(rng: Rng, input: Uint8Array, corpus: Uint8Array[]): Uint8Array {
  let data: Uint8Array = input.slice();
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const at = rng.below(data.length + 1);
    switch (rng.below(9)) {
      case 0:
        if (data.length > 0) data[rng.below(data.length)]! ^= 1 << rng.below(8);
        break;
      case 1:
        if (data.length > 0) data[rng.below(data.length)] = rng.next() & 0xff;
        break;
      case 2: {
        // a boundary integer, little- or big-endian, 1 to 4 bytes
        const value = INTERESTING_U32[rng.below(INTERESTING_U32.length)]!;
        const width = 1 + rng.below(4);
        const bigEndian = rng.below(2) === 0;
        for (let i = 0; i < width && at + i < data.length; i++) {
          const shift = 8 * (bigEndian ? width - 1 - i : i);
          data[at + i] = (value >>> shift) & 0xff;
        }
        break;
      }
      case 3: {
        const extra = new Uint8Array(1 + rng.below(16)).map(() => rng.next() & 0xff);
        data = concat(data.subarray(0, at), extra, data.subarray(at));
        break;
      }
      case 4:
        data = concat(data.subarray(0, at), data.subarray(at + 1 + rng.below(16)));
        break;
      case 5: {
        const from = rng.below(data.length);
        const piece = data.slice(from, from + 1 + rng.below(32));
        data = concat(data.subarray(0, at), piece, data.subarray(at));
        break;
      }
      case 6: {
        const other = corpus[rng.below(corpus.length)]!;
        const from = rng.below(other.length);
        data = concat(data.subarray(0, at), other.subarray(from, from + 1 + rng.below(64)));
        break;
      }
      case 7:
        data = data.slice(0, rng.below(data.length + 1));
        break;
      default:
        // a varint-ish length byte: the decoders' favourite trap
        if (data.length > 0) data[rng.below(data.length)] = 0x80 | (rng.next() & 0x7f);
    }
  }
  return data.length > MAX_INPUT_BYTES ? data.subarray(0, MAX_INPUT_BYTES) : data;
}

export class FuzzFailure extends Error {
  override readonly name = "FuzzFailure";
}

function save(target: FuzzTarget, input: Uint8Array, crashDir: string): string {
  mkdirSync(crashDir, { recursive: true });
  const file = path.join(crashDir, `js-${target.name}-${createHash("sha1").update(input).digest("hex").slice(0, 16)}.bin`);
  writeFileSync(file, input);
  return file;
}

/** CPU milliseconds this process has used. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Runs `input` once; returns its outcome and the CPU time it took. */
function runOnce(target: FuzzTarget, input: Uint8Array): { outcome: string; ms: number; refused: boolean } {
  const start = cpuMs();
  try {
    const outcome = target.run(input);
    return { outcome, ms: cpuMs() - start, refused: false };
  } catch (error) {
    const ms = cpuMs() - start;
    if (!target.isExpected(error)) throw error;
    // Digits vary with the input; the rest names the kind of refusal.
    return { outcome: `refused: ${String((error as Error).message).replace(/\d+/g, "N")}`, ms, refused: true };
  }
}

/** Fuzzes `target` until options.runs or options.seconds; throws a FuzzFailure on a finding. */
export function fuzz(target: FuzzTarget, options: FuzzOptions): FuzzReport {
  const rng = new Rng(options.seed ?? 1);
  const corpus: Uint8Array[] = target.seeds().map((s) => s.slice());
  if (corpus.length === 0) corpus.push(new Uint8Array(0));
  const seedCount = corpus.length;
  const outcomes = new Set<string>();
  const runs = options.runs ?? Infinity;
  const until = options.seconds === undefined ? Infinity : performance.now() + options.seconds * 1000;
  const started = performance.now();
  let done = 0;
  let refused = 0;
  let slowestMs = 0;
  let heapMB = 0;
  const fail = (input: Uint8Array, why: string, cause?: unknown): never => {
    const file = save(target, input, options.crashDir);
    throw new FuzzFailure(`${target.name}: ${why} (input saved to ${file}; ${input.length} bytes)`, { cause });
  };
  while (done < runs && (done & 63 || performance.now() < until)) {
    // The seeds themselves first, then mutations of the corpus.
    const input = done < seedCount ? corpus[done]! : mutate(rng, corpus[rng.below(corpus.length)]!, corpus);
    let result: ReturnType<typeof runOnce>;
    try {
      result = runOnce(target, input);
      if (result.ms > HANG_MS) {
        // A garbage collection can land in any run: only a repeatably slow input is a hang.
        const again = Math.min(...[0, 1, 2].map(() => runOnce(target, input).ms));
        if (again > HANG_MS) fail(input, `took ${again.toFixed(1)} ms (over ${HANG_MS} ms)`);
        result.ms = again;
      }
    } catch (error) {
      if (error instanceof FuzzFailure) throw error;
      fail(input, `unexpected ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, error);
    }
    done++;
    if (result!.refused) refused++;
    slowestMs = Math.max(slowestMs, result!.ms);
    if (!outcomes.has(result!.outcome)) {
      outcomes.add(result!.outcome);
      if (corpus.length < MAX_CORPUS) corpus.push(input);
    }
    if ((done & 1023) === 0) {
      heapMB = process.memoryUsage().heapUsed / 2 ** 20;
      if (heapMB > HEAP_LIMIT_MB) fail(input, `heap at ${heapMB.toFixed(0)} MB (over ${HEAP_LIMIT_MB} MB)`);
    }
  }
  heapMB = process.memoryUsage().heapUsed / 2 ** 20;
  return {
    target: target.name,
    runs: done,
    refused,
    outcomes: outcomes.size,
    corpus: corpus.length,
    slowestMs,
    heapMB,
    seconds: (performance.now() - started) / 1000,
  };
}
