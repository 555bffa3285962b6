/* A connection's memory: one memfd segment per client, created and sealed
 * by the server, mapped by the client; and the liveness rule's one write,
 * marking a side that is gone (docs/PROTOCOL.md 9.3). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "xproc_internal.h"

/* A sealed size protects each process from the other: touching a page
 * that a peer truncated away would kill us with SIGBUS. */
#define SIZE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW)

int shmrpc__xproc_segment_create(uint32_t capacity_c2s, uint32_t capacity_s2c,
                                 int *memfd, void **mem, size_t *size,
                                 char *why) {
  size_t total = shmrpc_segment_size(capacity_c2s, capacity_s2c);
  if (total == 0)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "ring capacities %u and %u: each must be a "
                              "power of two in [%u, %u]",
                              capacity_c2s, capacity_s2c,
                              SHMRPC_RING_MIN_CAPACITY,
                              SHMRPC_RING_MAX_CAPACITY);
  int fd = memfd_create("shmrpc-segment", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return shmrpc__xproc_sys_fail(why, "memfd_create");
  int rc;
  if (ftruncate(fd, (off_t)total) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot size the segment (%zu bytes)",
                                total);
    goto err;
  }
  if (fcntl(fd, F_ADD_SEALS, SIZE_SEALS | F_SEAL_SEAL) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot seal the segment");
    goto err;
  }
  void *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    rc = shmrpc__xproc_sys_fail(why, "cannot map the segment");
    goto err;
  }
  /* mmap is page aligned and the size exact: init cannot fail. */
  (void)shmrpc_segment_init(base, total, capacity_c2s, capacity_s2c);
  *memfd = fd;
  *mem = base;
  *size = total;
  return 0;
err:
  close(fd);
  return rc;
}

int shmrpc__xproc_segment_map(int memfd, size_t size, void **mem, char *why) {
  struct stat st;
  if (fstat(memfd, &st) != 0)
    return shmrpc__xproc_sys_fail(why, "cannot stat the segment");
  int seals = fcntl(memfd, F_GET_SEALS);
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size || seals < 0 ||
      (seals & SIZE_SEALS) != SIZE_SEALS)
    return shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                              "the server passed a segment that is not a "
                              "sealed memfd of %zu bytes",
                              size);
  void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (base == MAP_FAILED)
    return shmrpc__xproc_sys_fail(why, "cannot map the segment");
  *mem = base;
  return 0;
}

bool shmrpc__xproc_mark_gone(void *segment, shmrpc_side_t side,
                             shmrpc_wake_loop_fn wake_loop, void *user) {
  shmrpc_parking_t parking = {NULL, wake_loop, user};
  uint32_t seen = shmrpc_segment_mark_dead(segment, side, &parking);
  return seen == SHMRPC_STATE_ABSENT || seen == SHMRPC_STATE_OPEN;
}
