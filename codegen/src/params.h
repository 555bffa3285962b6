/* The plugin parameter: what protoc passes from --shmrpc_out=PARAMS:DIR and
 * --shmrpc_opt=PARAMS, a comma-separated list:
 *
 *   ts              emit TypeScript (<name>_pb.ts per .proto)
 *   c               emit C service glue (<name>.shmrpc.h/.c per .proto with
 *                   services, beside nanopb's <name>.pb.h/.c)
 *   runtime=SPEC    import specifier of the TypeScript runtime
 *                   (default "shmrpc/pb")
 *   plan            instead of code, what a run of shmrpc gen needs: imports.txt
 *                   (the google/protobuf files to generate too) and, with c,
 *                   nanopb/<name>.options (nanopb's per-file options, read
 *                   with -f DIR/nanopb/%s.options); a protoc run of its own,
 *                   before the one that generates
 *
 * At least one of ts and c is required. */
#ifndef CODEGEN_PARAMS_H
#define CODEGEN_PARAMS_H

#include <stdbool.h>

#include "arena.h"

typedef struct {
  bool ts;
  bool c;
  bool plan;
  const char *runtime;
} params_t;

#define PARAMS_DEFAULT_RUNTIME "shmrpc/pb"

/* Parses `parameter` (may be NULL). On failure returns false and points
 * *error at a message (allocated in `arena`). */
bool params_parse(params_t *params, const char *parameter, arena_t *arena, const char **error);

#endif
