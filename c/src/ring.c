/* SPSC byte ring over shared memory (docs/PROTOCOL.md section 2).
 *
 * Indices are free-running u32 counters; the byte at counter n lives at
 * data offset n & mask. Each side trusts only its private copy of its own
 * index and validates the peer's index, read once per check. Every byte
 * access is masked, so no index value can reach outside the data area. */
#include <string.h>

#include "internal.h"

int shmrpc_ring_init(shmrpc_ring_t *ring, void *control, void *data,
                     uint32_t capacity) {
  if (ring == NULL || control == NULL || data == NULL ||
      ((uintptr_t)control & 3) != 0 || !shmrpc__capacity_valid(capacity))
    return SHMRPC_EINVAL;
  uint8_t *block = control;
  ring->shared_tail = shmrpc__word(block, SHMRPC_RING_OFF_TAIL);
  ring->shared_head = shmrpc__word(block, SHMRPC_RING_OFF_HEAD);
  ring->shared_consumer_wait =
      shmrpc__word(block, SHMRPC_RING_OFF_CONSUMER_WAIT);
  ring->shared_producer_wait =
      shmrpc__word(block, SHMRPC_RING_OFF_PRODUCER_WAIT);
  ring->shared_data = data;
  ring->capacity = capacity;
  ring->mask = capacity - 1;
  /* The ring does not know whether this side produces or consumes, so it
   * takes both indices as they are now. Only the one this side owns is used
   * from here on; the peer's is validated on every later read. */
  ring->tail = shmrpc__load_acquire(ring->shared_tail);
  ring->published = ring->tail;
  ring->head = shmrpc__load_acquire(ring->shared_head);
  return 0;
}

/* --- producer --- */

static int64_t free_bytes(const shmrpc_ring_t *ring, uint32_t head) {
  /* The consumer can never have consumed more than was published, nor be
   * more than a ring behind it (or behind what is written privately). */
  uint32_t behind_published = ring->published - head;
  uint32_t used = ring->tail - head;
  if (behind_published > ring->capacity || used > ring->capacity)
    return SHMRPC_EPROTO;
  return ring->capacity - used;
}

int64_t shmrpc_ring_writable(shmrpc_ring_t *ring) {
  return free_bytes(ring, shmrpc__load_acquire(ring->shared_head));
}

int64_t shmrpc__ring_writable_seq_cst(shmrpc_ring_t *ring) {
  return free_bytes(ring, shmrpc__load_seq_cst(ring->shared_head));
}

void shmrpc_ring_write(shmrpc_ring_t *ring, const void *src, uint32_t len) {
  const uint8_t *from = src;
  while (len > 0) {
    uint32_t at = ring->tail & ring->mask;
    uint32_t chunk = ring->capacity - at;
    if (chunk > len)
      chunk = len;
    memcpy(ring->shared_data + at, from, chunk);
    from += chunk;
    ring->tail += chunk;
    len -= chunk;
  }
}

void shmrpc__ring_tail_spans(shmrpc_ring_t *ring, uint32_t len,
                             shmrpc_span_t spans[2]) {
  uint32_t at = ring->tail & ring->mask;
  uint32_t first = ring->capacity - at;
  if (first > len)
    first = len;
  spans[0].data = ring->shared_data + at;
  spans[0].len = first;
  /* A valid pointer even when empty, so memcpy(spans[1].data, p, 0) is
   * well defined. */
  spans[1].data = ring->shared_data;
  spans[1].len = len - first;
}

void shmrpc__ring_advance(shmrpc_ring_t *ring, uint32_t len) {
  ring->tail += len;
}

void shmrpc__ring_unwrite(shmrpc_ring_t *ring, uint32_t len) {
  ring->tail -= len;
}

void shmrpc_ring_publish(shmrpc_ring_t *ring) {
  /* Release: the frame bytes written above are visible to a consumer that
   * loads this tail with acquire. Sequentially consistent on top, because
   * the channel then reads consumer_wait: this store is the waker's half of
   * the park/wake pair (docs/PROTOCOL.md section 4). */
  shmrpc__store_seq_cst(ring->shared_tail, ring->tail);
  ring->published = ring->tail;
}

/* --- consumer --- */

static int64_t used_bytes(const shmrpc_ring_t *ring, uint32_t tail) {
  uint32_t avail = tail - ring->head;
  if (avail > ring->capacity)
    return SHMRPC_EPROTO;
  return avail;
}

int64_t shmrpc_ring_readable(shmrpc_ring_t *ring) {
  return used_bytes(ring, shmrpc__load_acquire(ring->shared_tail));
}

int64_t shmrpc__ring_readable_seq_cst(shmrpc_ring_t *ring) {
  return used_bytes(ring, shmrpc__load_seq_cst(ring->shared_tail));
}

void shmrpc_ring_peek(const shmrpc_ring_t *ring, uint32_t offset, void *dst,
                      uint32_t len) {
  uint8_t *to = dst;
  uint32_t pos = ring->head + offset;
  while (len > 0) {
    uint32_t at = pos & ring->mask;
    uint32_t chunk = ring->capacity - at;
    if (chunk > len)
      chunk = len;
    memcpy(to, ring->shared_data + at, chunk);
    to += chunk;
    pos += chunk;
    len -= chunk;
  }
}

const uint8_t *shmrpc_ring_span(const shmrpc_ring_t *ring, uint32_t offset,
                                uint32_t len) {
  uint32_t at = (ring->head + offset) & ring->mask;
  if (len > ring->capacity - at)
    return NULL;
  return ring->shared_data + at;
}

void shmrpc_ring_consume(shmrpc_ring_t *ring, uint32_t len) {
  ring->head += len;
  /* Release: our reads of the consumed bytes happen before the producer
   * reuses the space. Sequentially consistent on top: the channel then
   * reads producer_wait, so this is the waker's half of the park/wake
   * pair (docs/PROTOCOL.md section 4). */
  shmrpc__store_seq_cst(ring->shared_head, ring->head);
}
