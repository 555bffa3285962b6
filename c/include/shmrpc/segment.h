/* The shared segment: header, peer states and the two ring control blocks.
 * docs/PROTOCOL.md section 1 is the byte layout; these are its constants. */
#ifndef SHMRPC_SEGMENT_H
#define SHMRPC_SEGMENT_H

#include "shmrpc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHMRPC_SEGMENT_MAGIC 0x524D4853u /* "SHMR" read as little-endian u32 */
#define SHMRPC_SEGMENT_VERSION_MAJOR 1
#define SHMRPC_SEGMENT_VERSION_MINOR 0
#define SHMRPC_SEGMENT_HEADER_BYTES 384u
#define SHMRPC_RING_MIN_CAPACITY 64u
#define SHMRPC_RING_MAX_CAPACITY (1u << 30)

/* Byte offsets of the shared words (docs/PROTOCOL.md 1.1-1.3). */
enum {
  SHMRPC_OFF_MAGIC = 0,
  SHMRPC_OFF_VERSION_MAJOR = 4, /* u16 */
  SHMRPC_OFF_VERSION_MINOR = 6, /* u16 */
  SHMRPC_OFF_CAPACITY_C2S = 8,
  SHMRPC_OFF_CAPACITY_S2C = 12,
  SHMRPC_OFF_SEGMENT_BYTES = 16,
  SHMRPC_OFF_FLAGS = 20,
  SHMRPC_OFF_CLIENT_STATE = 64,
  SHMRPC_OFF_SERVER_STATE = 68,
  SHMRPC_OFF_CLIENT_MAX_MESSAGE = 72,
  SHMRPC_OFF_SERVER_MAX_MESSAGE = 76,
  SHMRPC_OFF_RING0_CONTROL = 128, /* client -> server */
  SHMRPC_OFF_RING1_CONTROL = 256, /* server -> client */
  /* Within a ring control block: */
  SHMRPC_RING_OFF_TAIL = 0,
  SHMRPC_RING_OFF_CONSUMER_WAIT = 4,
  SHMRPC_RING_OFF_HEAD = 64,
  SHMRPC_RING_OFF_PRODUCER_WAIT = 68,
  SHMRPC_RING_CONTROL_BYTES = 128
};

typedef enum {
  SHMRPC_SIDE_CLIENT = 0,
  SHMRPC_SIDE_SERVER = 1
} shmrpc_side_t;

/* Values of a peer state word. */
typedef enum {
  SHMRPC_STATE_ABSENT = 0,
  SHMRPC_STATE_OPEN = 1,
  SHMRPC_STATE_CLOSED = 2,
  SHMRPC_STATE_FAILED = 3,
  /* Stored by an observer on behalf of a side that died without closing
   * (c/include/shmrpc/wait.h, shmrpc_segment_mark_dead). */
  SHMRPC_STATE_DEAD = 4
} shmrpc_peer_state_t;

/* Values of a ring wait word (docs/PROTOCOL.md section 4). */
typedef enum {
  SHMRPC_WAIT_NONE = 0,
  SHMRPC_WAIT_FUTEX = 1,
  SHMRPC_WAIT_LOOP = 2,
  /* About to wait in an event loop that looks at the ring once more (and
   * spins) before it blocks: a waker has nothing to do. */
  SHMRPC_WAIT_SPINNING = 3
} shmrpc_wait_t;

/* Total segment size for two ring capacities, or 0 when a capacity is not a
 * power of two within [SHMRPC_RING_MIN_CAPACITY, SHMRPC_RING_MAX_CAPACITY]. */
SHMRPC_EXTERN size_t shmrpc_segment_size(uint32_t capacity_c2s,
                                         uint32_t capacity_s2c);

/* Formats `mem` (`size` bytes, 64-byte aligned, `size` exactly
 * shmrpc_segment_size()) as an empty segment: zero-filled, header written,
 * magic stored last with release. The creator calls this once before
 * either side opens a channel on it. Returns 0 or SHMRPC_EINVAL. */
SHMRPC_EXTERN int shmrpc_segment_init(void *mem, size_t size,
                                      uint32_t capacity_c2s,
                                      uint32_t capacity_s2c);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_SEGMENT_H */
