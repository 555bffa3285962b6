/* Frame header encoding: 1 type byte (bit 7 = MORE) + u32 big-endian length.
 * docs/PROTOCOL.md section 3. Pure functions, no shared memory. */
#ifndef SHMRPC_FRAME_H
#define SHMRPC_FRAME_H

#include <stdbool.h>

#include "shmrpc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHMRPC_FRAME_HEADER_BYTES 5u
#define SHMRPC_FRAME_MORE 0x80u

typedef enum {
  SHMRPC_TEXT = 0,
  SHMRPC_BINARY = 1,
  SHMRPC_COMMAND = 2
} shmrpc_frame_type_t;

/* A decoded frame header. */
typedef struct shmrpc_frame_header_s {
  uint8_t type;    /* 0..2 */
  bool more;       /* another fragment of the same message follows */
  uint32_t length; /* payload bytes */
} shmrpc_frame_header_t;

/* Writes the 5 header bytes for a frame into `out`. */
SHMRPC_EXTERN void shmrpc_frame_header_encode(uint8_t out[5], uint8_t type,
                                              bool more, uint32_t length);

/* Parses 5 header bytes. Returns 0, or SHMRPC_EPROTO for a reserved type. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_frame_header_decode(const uint8_t in[5], shmrpc_frame_header_t *out);

/* True for TEXT, BINARY and COMMAND. */
SHMRPC_EXTERN bool shmrpc_frame_type_valid(unsigned type);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_FRAME_H */
