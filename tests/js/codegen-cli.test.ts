/**
 * `shmrpc gen` (js/bin/shmrpc.js) and protoc-gen-shmrpc's own errors: what a
 * user sees when a tool or file is missing, a .proto does not parse or uses
 * something the generator refuses; and the golden files are current.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import { repoRoot } from "../codegen/support/schema.js";

const ROOT = repoRoot();
const CLI = join(ROOT, "js", "bin", "shmrpc.js");
const work = mkdtempSync(join(tmpdir(), "shmrpc-cli-"));
after(() => rmSync(work, { recursive: true, force: true }));

function shmrpc(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: run.status, stderr: run.stderr };
}

function proto(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

describe("shmrpc gen", () => {
  it("generates TypeScript and C, well-known types included", () => {
    const out = join(work, "out");
    const run = shmrpc(["gen", join(ROOT, "tests/proto/shmrpc/test/service.proto"),
      join(ROOT, "tests/proto/shmrpc/test/everything.proto"), join(ROOT, "tests/proto/shmrpc/test/common.proto"),
      "-I", join(ROOT, "tests/proto"), "--ts-out", join(out, "ts"), "--c-out", join(out, "c"), "--runtime", "./rt.js"]);
    assert.equal(run.status, 0, run.stderr);
    for (const file of [
      "ts/shmrpc/test/service_pb.ts", "ts/google/protobuf/timestamp_pb.ts", "ts/google/protobuf/empty_pb.ts",
      "c/shmrpc/test/service.shmrpc.h", "c/shmrpc/test/service.shmrpc.c", "c/shmrpc/test/everything.pb.c",
      "c/google/protobuf/duration.pb.h",
    ]) {
      assert.ok(existsSync(join(out, file)), file);
    }
    // No C glue for a file without services.
    assert.ok(!existsSync(join(out, "c/shmrpc/test/everything.shmrpc.h")));
    assert.match(readFileSync(join(out, "ts/shmrpc/test/common_pb.ts"), "utf8"), /import \* as pb from "\.\/rt\.js";/);
  });

  it("imports types reached through `import public` from their own file", () => {
    proto("pa.proto", 'syntax = "proto3";\npackage pa;\nmessage A { int32 x = 1; }\n');
    proto("pb.proto", 'syntax = "proto3";\npackage pb;\nimport public "pa.proto";\n');
    const pc = proto("pc.proto", 'syntax = "proto3";\npackage pc;\nimport "pb.proto";\nmessage C { pa.A a = 1; }\n');
    const out = join(work, "public");
    const run = shmrpc(["gen", pc, "-I", work, "--ts-out", out]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(readFileSync(join(out, "pc_pb.ts"), "utf8"), /^import \{ A \} from "\.\/pa_pb\.js";$/m);
  });

  it("generates only the files asked for: descriptor.proto imported for a custom option is not", () => {
    const path = proto("opt.proto", 'syntax = "proto3";\nimport "google/protobuf/descriptor.proto";\n' +
      'extend google.protobuf.FieldOptions { string column = 50001; }\nmessage A { int32 x = 1 [(column) = "c"]; }\n');
    const out = join(work, "opt");
    const run = shmrpc(["gen", path, "-I", work, "--ts-out", join(out, "ts"), "--c-out", join(out, "c")]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(out, "ts", "opt_pb.ts")));
    assert.ok(!existsSync(join(out, "ts", "google")), "nothing from google/protobuf");
    assert.ok(!existsSync(join(out, "c", "google")), "nothing from google/protobuf");
  });

  it("generates the well-known types a file needs, through their own imports", () => {
    const path = proto("useapi.proto", 'syntax = "proto3";\nimport "google/protobuf/api.proto";\n' +
      "message A { google.protobuf.Api api = 1; }\n");
    const out = join(work, "api");
    const run = shmrpc(["gen", path, "-I", work, "--ts-out", join(out, "ts"), "--c-out", join(out, "c")]);
    assert.equal(run.status, 0, run.stderr);
    for (const name of ["api", "source_context", "type", "any"]) {
      assert.ok(existsSync(join(out, "ts", "google", "protobuf", `${name}_pb.ts`)), name);
      assert.ok(existsSync(join(out, "c", "google", "protobuf", `${name}.pb.h`)), name);
    }
    assert.ok(!existsSync(join(out, "ts", "google", "protobuf", "descriptor_pb.ts")));
  });

  it("generates descriptor.proto when a file uses its types, and C that includes it", () => {
    const path = proto("usedesc.proto", 'syntax = "proto3";\nimport "google/protobuf/descriptor.proto";\n' +
      "message A { google.protobuf.FileDescriptorProto file = 1; }\n");
    const out = join(work, "desc");
    const run = shmrpc(["gen", path, "-I", work, "--ts-out", join(out, "ts"), "--c-out", join(out, "c")]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(existsSync(join(out, "ts", "google", "protobuf", "descriptor_pb.ts")));
    assert.match(readFileSync(join(out, "c", "usedesc.pb.h"), "utf8"), /#include "google\/protobuf\/descriptor\.pb\.h"/);
  });

  it("generates client-streaming and bidirectional methods (they were refused before issue #14)", () => {
    const path = proto("cs.proto", 'syntax = "proto3";\nmessage A {}\nservice S { rpc Up(stream A) returns (A); rpc Both(stream A) returns (stream A); }\n');
    const out = join(work, "cs");
    const run = shmrpc(["gen", path, "-I", work, "--ts-out", join(out, "ts"), "--c-out", join(out, "c")]);
    assert.equal(run.status, 0, run.stderr);
    const ts = readFileSync(join(out, "ts", "cs_pb.ts"), "utf8");
    assert.match(ts, /up\(requests: pb\.RequestSource<A>, options\?: pb\.CallOptions\): Promise<A> \{/);
    assert.match(ts, /both\(requests: pb\.RequestSource<A>, options\?: pb\.CallOptions\): AsyncIterable<A> \{/);
    const c = readFileSync(join(out, "c", "cs.shmrpc.h"), "utf8");
    assert.match(c, /int \(\*Up\)\(\s*shmrpc_call_t \*call, A \*response\);/);
    assert.match(c, /int \(\*Both\)\(shmrpc_call_t \*call\);/);
  });

  it("fails when a generator step fails, also when nanopb says so but exits 0", () => {
    const ok = proto("step.proto", 'syntax = "proto3";\nmessage A { int32 x = 1; }\n');
    // Stand-ins for nanopb: an empty response (valid) with nanopb's warning
    // about C it could not order, and a plain failure.
    const warns = join(work, "nanopb-warns");
    writeFileSync(warns, '#!/bin/sh\ncat >/dev/null\necho "Circular dependency in messages: A" >&2\n');
    const fails = join(work, "nanopb-fails");
    writeFileSync(fails, '#!/bin/sh\ncat >/dev/null\necho broken >&2\nexit 3\n');
    chmodSync(warns, 0o755);
    chmodSync(fails, 0o755);
    let run = shmrpc(["gen", ok, "-I", work, "--c-out", join(work, "step")], { PROTOC_GEN_NANOPB: warns });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /nanopb failed:\nCircular dependency in messages: A/);
    run = shmrpc(["gen", ok, "-I", work, "--c-out", join(work, "step")], { PROTOC_GEN_NANOPB: fails });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /protoc failed:[\s\S]*broken/);
  });

  it("says which file is missing", () => {
    const run = shmrpc(["gen", join(work, "nope.proto"), "--ts-out", work]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /nope\.proto: no such file/);
  });

  it("finds a file named relative to an include directory, as protoc does", () => {
    const out = join(work, "by-name");
    const run = shmrpc(["gen", "google/protobuf/api.proto", "--ts-out", out]);
    assert.equal(run.status, 0, run.stderr);
    for (const file of ["api_pb.ts", "source_context_pb.ts", "type_pb.ts"]) {
      assert.ok(existsSync(join(out, "google/protobuf", file)), file);
    }
  });

  it("passes on protoc's message when a .proto does not parse", () => {
    const bad = proto("bad.proto", 'syntax = "proto3";\nmessage A { int32 x = 1 }\n');
    const run = shmrpc(["gen", bad, "-I", work, "--ts-out", work]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /protoc failed:\nbad\.proto:2:\d+: Expected ";"/);
  });

  it("says when protoc, nanopb or the plugin cannot be found", () => {
    const ok = proto("ok.proto", 'syntax = "proto3";\nmessage A { int32 x = 1; }\n');
    let run = shmrpc(["gen", ok, "-I", work, "--ts-out", work], { PROTOC: "/nonexistent/protoc" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /PROTOC=\/nonexistent\/protoc is not an executable file/);
    run = shmrpc(["gen", ok, "-I", work, "--ts-out", work], { PATH: "/nonexistent" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /protoc not found on PATH: install protobuf-compiler/);
    run = shmrpc(["gen", ok, "-I", work, "--c-out", work], { PROTOC_GEN_NANOPB: "/nonexistent/nanopb" });
    assert.equal(run.status, 1);
    assert.match(run.stderr, /PROTOC_GEN_NANOPB=\/nonexistent\/nanopb is not an executable file/);
    run = shmrpc(["gen", ok, "-I", work, "--ts-out", work, "--plugin", "/nonexistent/plugin"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /--plugin \/nonexistent\/plugin is not an executable file/);
  });

  it("explains its usage", () => {
    let run = shmrpc(["gen", "x.proto"]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /say where to write: --ts-out DIR and\/or --c-out DIR/);
    run = shmrpc(["gen", "--bogus"]);
    assert.match(run.stderr, /unknown option --bogus/);
    run = shmrpc(["frobnicate"]);
    assert.match(run.stderr, /unknown command "frobnicate"/);
  });
});

describe("protoc-gen-shmrpc refuses what it cannot generate", () => {
  it("groups in C (nanopb has none), naming the field; TypeScript is fine", () => {
    const path = proto("grp.proto", 'syntax = "proto2";\npackage g;\nmessage A { optional group G = 1 { optional int32 x = 2; } }\n');
    let run = shmrpc(["gen", path, "-I", work, "--c-out", join(work, "grp-c")]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /g\.A\.g \(grp\.proto\): a group, which nanopb \(the C structs\) cannot generate/);
    run = shmrpc(["gen", path, "-I", work, "--ts-out", join(work, "grp-ts")]);
    assert.equal(run.status, 0, run.stderr);
  });

  it("two methods whose ids collide", () => {
    // Find two method names whose paths have the same FNV-1a 32 (a birthday
    // search over a few hundred thousand names finds one).
    const fnv = (text: string): number => {
      let h = 0x811c9dc5;
      for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
      return h;
    };
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const name = `M${i.toString(36)}`;
      const h = fnv(`c.S/${name}`);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, name];
      seen.set(h, name);
    }
    const path = proto("clash.proto", `syntax = "proto3";\npackage c;\nmessage A {}\n` +
      `service S { rpc ${pair[0]}(A) returns (A); rpc ${pair[1]}(A) returns (A); }\n`);
    const run = shmrpc(["gen", path, "-I", work, "--ts-out", work]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`method id collision: c\\.S/${pair[0]} and c\\.S/${pair[1]} both hash`));
  });

  it("C keywords as field names and two types with one C name, saying what to do", () => {
    const keyword = proto("kw.proto", 'syntax = "proto3";\npackage k;\nmessage A { int32 default = 1; }\n');
    let run = shmrpc(["gen", keyword, "-I", work, "--c-out", join(work, "kw")]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /k\.A\.default \(kw\.proto\): the field name default is a C keyword.*rename the field in the \.proto.*or generate TypeScript only/);
    const nested = proto("ab.proto", 'syntax = "proto3";\npackage n;\nmessage A { message B {} }\nmessage A_B {}\n');
    run = shmrpc(["gen", nested, "-I", work, "--c-out", join(work, "ab")]);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /n\.A\.B and n\.A_B both become the C type n_A_B.*rename one of them/);
    run = shmrpc(["gen", nested, keyword, "-I", work, "--ts-out", join(work, "ab-ts")]);
    assert.equal(run.status, 0, run.stderr);
  });
});

describe("golden files", () => {
  it("match what the generator writes today (node tests/codegen/golden.mjs --update to accept)", () => {
    const run = spawnSync(process.execPath, [join(ROOT, "tests", "codegen", "golden.mjs"), "--check"], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
  });

  it("compile under exactOptionalPropertyTypes too", () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tests", "codegen", "tsconfig.exact.json")],
      { encoding: "utf8" });
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
});
