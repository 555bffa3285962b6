/**
 * shmrpc-host as a child process for the Node tests: serves a service
 * library under a name in a private runtime directory; its log (stderr)
 * is kept in a file there.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { packageRoot } from "../../../js/src/native/addon.js";

const cmakeDir = path.join(packageRoot(), process.env.SHMRPC_CMAKE_DIR ?? "build/cmake");
export const hostProgram = path.join(cmakeDir, "c/shmrpc-host");

/** A test service library of the build, e.g. "libshmrpc_rpc_test.so". */
export function serviceLibrary(file: string): string {
  return path.join(process.env.SHMRPC_SERVICES_DIR ?? path.join(cmakeDir, "services"), file);
}

export interface HostProcess {
  readonly name: string;
  readonly host: ChildProcess;
  /** Everything the host wrote to its log (stderr) so far. */
  log(): string;
}

let started = 0;

/**
 * Starts `shmrpc-host NAME LIBRARY --runtime-dir DIR` and waits until it
 * accepts. Its stderr goes to a file in DIR, not a pipe, so the host adds
 * no descriptor to this process (tests count them).
 */
export async function startHost(name: string, library: string, runtimeDir: string): Promise<HostProcess> {
  const logPath = path.join(runtimeDir, `${name}-${process.pid}-${started++}.log`);
  const logFd = openSync(logPath, "w");
  let host: ChildProcess;
  try {
    host = spawn(hostProgram, [name, library, "--runtime-dir", runtimeDir], { stdio: ["ignore", "ignore", logFd] });
  } finally {
    closeSync(logFd);
  }
  const log = (): string => readFileSync(logPath, "utf8");
  for (let i = 0; !log().includes("serving"); i++) {
    assert.ok(i < 1000 && host.exitCode === null, `shmrpc-host did not start: ${log()}`);
    await sleep(5);
  }
  return { name, host, log };
}

/** Stops the host with SIGTERM (unless it has exited) and waits for its exit. */
export async function stopHost(host: ChildProcess): Promise<void> {
  if (host.exitCode !== null || host.signalCode !== null) return;
  const exited = new Promise((resolve) => host.once("exit", resolve));
  host.kill("SIGTERM");
  await exited;
}

/** Kills the host with SIGKILL and waits until it is gone. */
export async function killHost(host: ChildProcess): Promise<void> {
  if (host.exitCode !== null || host.signalCode !== null) return;
  const exited = new Promise((resolve) => host.once("exit", resolve));
  host.kill("SIGKILL");
  await exited;
}
