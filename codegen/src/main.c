/* protoc-gen-shmrpc: reads a CodeGeneratorRequest on stdin, writes a
 * CodeGeneratorResponse on stdout. See codegen/README.md for usage. */
#include <pb_decode.h>
#include <stdio.h>
#include <string.h>

#include "emit.h"
#include "params.h"
#include "request.h"
#include "schema.h"
#include "ts.h"

static const char *generate(schema_t *schema, const params_t *params, outputs_t *outputs) {
  if (params->plan) {
    if (!plan_emit_imports(schema, outputs)) return schema->error;
    if (params->c && !c_emit_nanopb_options(schema, outputs)) return schema->error;
    return NULL;
  }
  if (params->c && !c_check_nanopb(schema)) return schema->error;
  if (params->ts) ts_assign_names(schema);
  for (size_t i = 0; i < schema->file_count; i++) {
    const file_t *file = &schema->files[i];
    if (!file->generate) continue;
    if (params->ts && !ts_emit_file(schema, params, file, outputs)) return schema->error;
    if (params->c && file->service_count > 0 && !c_emit_file(schema, file, outputs)) {
      return schema->error;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
    printf("%s %s\n", CODEGEN_NAME, SHMRPC_CODEGEN_VERSION);
    return 0;
  }
  google_protobuf_compiler_CodeGeneratorRequest request;
  if (!request_read(stdin, &request)) return 1;

  schema_t schema;
  memset(&schema, 0, sizeof(schema));
  outputs_t outputs = {0};
  params_t params;
  const char *error = NULL;
  arena_t params_arena = {0};
  if (!params_parse(&params, request.parameter, &params_arena, &error)) {
    /* error already set */
  } else if (!schema_build(&schema, &request)) {
    error = schema.error;
  } else {
    error = generate(&schema, &params, &outputs);
  }
  bool written = response_write(stdout, &outputs, error);

  outputs_free(&outputs);
  schema_free(&schema);
  arena_free(&params_arena);
  pb_release(google_protobuf_compiler_CodeGeneratorRequest_fields, &request);
  return written ? 0 : 1;
}
