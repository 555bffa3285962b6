/* Segment layout: size, creation and the attach-side header checks
 * (docs/PROTOCOL.md section 1). */
#include <string.h>

#include "internal.h"

bool shmrpc__capacity_valid(uint32_t capacity) {
  return capacity >= SHMRPC_RING_MIN_CAPACITY &&
         capacity <= SHMRPC_RING_MAX_CAPACITY &&
         (capacity & (capacity - 1)) == 0;
}

size_t shmrpc_segment_size(uint32_t capacity_c2s, uint32_t capacity_s2c) {
  if (!shmrpc__capacity_valid(capacity_c2s) ||
      !shmrpc__capacity_valid(capacity_s2c))
    return 0;
  return (size_t)SHMRPC_SEGMENT_HEADER_BYTES + capacity_c2s + capacity_s2c;
}

static void put_u16(uint8_t *base, uint32_t offset, uint16_t value) {
  memcpy(base + offset, &value, sizeof value);
}

static void put_u32(uint8_t *base, uint32_t offset, uint32_t value) {
  memcpy(base + offset, &value, sizeof value);
}

static uint16_t get_u16(const uint8_t *base, uint32_t offset) {
  uint16_t value;
  memcpy(&value, base + offset, sizeof value);
  return value;
}

static uint32_t get_u32(const uint8_t *base, uint32_t offset) {
  uint32_t value;
  memcpy(&value, base + offset, sizeof value);
  return value;
}

int shmrpc_segment_init(void *mem, size_t size, uint32_t capacity_c2s,
                        uint32_t capacity_s2c) {
  size_t total = shmrpc_segment_size(capacity_c2s, capacity_s2c);
  if (mem == NULL || total == 0 || size != total || ((uintptr_t)mem & 63) != 0)
    return SHMRPC_EINVAL;
  uint8_t *base = mem;
  memset(base, 0, total);
  put_u16(base, SHMRPC_OFF_VERSION_MAJOR, SHMRPC_SEGMENT_VERSION_MAJOR);
  put_u16(base, SHMRPC_OFF_VERSION_MINOR, SHMRPC_SEGMENT_VERSION_MINOR);
  put_u32(base, SHMRPC_OFF_CAPACITY_C2S, capacity_c2s);
  put_u32(base, SHMRPC_OFF_CAPACITY_S2C, capacity_s2c);
  put_u32(base, SHMRPC_OFF_SEGMENT_BYTES, (uint32_t)total);
  /* The magic goes last: an attaching side that sees it also sees every
   * field above. */
  shmrpc__store_release(shmrpc__word(base, SHMRPC_OFF_MAGIC),
                        SHMRPC_SEGMENT_MAGIC);
  return 0;
}

int shmrpc__segment_validate(const void *mem, size_t size, uint32_t caps[2]) {
  /* The shared words are accessed as aligned 32-bit atomics. */
  if (mem == NULL || ((uintptr_t)mem & 3) != 0)
    return SHMRPC_EINVAL;
  if (size < SHMRPC_SEGMENT_HEADER_BYTES)
    return SHMRPC_EPROTO;
  const uint8_t *base = mem;
  if (shmrpc__load_acquire((const uint32_t *)mem) != SHMRPC_SEGMENT_MAGIC)
    return SHMRPC_EPROTO;
  if (get_u16(base, SHMRPC_OFF_VERSION_MAJOR) != SHMRPC_SEGMENT_VERSION_MAJOR)
    return SHMRPC_EVERSION;
  uint32_t c2s = get_u32(base, SHMRPC_OFF_CAPACITY_C2S);
  uint32_t s2c = get_u32(base, SHMRPC_OFF_CAPACITY_S2C);
  uint32_t declared = get_u32(base, SHMRPC_OFF_SEGMENT_BYTES);
  uint32_t flags = get_u32(base, SHMRPC_OFF_FLAGS);
  size_t total = shmrpc_segment_size(c2s, s2c);
  if (flags != 0 || total == 0 || declared != total || size != total)
    return SHMRPC_EPROTO;
  caps[0] = c2s; /* ring 0 */
  caps[1] = s2c; /* ring 1 */
  return 0;
}
