/**
 * The codecs bench/codec*.ts compare with: protobufjs (loaded from the test
 * schema's .proto files, as its users do) and the installed versions of
 * both libraries, for the tables.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import protobuf from "protobufjs";

import { PROTO_FILES, PROTO_ROOT, repoRoot } from "../../tests/codegen/support/schema.js";

/** protobufjs's Root for tests/proto: its Type.encode/decode generate code per type at run time. */
export function loadProtobufjs(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) =>
    target.startsWith("/") || target.startsWith("google/protobuf/") ? target : join(PROTO_ROOT, target);
  root.loadSync(PROTO_FILES.map((f) => join(PROTO_ROOT, f)));
  root.resolveAll();
  return root;
}

/** The installed version of an npm package (its package.json is not always exported). */
export function packageVersion(name: string): string {
  const path = join(repoRoot(), "node_modules", name, "package.json");
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}
