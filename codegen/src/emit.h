/* The two back ends. Each turns one .proto file of the model into output
 * files, or fails with schema_fail() when the file cannot be expressed. */
#ifndef CODEGEN_EMIT_H
#define CODEGEN_EMIT_H

#include <stdbool.h>

#include "params.h"
#include "request.h"
#include "schema.h"

#ifndef SHMRPC_CODEGEN_VERSION
#define SHMRPC_CODEGEN_VERSION "0.0.0"
#endif
#define CODEGEN_NAME "protoc-gen-shmrpc"
/* The contract between generated code and the runtimes it runs on: C's
 * SHMRPC_GENERATED_CODE_VERSION (shmrpc/service.h), TypeScript's
 * GENERATED_CODE_VERSION (js/src/rpc/types.ts). Bumped when generated code
 * and runtime stop fitting; generated files then fail to build. */
#define CODEGEN_GENERATED_CODE_VERSION 3

/* <name>_pb.ts: interfaces, enums, codecs, service descriptors, clients. */
bool ts_emit_file(schema_t *schema, const params_t *params, const file_t *file,
                  outputs_t *outputs);

/* Fails, naming the field, when nanopb cannot generate C for the request
 * (it reads every file of it, imports included). */
bool c_check_nanopb(schema_t *schema);

/* nanopb/<name>.options for each file of the request that needs options
 * (recursion as pointers, the descriptor.pb.h include); nanopb reads them
 * with -f DIR/nanopb/%s.options. */
bool c_emit_nanopb_options(schema_t *schema, outputs_t *outputs);

/* imports.txt: the google/protobuf files to generate besides the requested
 * ones, one per line (see plan.c). */
bool plan_emit_imports(schema_t *schema, outputs_t *outputs);

/* <name>.shmrpc.h and <name>.shmrpc.c for a file with services. */
bool c_emit_file(schema_t *schema, const file_t *file, outputs_t *outputs);

#endif
