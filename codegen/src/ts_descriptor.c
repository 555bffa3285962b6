/* The file descriptor a <name>_pb.ts embeds: protoc's FileDescriptorProto of
 * the file and of everything it imports, re-encoded in binary (without
 * source_code_info: comments are already in the generated code) and written
 * as base64 strings. Reflection-based tools read it, such as the HTTP
 * gateway (js/src/gateway/), which hands it to @bufbuild/protobuf for the
 * canonical JSON mapping. The rest of the generated code does not use it. */
#include <ctype.h>
#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "google/protobuf/descriptor.pb.h"
#include "names.h"
#include "ts.h"

const char *ts_descriptor_name(const ts_ctx_t *ctx, const file_t *file) {
  (void)ctx;
  return file->ts_descriptor_name; /* ts_assign_names */
}

static void put_base64(buf_t *out, const uint8_t *data, size_t len) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < len) v |= (uint32_t)data[i + 1] << 8;
    if (i + 2 < len) v |= data[i + 2];
    char quad[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63],
                    i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
                    i + 2 < len ? alphabet[v & 63] : '='};
    buf_putn(out, quad, 4);
  }
}

/* One array entry: the file's FileDescriptorProto without source info. */
static bool emit_proto(const ts_ctx_t *ctx, const file_t *file) {
  google_protobuf_FileDescriptorProto stripped = *file->descriptor;
  stripped.source_code_info = NULL;
  size_t size = 0;
  if (!pb_get_encoded_size(&size, google_protobuf_FileDescriptorProto_fields, &stripped)) {
    return schema_fail(ctx->schema, "%s: its descriptor does not encode", file->name);
  }
  uint8_t *bytes = xrealloc(NULL, size > 0 ? size : 1);
  pb_ostream_t stream = pb_ostream_from_buffer(bytes, size);
  bool ok = pb_encode(&stream, google_protobuf_FileDescriptorProto_fields, &stripped);
  if (ok) {
    buf_line(ctx->out, "// %s", file->name);
    buf_indent(ctx->out);
    buf_put(ctx->out, "\"");
    put_base64(ctx->out, bytes, size);
    buf_put(ctx->out, "\",\n");
  }
  free(bytes);
  return ok || schema_fail(ctx->schema, "%s: its descriptor does not encode (%s)", file->name,
                           PB_GET_ERROR(&stream));
}

static void mark_imports(const file_t *file, const schema_t *schema, bool *wanted) {
  size_t index = (size_t)(file - schema->files);
  if (wanted[index]) return;
  wanted[index] = true;
  for (size_t i = 0; i < file->dependency_count; i++) {
    mark_imports(file->dependencies[i], schema, wanted);
  }
}

bool ts_descriptor_emit(const ts_ctx_t *ctx) {
  const schema_t *schema = ctx->schema;
  buf_t *out = ctx->out;
  /* protoc lists every file after its imports: that order is the one a
   * descriptor pool needs. */
  bool *wanted = xrealloc(NULL, schema->file_count);
  memset(wanted, 0, schema->file_count);
  mark_imports(ctx->file, schema, wanted);

  buf_line(out, "/**");
  buf_line(out, " * %s as google.protobuf.FileDescriptorProto messages (binary, base64,",
           ctx->file->name);
  buf_line(out, " * without source info): the files it imports, then the file itself. For");
  buf_line(out, " * reflection, e.g. the JSON form of the HTTP gateway (shmrpc/gateway).");
  buf_line(out, " */");
  buf_open(out, "export const %s: pb.FileDescriptor = {", ts_descriptor_name(ctx, ctx->file));
  buf_line(out, "name: \"%s\",", ctx->file->name);
  buf_open(out, "protos: [");
  bool ok = true;
  for (size_t i = 0; ok && i < schema->file_count; i++) {
    if (wanted[i]) ok = emit_proto(ctx, &schema->files[i]);
  }
  buf_close(out, "],");
  buf_close(out, "};");
  free(wanted);
  return ok;
}
