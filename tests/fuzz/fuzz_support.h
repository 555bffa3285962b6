/* Helpers shared by the libFuzzer targets: reading the fuzzer's input as a
 * stream of small fields, and a segment with both sides open. A target
 * aborts (a crash the fuzzer reports) when an invariant it checks breaks. */
#ifndef SHMRPC_FUZZ_SUPPORT_H
#define SHMRPC_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "shmrpc.h"

/* The unread part of the input. Reads past the end give zeros. */
typedef struct fuzz_input_s {
  const uint8_t *data;
  size_t left;
} fuzz_input_t;

uint8_t fuzz_u8(fuzz_input_t *in);
uint16_t fuzz_u16(fuzz_input_t *in);
uint32_t fuzz_u32(fuzz_input_t *in);
/* Up to `want` bytes; *got says how many there were. */
const uint8_t *fuzz_bytes(fuzz_input_t *in, size_t want, size_t *got);

/* A segment allocated at its exact size (AddressSanitizer sees any byte
 * read past it) with a client and a server channel open on it. */
typedef struct fuzz_pair_s {
  uint8_t *mem;
  size_t size;
  shmrpc_channel_t client;
  shmrpc_channel_t server;
} fuzz_pair_t;

/* Opens both sides with spinning off and `max_message` as each side's
 * limit. Aborts on failure (a setup bug, not a finding). */
void fuzz_pair_open(fuzz_pair_t *pair, uint32_t c2s, uint32_t s2c,
                    uint32_t max_message);
void fuzz_pair_free(fuzz_pair_t *pair);

/* Aborts with a message when `cond` is false. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond))                                                               \
      fuzz_fail(__FILE__, __LINE__, #cond);                                    \
  } while (0)
void fuzz_fail(const char *file, int line, const char *what);

#endif /* SHMRPC_FUZZ_SUPPORT_H */
