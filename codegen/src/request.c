#include "request.h"

#include <pb_decode.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void outputs_add(outputs_t *outputs, char *name, char *content) {
  if (outputs->count == outputs->cap) {
    outputs->cap = outputs->cap == 0 ? 8 : outputs->cap * 2;
    outputs->files = xrealloc(outputs->files, sizeof(output_file_t) * outputs->cap);
  }
  outputs->files[outputs->count].name = name;
  outputs->files[outputs->count].content = content;
  outputs->count++;
}

void outputs_free(outputs_t *outputs) {
  for (size_t i = 0; i < outputs->count; i++) {
    free(outputs->files[i].name);
    free(outputs->files[i].content);
  }
  free(outputs->files);
  memset(outputs, 0, sizeof(*outputs));
}

bool request_read(FILE *in, google_protobuf_compiler_CodeGeneratorRequest *request) {
  size_t len = 0, cap = 64 * 1024;
  unsigned char *data = xrealloc(NULL, cap);
  for (;;) {
    size_t n = fread(data + len, 1, cap - len, in);
    len += n;
    if (n == 0) break;
    if (len == cap) {
      cap *= 2;
      data = xrealloc(data, cap);
    }
  }
  if (ferror(in)) {
    fputs("protoc-gen-shmrpc: cannot read the request from stdin\n", stderr);
    free(data);
    return false;
  }
  memset(request, 0, sizeof(*request));
  pb_istream_t stream = pb_istream_from_buffer(data, len);
  bool ok = pb_decode(&stream, google_protobuf_compiler_CodeGeneratorRequest_fields, request);
  free(data);
  if (!ok) {
    /* "array overflow": nanopb's lists hold at most 65535 entries. */
    fprintf(stderr,
            "protoc-gen-shmrpc: cannot decode the CodeGeneratorRequest on stdin (%s). It is a "
            "protoc plugin, run by protoc --shmrpc_out=...; one list of a .proto (fields, "
            "values, comments) longer than 65535 entries is beyond its decoder\n",
            PB_GET_ERROR(&stream));
    return false;
  }
  return true;
}

bool response_write(FILE *out, const outputs_t *outputs, const char *error) {
  google_protobuf_compiler_CodeGeneratorResponse response;
  memset(&response, 0, sizeof(response));
  /* Declares proto3 `optional` support; without it protoc refuses such files. */
  uint64_t features = google_protobuf_compiler_CodeGeneratorResponse_Feature_FEATURE_PROTO3_OPTIONAL;
  response.supported_features = &features;
  google_protobuf_compiler_CodeGeneratorResponse_File *files = NULL;
  if (error != NULL) {
    response.error = (char *)error;
  } else {
    files = xrealloc(NULL, sizeof(*files) * (outputs->count + 1));
    memset(files, 0, sizeof(*files) * (outputs->count + 1));
    for (size_t i = 0; i < outputs->count; i++) {
      files[i].name = outputs->files[i].name;
      files[i].content = outputs->files[i].content;
    }
    response.file_count = (pb_size_t)outputs->count;
    response.file = files;
  }

  size_t size = 0;
  bool ok = pb_get_encoded_size(&size, google_protobuf_compiler_CodeGeneratorResponse_fields,
                                &response);
  unsigned char *data = ok ? xrealloc(NULL, size) : NULL;
  if (ok) {
    pb_ostream_t stream = pb_ostream_from_buffer(data, size);
    ok = pb_encode(&stream, google_protobuf_compiler_CodeGeneratorResponse_fields, &response);
    if (!ok) fprintf(stderr, "protoc-gen-shmrpc: cannot encode the response (%s)\n",
                     PB_GET_ERROR(&stream));
  }
  if (ok) ok = fwrite(data, 1, size, out) == size && fflush(out) == 0;
  free(data);
  free(files);
  return ok;
}
