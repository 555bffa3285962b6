/* The futex backend of shmrpc_waiter_t (c/include/shmrpc/wait.h), the
 * default on Linux. The operations are the shared (non-private) ones: the
 * peer may be another process that maps the same memory at another
 * address. A WebAssembly build replaces this file with one that defines
 * shmrpc_default_waiter() over memory.atomic.wait32 / notify. */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shmrpc/wait.h"

#define NS_PER_S UINT64_C(1000000000)

static void futex_wait(void *user, uint32_t *word, uint32_t expected,
                       uint64_t deadline_ns) {
  (void)user;
  struct timespec at;
  struct timespec *timeout = NULL;
  if (deadline_ns != SHMRPC_DEADLINE_NEVER) {
    at.tv_sec = (time_t)(deadline_ns / NS_PER_S);
    at.tv_nsec = (long)(deadline_ns % NS_PER_S);
    timeout = &at;
  }
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so retries
   * after a spurious wake-up keep the caller's deadline. */
  syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, timeout, NULL,
          FUTEX_BITSET_MATCH_ANY);
}

static void futex_wake(void *user, uint32_t *word) {
  (void)user;
  syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static const shmrpc_waiter_t futex_waiter = {futex_wait, futex_wake, NULL};

const shmrpc_waiter_t *shmrpc_default_waiter(void) { return &futex_waiter; }
