/* Decodes shmrpc.test.Everything messages with nanopb and encodes them
 * again, so the TypeScript tests can send their encodings through C:
 * stdin and stdout carry frames of a little-endian u32 length and that many
 * bytes. A message nanopb rejects comes back as length 0xffffffff, then
 * the error text as one more frame. Exits 0 at the end of input. */
#include <pb_decode.h>
#include <pb_encode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmrpc/test/everything.pb.h"

#define FAILED 0xffffffffu

static int read_exact(void *dst, size_t n) { return fread(dst, 1, n, stdin) == n; }

static int write_frame(const void *data, uint32_t len) {
  unsigned char head[4] = {len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, len >> 24};
  return fwrite(head, 1, 4, stdout) == 4 && fwrite(data, 1, len, stdout) == len;
}

static int reencode(const unsigned char *in, size_t len) {
  shmrpc_test_Everything msg = shmrpc_test_Everything_init_zero;
  pb_istream_t is = pb_istream_from_buffer(in, len);
  if (!pb_decode(&is, shmrpc_test_Everything_fields, &msg)) {
    const char *error = PB_GET_ERROR(&is);
    pb_release(shmrpc_test_Everything_fields, &msg);
    unsigned char marker[4] = {0xff, 0xff, 0xff, 0xff};
    return fwrite(marker, 1, 4, stdout) == 4 && write_frame(error, (uint32_t)strlen(error));
  }
  size_t size = 0;
  int ok = pb_get_encoded_size(&size, shmrpc_test_Everything_fields, &msg);
  unsigned char *out = ok ? malloc(size + 1) : NULL;
  if (out != NULL) {
    pb_ostream_t os = pb_ostream_from_buffer(out, size);
    ok = pb_encode(&os, shmrpc_test_Everything_fields, &msg) && write_frame(out, (uint32_t)size);
  }
  free(out);
  pb_release(shmrpc_test_Everything_fields, &msg);
  return ok && out != NULL;
}

int main(void) {
  unsigned char head[4];
  while (read_exact(head, 4)) {
    uint32_t len = head[0] | (head[1] << 8) | (head[2] << 16) | ((uint32_t)head[3] << 24);
    if (len > (64u << 20)) {
      fprintf(stderr, "codegen_reencode: frame of %u bytes refused\n", len);
      return 1;
    }
    unsigned char *in = malloc(len + 1u);
    if (in == NULL || !read_exact(in, len) || !reencode(in, len)) {
      fprintf(stderr, "codegen_reencode: I/O or memory failure\n");
      free(in);
      return 1;
    }
    free(in);
    fflush(stdout);
  }
  return 0;
}
