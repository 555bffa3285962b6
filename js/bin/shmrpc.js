#!/usr/bin/env node
// shmrpc: the one command that turns .proto files into TypeScript codecs and
// clients and C service glue (nanopb structs + handler tables). It runs
// protoc once with nanopb's plugin and protoc-gen-shmrpc; see
// codegen/README.md.
import { spawnSync } from "node:child_process";
import {
  accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const USAGE = `usage: shmrpc gen <file.proto...> [--ts-out DIR] [--c-out DIR] [-I DIR...]
                  [--runtime SPEC] [--plugin PATH]

  --ts-out DIR    write <name>_pb.ts files (codecs, service descriptors, clients)
  --c-out DIR     write nanopb's <name>.pb.h/.c and <name>.shmrpc.h/.c (services)
  -I, --proto_path DIR
                  where imports are resolved (repeatable; default: .)
  --runtime SPEC  import path of the TypeScript runtime (default: shmrpc/pb)
  --plugin PATH   protoc-gen-shmrpc to use (default: see below)

Tools: protoc ($PROTOC or PATH), protoc-gen-nanopb ($PROTOC_GEN_NANOPB or
PATH, only for --c-out). protoc-gen-shmrpc is looked up in this order:
--plugin, $SHMRPC_PLUGIN, ${join("build", "cmake", "codegen", "protoc-gen-shmrpc")}
(scripts/setup.sh builds it there), ${join("build", "codegen", "protoc-gen-shmrpc")} and
${join("build-codegen", "protoc-gen-shmrpc")} under the package root, PATH; if
none exists it is built with CMake into ${join("build", "protoc-gen-shmrpc")}.`;

class UsageError extends Error {}
/** A failure reported after cleaning up (temporary files). */
class GenerateError extends Error {}

/** Exits with a message; every failure the user can fix ends here. */
function fail(message) {
  process.stderr.write(`shmrpc: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { protos: [], includes: [], tsOut: undefined, cOut: undefined, runtime: undefined, plugin: undefined };
  const value = (i, flag) => {
    if (i >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--ts-out") opts.tsOut = value(++i, arg);
    else if (arg === "--c-out") opts.cOut = value(++i, arg);
    else if (arg === "-I" || arg === "--proto_path") opts.includes.push(value(++i, arg));
    else if (arg.startsWith("-I") && arg.length > 2) opts.includes.push(arg.slice(2));
    else if (arg.startsWith("--proto_path=")) opts.includes.push(arg.slice("--proto_path=".length));
    else if (arg === "--runtime") opts.runtime = value(++i, arg);
    else if (arg === "--plugin") opts.plugin = value(++i, arg);
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else opts.protos.push(arg);
  }
  if (opts.protos.length === 0) throw new UsageError("no .proto files given");
  if (opts.tsOut === undefined && opts.cOut === undefined) {
    throw new UsageError("say where to write: --ts-out DIR and/or --c-out DIR");
  }
  if (opts.includes.length === 0) opts.includes.push(".");
  return opts;
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** A tool from an environment variable (which must then exist) or PATH. */
function findTool(name, envVar, installHint) {
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutable(fromEnv)) fail(`${envVar}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const found = onPath(name);
  if (found === undefined) fail(`${name} not found on PATH: ${installHint}, or set ${envVar}`);
  return found;
}

function buildPlugin() {
  const cmake = onPath("cmake");
  if (cmake === undefined) {
    fail("protoc-gen-shmrpc is not built and cmake is not on PATH to build it: build codegen/ " +
      "(cmake -S codegen -B build-codegen && cmake --build build-codegen) or set SHMRPC_PLUGIN");
  }
  const buildDir = join(ROOT, "build", "protoc-gen-shmrpc");
  process.stderr.write(`shmrpc: building protoc-gen-shmrpc in ${buildDir} (first use)\n`);
  const steps = [
    ["-S", join(ROOT, "codegen"), "-B", buildDir, "-DSHMRPC_BUILD_TESTS=OFF", "-DCMAKE_BUILD_TYPE=Release"],
    ["--build", buildDir, "--target", "protoc-gen-shmrpc", "-j2"],
  ];
  for (const args of steps) {
    const run = spawnSync(cmake, args, { stdio: ["ignore", "ignore", "inherit"] });
    if (run.status !== 0) fail(`building protoc-gen-shmrpc failed (cmake ${args.join(" ")})`);
  }
  return join(buildDir, "protoc-gen-shmrpc");
}

function findPlugin(explicit) {
  if (explicit !== undefined) {
    if (!isExecutable(explicit)) fail(`--plugin ${explicit} is not an executable file`);
    return explicit;
  }
  const fromEnv = process.env.SHMRPC_PLUGIN;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!isExecutable(fromEnv)) fail(`SHMRPC_PLUGIN=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const candidates = [
    join(ROOT, "build", "cmake", "codegen", "protoc-gen-shmrpc"),
    join(ROOT, "build", "codegen", "protoc-gen-shmrpc"),
    join(ROOT, "build-codegen", "protoc-gen-shmrpc"),
    join(ROOT, "build", "protoc-gen-shmrpc", "protoc-gen-shmrpc"),
  ];
  return candidates.find(isExecutable) ?? onPath("protoc-gen-shmrpc") ?? buildPlugin();
}

/** Where google/protobuf/*.proto live: next to protoc, or the usual prefixes. */
function wellKnownInclude(protoc) {
  const dirs = [join(dirname(protoc), "..", "include"), "/usr/include", "/usr/local/include"];
  return dirs.find((dir) => existsSync(join(dir, "google", "protobuf", "timestamp.proto")));
}

/** Runs protoc; a failure ends the command with protoc's message. */
function runProtoc(protoc, args) {
  const run = spawnSync(protoc, args, { encoding: "utf8" });
  if (run.error !== undefined) throw new GenerateError(`cannot run ${protoc}: ${run.error.message}`);
  if (run.status !== 0) throw new GenerateError(`protoc failed:\n${(run.stderr ?? "").trimEnd()}`);
  return run.stderr ?? "";
}

function generate(opts) {
  for (const dir of opts.includes) {
    if (!existsSync(dir)) fail(`-I ${dir}: no such directory`);
  }
  const protoc = findTool("protoc", "PROTOC", "install protobuf-compiler (apt install protobuf-compiler)");
  const wktDir = wellKnownInclude(protoc);
  const includes = wktDir === undefined ? opts.includes : [...opts.includes, wktDir];
  // As protoc: a file is a path, or a name under one of the include dirs
  // (`shmrpc gen google/protobuf/api.proto`).
  for (const proto of opts.protos) {
    if (!existsSync(proto) && !includes.some((dir) => existsSync(join(dir, proto)))) {
      fail(`${proto}: no such file (nor under ${includes.length > 0 ? includes.join(", ") : "any -I directory"})`);
    }
  }
  const plugin = findPlugin(opts.plugin);
  const includeArgs = includes.map((dir) => `-I${dir}`);
  const pluginArg = `--plugin=protoc-gen-shmrpc=${plugin}`;

  // First run: the plugin says which google/protobuf files the protos need
  // generated too (imports.txt, from protoc's resolution of the imports)
  // and, for C, the options nanopb needs per file (nanopb/<name>.options).
  const plan = mkdtempSync(join(tmpdir(), "shmrpc-gen-"));
  try {
    runProtoc(protoc, [pluginArg, `--shmrpc_out=plan,${opts.cOut !== undefined ? "c" : "ts"}:${plan}`,
      ...includeArgs, ...opts.protos]);
    const imports = readFileSync(join(plan, "imports.txt"), "utf8").split("\n").filter((l) => l !== "");
    generateCode(protoc, opts, pluginArg, includeArgs, imports, join(plan, "nanopb"));
  } finally {
    rmSync(plan, { recursive: true, force: true });
  }
}

/** The run that writes the code: `imports` are the extra files to generate. */
function generateCode(protoc, opts, pluginArg, includeArgs, imports, nanopbOptions) {
  const args = [pluginArg];
  if (opts.cOut !== undefined) {
    const nanopb = findTool("protoc-gen-nanopb", "PROTOC_GEN_NANOPB", "install nanopb (apt install nanopb libnanopb-dev)");
    mkdirSync(opts.cOut, { recursive: true });
    args.push(
      // Ours first: it names what nanopb cannot generate (groups) before
      // nanopb fails on it less clearly.
      `--shmrpc_out=c:${opts.cOut}`,
      `--plugin=protoc-gen-nanopb=${nanopb}`,
      // Unbounded strings, bytes and repeated fields become malloc'd
      // pointers: handlers need no callbacks and no .options files. The
      // plan's options replace nanopb's own <name>.options lookup.
      "--nanopb_opt=-s fallback_type:FT_POINTER",
      `--nanopb_opt=-f${join(nanopbOptions, "%s.options")}`,
      `--nanopb_out=${opts.cOut}`,
    );
  }
  if (opts.tsOut !== undefined) {
    mkdirSync(opts.tsOut, { recursive: true });
    const runtime = opts.runtime === undefined ? "" : `,runtime=${opts.runtime}`;
    args.push(`--shmrpc_out=ts${runtime}:${opts.tsOut}`);
  }
  const stderr = runProtoc(protoc, [...args, ...includeArgs, ...opts.protos, ...imports]);
  // nanopb reports a struct that would contain itself on stderr and exits
  // 0 with C that does not compile: never a success.
  if (/Circular dependency in messages/.test(stderr)) throw new GenerateError(`nanopb failed:\n${stderr.trimEnd()}`);
  if (stderr) process.stderr.write(stderr);
}

function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command !== "gen") fail(`unknown command "${command}"\n${USAGE}`);
  try {
    generate(parseArgs(rest));
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message}\n${USAGE}`);
    if (error instanceof GenerateError) fail(error.message);
    throw error;
  }
}

main(process.argv.slice(2));
