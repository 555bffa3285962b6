#include "fuzz_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t fuzz_u8(fuzz_input_t *in) {
  if (in->left == 0)
    return 0;
  in->left--;
  return *in->data++;
}

uint16_t fuzz_u16(fuzz_input_t *in) {
  return (uint16_t)(fuzz_u8(in) | fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(fuzz_input_t *in) {
  return (uint32_t)fuzz_u16(in) | (uint32_t)fuzz_u16(in) << 16;
}

const uint8_t *fuzz_bytes(fuzz_input_t *in, size_t want, size_t *got) {
  const uint8_t *start = in->data;
  *got = want < in->left ? want : in->left;
  in->data += *got;
  in->left -= *got;
  return start;
}

void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  abort();
}

void fuzz_pair_open(fuzz_pair_t *pair, uint32_t c2s, uint32_t s2c,
                    uint32_t max_message) {
  memset(pair, 0, sizeof *pair);
  pair->size = shmrpc_segment_size(c2s, s2c);
  FUZZ_CHECK(pair->size > 0);
  void *mem = NULL;
  FUZZ_CHECK(posix_memalign(&mem, 64, pair->size) == 0);
  pair->mem = mem;
  FUZZ_CHECK(shmrpc_segment_init(pair->mem, pair->size, c2s, s2c) == 0);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 0;
  opts.max_message_bytes = max_message;
  FUZZ_CHECK(shmrpc_channel_open(&pair->client, pair->mem, pair->size,
                                 SHMRPC_SIDE_CLIENT, &opts) == 0);
  FUZZ_CHECK(shmrpc_channel_open(&pair->server, pair->mem, pair->size,
                                 SHMRPC_SIDE_SERVER, &opts) == 0);
}

void fuzz_pair_free(fuzz_pair_t *pair) {
  shmrpc_channel_close(&pair->client);
  shmrpc_channel_close(&pair->server);
  shmrpc_channel_destroy(&pair->client);
  shmrpc_channel_destroy(&pair->server);
  free(pair->mem);
  pair->mem = NULL;
}
