/* Decodes messages with nanopb and encodes them again, so the TypeScript
 * tests can send their encodings through C. The message type is the first
 * argument (default Everything; see `types` below). Framing:
 * stdin and stdout carry frames of a little-endian u32 length and that many
 * bytes. A message nanopb rejects comes back as length 0xffffffff, then
 * the error text as one more frame. Exits 0 at the end of input. */
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmrpc/test/everything.pb.h"
#include "shmrpc/test/legacy.pb.h"
#include "shmrpc/test/recursion.pb.h"

static const struct {
  const char *name;
  const pb_msgdesc_t *fields;
  size_t size;
} types[] = {
    {"Everything", shmrpc_test_Everything_fields, sizeof(shmrpc_test_Everything)},
    {"Record", shmrpc_test_legacy_Record_fields, sizeof(shmrpc_test_legacy_Record)},
    {"Batch", shmrpc_test_legacy_Batch_fields, sizeof(shmrpc_test_legacy_Batch)},
    {"Node", shmrpc_test_recursion_Node_fields, sizeof(shmrpc_test_recursion_Node)},
    {"Pong", shmrpc_test_recursion_Pong_fields, sizeof(shmrpc_test_recursion_Pong)},
    {"Holder", shmrpc_test_recursion_Holder_fields, sizeof(shmrpc_test_recursion_Holder)},
};

#define FAILED 0xffffffffu

static int read_exact(void *dst, size_t n) { return fread(dst, 1, n, stdin) == n; }

static int write_frame(const void *data, uint32_t len) {
  unsigned char head[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
  return fwrite(head, 1, 4, stdout) == 4 && fwrite(data, 1, len, stdout) == len;
}

/* A zeroed struct is each type's init_zero (pointers NULL, counts 0). */
static int reencode(const pb_msgdesc_t *fields, size_t struct_size, const unsigned char *in,
                    size_t len) {
  void *msg = calloc(1, struct_size);
  if (msg == NULL) return 0;
  pb_istream_t is = pb_istream_from_buffer(in, len);
  if (!pb_decode(&is, fields, msg)) {
    const char *error = PB_GET_ERROR(&is);
    pb_release(fields, msg);
    free(msg);
    unsigned char marker[4] = {0xff, 0xff, 0xff, 0xff};
    return fwrite(marker, 1, 4, stdout) == 4 && write_frame(error, (uint32_t)strlen(error));
  }
  size_t size = 0;
  int ok = pb_get_encoded_size(&size, fields, msg);
  unsigned char *out = ok ? malloc(size + 1) : NULL;
  if (out != NULL) {
    pb_ostream_t os = pb_ostream_from_buffer(out, size);
    ok = pb_encode(&os, fields, msg) && write_frame(out, (uint32_t)size);
  }
  free(out);
  pb_release(fields, msg);
  free(msg);
  return ok && out != NULL;
}

int main(int argc, char **argv) {
  const char *type = argc > 1 ? argv[1] : "Everything";
  size_t t = 0;
  while (t < sizeof(types) / sizeof(types[0]) && strcmp(types[t].name, type) != 0) t++;
  if (t == sizeof(types) / sizeof(types[0])) {
    fprintf(stderr, "codegen_reencode: unknown message type %s\n", type);
    return 2;
  }
  unsigned char head[4];
  while (read_exact(head, 4)) {
    uint32_t len = head[0] | (head[1] << 8) | (head[2] << 16) | ((uint32_t)head[3] << 24);
    if (len > (64u << 20)) {
      fprintf(stderr, "codegen_reencode: frame of %u bytes refused\n", len);
      return 1;
    }
    unsigned char *in = malloc(len + 1u);
    if (in == NULL || !read_exact(in, len) || !reencode(types[t].fields, types[t].size, in, len)) {
      fprintf(stderr, "codegen_reencode: I/O or memory failure\n");
      free(in);
      return 1;
    }
    free(in);
    fflush(stdout);
  }
  return 0;
}
