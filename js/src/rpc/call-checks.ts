/**
 * The RpcClient's checks of what callers pass it (client options, method
 * descriptors, per-call options), each failing with a TypeError that names
 * the argument, and the text a call aborted by its signal fails with.
 */
import type { CallOptions, MethodDescriptor } from "./types.js";

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`RpcClient: ${name} must be a positive integer`);
  }
  return value;
}

export function checkMethod(method: MethodDescriptor<unknown, unknown>, kind: string): void {
  if (method === null || typeof method !== "object" || typeof method.requestType?.encodeInto !== "function") {
    throw new TypeError("RpcClient: the first argument must be a MethodDescriptor");
  }
  if (method.kind !== kind) {
    throw new TypeError(`RpcClient: ${method.path} is a ${method.kind} method, not ${kind}`);
  }
}

export interface CheckedOptions {
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
}

const NO_OPTIONS: CheckedOptions = Object.freeze({ timeoutMs: undefined, signal: undefined });

export function checkOptions(options: CallOptions | undefined): CheckedOptions {
  if (options === undefined) return NO_OPTIONS;
  const timeoutMs = options.timeoutMs;
  const signal = options.signal;
  if (timeoutMs !== undefined && (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs))) {
    throw new TypeError("RpcClient: options.timeoutMs must be a number");
  }
  if (signal !== undefined && typeof signal?.addEventListener !== "function") {
    throw new TypeError("RpcClient: options.signal must be an AbortSignal");
  }
  return { timeoutMs: timeoutMs === Infinity ? undefined : timeoutMs, signal };
}

export function abortText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? `aborted: ${reason.message}` : "aborted";
}
