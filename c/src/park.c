/* Spin-then-park waiting and waking on ring wait words
 * (docs/PROTOCOL.md section 4), on CLOCK_MONOTONIC deadlines.
 *
 * The futex operations are the shared (non-private) ones: the peer may be
 * another process that maps the same memory at another address. */
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)
/* Reading the clock costs tens of nanoseconds; a spin iteration (pause and
 * one index load) a few. Look at the clock only this often. */
#define SPIN_CLOCK_EVERY 256u

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int shmrpc__deadline_init(shmrpc__deadline_t *deadline, int timeout_ms) {
  if (timeout_ms < -1)
    return SHMRPC_EINVAL;
  deadline->forever = timeout_ms == -1;
  deadline->now = timeout_ms == 0;
  deadline->at_ns = deadline->forever || deadline->now
                        ? 0
                        : now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
  return 0;
}

static bool reached(const shmrpc__deadline_t *deadline, uint64_t now) {
  return !deadline->forever && now >= deadline->at_ns;
}

bool shmrpc__deadline_passed(const shmrpc__deadline_t *deadline) {
  if (deadline->forever)
    return false;
  return deadline->now || now_ns() >= deadline->at_ns;
}

/* Tells the CPU this is a spin-wait loop: saves power and, on a
 * hyper-threaded core, leaves the pipeline to the sibling thread. */
static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Polls `ready` for up to `spin_ns` (and not past the deadline). Returns
 * the condition's value, or 0 when the budget is spent. The budget starts
 * at the first clock read, SPIN_CLOCK_EVERY polls in: most waits end
 * before that and never read the clock. */
static int spin(shmrpc__condition_fn ready, void *ctx, uint32_t spin_ns,
                const shmrpc__deadline_t *deadline) {
  if (spin_ns == 0)
    return 0;
  uint64_t start = 0;
  for (uint32_t i = 1;; i++) {
    cpu_relax();
    int r = ready(ctx);
    if (r != 0)
      return r;
    if (i % SPIN_CLOCK_EVERY == 0) {
      uint64_t now = now_ns();
      if (start == 0)
        start = now;
      if (now - start >= spin_ns || reached(deadline, now))
        return 0;
      /* If the peer is waiting for this CPU, no amount of spinning helps:
       * let it run. Without a waiting thread this returns at once. */
      sched_yield();
    }
  }
}

/* Sleeps while *word == expected, until woken, the deadline, or a signal.
 * The caller re-checks its condition and the deadline either way. */
static void futex_wait_until(uint32_t *word, uint32_t expected,
                             const shmrpc__deadline_t *deadline) {
  struct timespec at;
  struct timespec *timeout = NULL;
  if (!deadline->forever) {
    at.tv_sec = (time_t)(deadline->at_ns / NS_PER_S);
    at.tv_nsec = (long)(deadline->at_ns % NS_PER_S);
    timeout = &at;
  }
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, so retries
   * after a spurious wake-up keep the caller's deadline. */
  syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, timeout, NULL,
          FUTEX_BITSET_MATCH_ANY);
}

static void futex_wake_all(uint32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

int shmrpc__wait_until(uint32_t *wait_word, const shmrpc__deadline_t *deadline,
                       uint32_t spin_ns, shmrpc__condition_fn ready,
                       void *ctx) {
  for (;;) {
    int r = ready(ctx);
    if (r != 0)
      return r;
    if (shmrpc__deadline_passed(deadline))
      return SHMRPC_ETIMEDOUT;
    r = spin(ready, ctx, spin_ns, deadline);
    if (r != 0)
      return r;
    /* Announce the park, then re-check (sequentially consistent store,
     * then loads): either this re-check sees the waker's index store, or
     * the waker sees this park value and wakes the futex. */
    shmrpc__store_seq_cst(wait_word, SHMRPC_WAIT_FUTEX);
    r = ready(ctx);
    if (r == 0)
      futex_wait_until(wait_word, SHMRPC_WAIT_FUTEX, deadline);
    /* Woken, timed out or not needed: not parked any more. A waker may
     * have cleared the word already; clearing it twice is harmless. */
    shmrpc__store_relaxed(wait_word, SHMRPC_WAIT_NONE);
    if (r != 0)
      return r;
  }
}

void shmrpc__wake(uint32_t *wait_word, const shmrpc_channel_options_t *opts) {
  /* The caller's index store and this load form the waker's half of the
   * park/wake pair: if this sees NONE, the parker's re-check will see the
   * index. Loading first keeps the common case (nobody parked) free of a
   * read-modify-write on the peer's cache line. */
  uint32_t old = shmrpc__load_seq_cst(wait_word);
  /* Compare-and-swap, so that of several wakers only the first wakes, and
   * a SPINNING word (its owner looks again before it sleeps) stays. */
  do {
    if (old == SHMRPC_WAIT_NONE || old == SHMRPC_WAIT_SPINNING)
      return;
  } while (!shmrpc__cas_seq_cst(wait_word, &old, SHMRPC_WAIT_NONE));
  if (old == SHMRPC_WAIT_LOOP && opts->wake_loop != NULL)
    opts->wake_loop(opts->wake_loop_user);
  else
    futex_wake_all(wait_word);
}
