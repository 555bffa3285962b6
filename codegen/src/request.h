/* protoc's side of the plugin protocol: the CodeGeneratorRequest on stdin,
 * the CodeGeneratorResponse on stdout, both through nanopb. */
#ifndef CODEGEN_REQUEST_H
#define CODEGEN_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/compiler/plugin.pb.h"

/* Generated files collected for the response; names and contents are
 * malloc'd and owned by the list. */
typedef struct {
  char *name;
  char *content;
} output_file_t;

typedef struct {
  output_file_t *files;
  size_t count;
  size_t cap;
} outputs_t;

/* Takes ownership of `name` and `content`. */
void outputs_add(outputs_t *outputs, char *name, char *content);
void outputs_free(outputs_t *outputs);

/* Reads and decodes the whole request. On failure writes the reason to
 * stderr and returns false. Release with pb_release() on success. */
bool request_read(FILE *in, google_protobuf_compiler_CodeGeneratorRequest *request);

/* Encodes a response with either `outputs` or `error` (non-NULL: protoc
 * shows it and fails) and writes it. Returns false on an I/O error. */
bool response_write(FILE *out, const outputs_t *outputs, const char *error);

#endif
