/**
 * Every .proto that protobuf ships (google/protobuf/*.proto, with
 * descriptor.proto and compiler/plugin.proto) generates, with `shmrpc gen`,
 * TypeScript that compiles under `strict` and `exactOptionalPropertyTypes`
 * and C that compiles with warnings as errors.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";

import { repoRoot } from "../codegen/support/schema.js";

const ROOT = repoRoot();
const INCLUDE = "/usr/include";
const work = mkdtempSync(join(tmpdir(), "shmrpc-wkt-"));
after(() => rmSync(work, { recursive: true, force: true }));

function protosUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return protosUnder(path);
    return entry.name.endsWith(".proto") ? [relative(INCLUDE, path)] : [];
  });
}

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(suffix)).map((f) => join(dir, f));
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}\n${result.stdout}${result.stderr}`);
}

describe("protobuf's own .proto files", { skip: !existsSync(join(INCLUDE, "google/protobuf/descriptor.proto")) }, () => {
  const protos = protosUnder(join(INCLUDE, "google/protobuf"));

  it("generate TypeScript and C that compile", () => {
    assert.ok(protos.includes("google/protobuf/compiler/plugin.proto"), protos.join(" "));
    run(process.execPath, [join(ROOT, "js/bin/shmrpc.js"), "gen", ...protos,
      "--ts-out", join(work, "ts"), "--c-out", join(work, "c")]);

    writeFileSync(join(work, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "es2022", module: "nodenext", strict: true, exactOptionalPropertyTypes: true,
        noEmit: true, skipLibCheck: true,
        paths: { "shmrpc/pb": [join(ROOT, "js/src/codegen-runtime.ts")] },
      },
      include: ["ts/**/*.ts"],
    }));
    run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(work, "tsconfig.json")]);
    assert.equal(filesUnder(join(work, "ts"), "_pb.ts").length, protos.length);

    const sources = filesUnder(join(work, "c"), ".c");
    assert.equal(sources.filter((f) => f.endsWith(".pb.c")).length, protos.length);
    for (const source of sources) {
      run("cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", `-I${join(work, "c")}`,
        `-I${join(ROOT, "c/include")}`, source]);
    }
  });
});
