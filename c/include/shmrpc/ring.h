/* One direction of a channel: an SPSC byte ring in shared memory.
 * docs/PROTOCOL.md section 2. The ring moves bytes and validates indices; it
 * knows nothing about frames or waking. A ring handle is used either as the
 * producer or as the consumer, by one thread at a time. */
#ifndef SHMRPC_RING_H
#define SHMRPC_RING_H

#include "shmrpc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Private view of a ring. Fields prefixed `shared_` point into the segment;
 * everything else is private to this side and never trusted to the peer. */
typedef struct shmrpc_ring_s {
  uint32_t *shared_tail;          /* producer's index */
  uint32_t *shared_head;          /* consumer's index */
  uint32_t *shared_consumer_wait; /* SHMRPC_WAIT_* */
  uint32_t *shared_producer_wait; /* SHMRPC_WAIT_* */
  uint8_t *shared_data;
  uint32_t capacity;
  uint32_t mask;
  uint32_t tail;      /* producer: next byte to write (private, unpublished) */
  uint32_t published; /* producer: last tail stored to shared memory */
  uint32_t head;      /* consumer: next byte to read (private) */
} shmrpc_ring_t;

/* Points `ring` at control block `control` (4-byte aligned) and data area
 * `data` of `capacity` bytes (a power of two in [SHMRPC_RING_MIN_CAPACITY,
 * SHMRPC_RING_MAX_CAPACITY]) and loads both indices once; from then on the
 * side uses only its private copy of the index it owns. Returns 0 or
 * SHMRPC_EINVAL. */
SHMRPC_EXTERN int shmrpc_ring_init(shmrpc_ring_t *ring, void *control,
                                   void *data, uint32_t capacity);

/* --- producer --- */

/* Free bytes, counting bytes written but not yet published as used.
 * Returns SHMRPC_EPROTO when the shared head is impossible. */
SHMRPC_EXTERN int64_t shmrpc_ring_writable(shmrpc_ring_t *ring);
/* Copies `len` bytes at the private tail (wrapping at the end of the data
 * area). The caller has checked shmrpc_ring_writable() >= len. */
SHMRPC_EXTERN void shmrpc_ring_write(shmrpc_ring_t *ring, const void *src,
                                     uint32_t len);
/* Makes everything written so far visible to the consumer with one store
 * of the tail: release for the bytes, and sequentially consistent because
 * the channel's wake check follows it (docs/PROTOCOL.md section 4). */
SHMRPC_EXTERN void shmrpc_ring_publish(shmrpc_ring_t *ring);

/* --- consumer --- */

/* Published bytes not yet consumed. Returns SHMRPC_EPROTO when the shared
 * tail is impossible. */
SHMRPC_EXTERN int64_t shmrpc_ring_readable(shmrpc_ring_t *ring);
/* Copies `len` bytes starting `offset` bytes past the private head. The
 * caller has checked offset + len <= shmrpc_ring_readable(). */
SHMRPC_EXTERN void shmrpc_ring_peek(const shmrpc_ring_t *ring,
                                    uint32_t offset, void *dst, uint32_t len);
/* Pointer to `len` contiguous bytes at `offset` past the head, or NULL when
 * they wrap around the end of the data area (then use shmrpc_ring_peek). */
SHMRPC_EXTERN const uint8_t *shmrpc_ring_span(const shmrpc_ring_t *ring,
                                              uint32_t offset, uint32_t len);
/* Advances the private head by `len` bytes and stores it (release, and
 * sequentially consistent like publish), handing the space back to the
 * producer. */
SHMRPC_EXTERN void shmrpc_ring_consume(shmrpc_ring_t *ring, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_RING_H */
