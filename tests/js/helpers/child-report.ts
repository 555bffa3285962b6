/**
 * Runs a helper script in a child Node process that is killed after a
 * timeout, and returns the JSON report it printed last. Tests whose subject
 * may hang (close(), a wedged service) or needs its own process
 * (--expose-gc, an exit that must happen by itself) run this way, so that a
 * regression fails the test instead of hanging the run.
 */
import { execFile } from "node:child_process";

export interface ChildOptions {
  /** Node flags before the script (--expose-gc). */
  nodeFlags?: string[];
  /** Killed (SIGKILL) after this many milliseconds. */
  timeoutMs: number;
  /** A child that exits with 1 after printing its report still reports (it found failures). */
  reportsFailures?: boolean;
}

/** Runs `node [flags] script ...args`; its last stdout line parsed as JSON. */
export function childReport<T = Record<string, unknown>>(script: string, args: string[], options: ChildOptions): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...(options.nodeFlags ?? []), script, ...args],
      { timeout: options.timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const report = stdout.trim().split("\n").pop();
        if (error && !(options.reportsFailures && report && error.code === 1)) {
          const how = (error as { killed?: boolean }).killed ? `still running after ${options.timeoutMs} ms (killed)` : error.message;
          const tail = stderr.trim().split("\n").slice(-5).join("\n");
          reject(new Error(`${script} ${args.join(" ")}: ${how}\nstdout: ${report ?? ""}\nstderr: ${tail}`));
          return;
        }
        resolve(JSON.parse(report || "{}") as T);
      },
    );
  });
}
