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

/* <name>_pb.ts: interfaces, enums, codecs, service descriptors, clients. */
bool ts_emit_file(schema_t *schema, const params_t *params, const file_t *file,
                  outputs_t *outputs);

/* <name>.shmrpc.h and <name>.shmrpc.c for a file with services. */
bool c_emit_file(schema_t *schema, const file_t *file, outputs_t *outputs);

#endif
