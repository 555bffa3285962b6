/* The wait/wake/peer-state core (c/include/shmrpc/wait.h): spin then park,
 * wake, wake everyone, mark a dead peer, and the event-loop spin, on
 * CLOCK_MONOTONIC deadlines. How a thread sleeps is the waiter's business
 * (wait_futex.c by default): nothing here makes a system call but the
 * clock and sched_yield. */
#include <sched.h>
#include <time.h>

#include "internal.h"
#include "shmrpc/wait.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)
/* Reading the clock costs tens of nanoseconds; a spin iteration (pause and
 * one index load) a few. Look at the clock only this often. */
#define SPIN_CLOCK_EVERY 256u
/* The event loop's spin reads the clock more often: its budget is short. */
#define LOOP_SPIN_CLOCK_EVERY 64u

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

int shmrpc__deadline_init(shmrpc_deadline_t *deadline, int timeout_ms) {
  if (timeout_ms < -1)
    return SHMRPC_EINVAL;
  deadline->forever = timeout_ms == -1;
  deadline->now = timeout_ms == 0;
  deadline->at_ns = deadline->forever || deadline->now
                        ? 0
                        : now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
  return 0;
}

static bool reached(const shmrpc_deadline_t *deadline, uint64_t now) {
  return !deadline->forever && now >= deadline->at_ns;
}

bool shmrpc__deadline_passed(const shmrpc_deadline_t *deadline) {
  if (deadline->forever)
    return false;
  return deadline->now || now_ns() >= deadline->at_ns;
}

static uint64_t deadline_ns(const shmrpc_deadline_t *deadline) {
  return deadline->forever ? SHMRPC_DEADLINE_NEVER : deadline->at_ns;
}

static const shmrpc_waiter_t *waiter_of(const shmrpc_parking_t *parking) {
  return parking->waiter != NULL ? parking->waiter : shmrpc_default_waiter();
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
 * before that and never read the clock. That read is left in `*started`
 * (untouched if the clock was not read). */
static int spin(shmrpc_ready_fn ready, void *ctx, uint32_t spin_ns,
                const shmrpc_deadline_t *deadline, uint64_t *started) {
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
        *started = start = now;
      if (now - start >= spin_ns || reached(deadline, now))
        return 0;
      /* If the peer is waiting for this CPU, no amount of spinning helps:
       * let it run. Without a waiting thread this returns at once. */
      sched_yield();
    }
  }
}

int shmrpc__park(uint32_t *wait_word, const shmrpc_parking_t *parking,
                 const shmrpc_deadline_t *deadline, uint32_t spin_ns,
                 shmrpc_ready_fn ready, void *ctx) {
  shmrpc_spin_policy_t fixed;
  shmrpc_spin_policy_init(&fixed, spin_ns, true);
  return shmrpc__park_spin(wait_word, parking, deadline, &fixed, ready, ctx);
}

int shmrpc__park_spin(uint32_t *wait_word, const shmrpc_parking_t *parking,
                      const shmrpc_deadline_t *deadline,
                      shmrpc_spin_policy_t *policy, shmrpc_ready_fn ready,
                      void *ctx) {
  const shmrpc_waiter_t *waiter = waiter_of(parking);
  int r = ready(ctx);
  if (r != 0)
    return r; /* no wait at all: nothing for the policy */
  if (shmrpc__deadline_passed(deadline))
    return SHMRPC_ETIMEDOUT; /* a poll (timeout 0): not a wait either */
  uint64_t started = 0; /* first clock read of the wait */
  bool parked = false;
  uint32_t spin_ns = shmrpc_spin_policy_begin(policy);
  for (;;) {
    r = spin(ready, ctx, spin_ns, deadline, &started);
    if (r != 0)
      break;
    /* Parking costs a system call: one clock read more is nothing. */
    if (started == 0)
      started = now_ns();
    parked = true;
    /* Announce the park, then re-check (sequentially consistent store,
     * then loads): either this re-check sees the waker's index store, or
     * the waker sees this park value and wakes the waiter. */
    shmrpc__store_seq_cst(wait_word, SHMRPC_WAIT_FUTEX);
    r = ready(ctx);
    if (r == 0)
      waiter->wait(waiter->user, wait_word, SHMRPC_WAIT_FUTEX,
                   deadline_ns(deadline));
    /* Woken, timed out or not needed: not parked any more. A waker may
     * have cleared the word already; clearing it twice is harmless. */
    shmrpc__store_relaxed(wait_word, SHMRPC_WAIT_NONE);
    if (r == 0)
      r = ready(ctx);
    if (r != 0)
      break;
    if (shmrpc__deadline_passed(deadline)) {
      r = SHMRPC_ETIMEDOUT;
      break;
    }
  }
  if (parked) {
    uint64_t ended = now_ns();
    shmrpc_spin_policy_observe(policy, false, ended - started, ended);
  } else {
    shmrpc_spin_policy_observe(policy, true, 0, 0);
  }
  return r;
}

void shmrpc__wake(uint32_t *wait_word, const shmrpc_parking_t *parking) {
  /* The caller's store and this load form the waker's half of the
   * park/wake pair: if this sees NONE, the parker's re-check will see the
   * store. Loading first keeps the common case (nobody parked) free of a
   * read-modify-write on the peer's cache line. */
  uint32_t old = shmrpc__load_seq_cst(wait_word);
  /* Compare-and-swap, so that of several wakers only the first wakes, and
   * a SPINNING word (its owner looks again before it sleeps) stays. */
  do {
    if (old == SHMRPC_WAIT_NONE || old == SHMRPC_WAIT_SPINNING)
      return;
  } while (!shmrpc__cas_seq_cst(wait_word, &old, SHMRPC_WAIT_NONE));
  if (old == SHMRPC_WAIT_LOOP && parking->wake_loop != NULL) {
    parking->wake_loop(parking->wake_loop_user);
  } else {
    /* FUTEX, LOOP without a hook (a watcher thread waits on the word), or
     * a value the protocol does not define: wake whatever sleeps there. */
    const shmrpc_waiter_t *waiter = waiter_of(parking);
    waiter->wake(waiter->user, wait_word);
  }
}

void shmrpc_segment_wake_all(void *segment, const shmrpc_parking_t *parking) {
  static const uint32_t words[] = {
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT};
  const shmrpc_waiter_t *waiter = waiter_of(parking);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    uint32_t *word = shmrpc__word(segment, words[i]);
    uint32_t seen = shmrpc__load_seq_cst(word);
    shmrpc__wake(word, parking);
    /* A word that looks idle may hide a sleeper whose announcement a
     * corrupt or hostile peer overwrote (issue 18): a close or a death
     * must reach it all the same. A wake that finds nobody is cheap, and
     * this runs once per close. */
    if (seen == SHMRPC_WAIT_NONE || seen == SHMRPC_WAIT_SPINNING)
      waiter->wake(waiter->user, word);
  }
}

static uint32_t *state_word(void *segment, shmrpc_side_t side) {
  return shmrpc__word(segment, side == SHMRPC_SIDE_CLIENT
                                   ? SHMRPC_OFF_CLIENT_STATE
                                   : SHMRPC_OFF_SERVER_STATE);
}

uint32_t shmrpc_segment_state(const void *segment, shmrpc_side_t side) {
  return shmrpc__load_seq_cst(state_word((void *)segment, side));
}

int shmrpc_peer_state_error(uint32_t peer_state) {
  switch (peer_state) {
  case SHMRPC_STATE_ABSENT:
  case SHMRPC_STATE_OPEN:
    return 0;
  case SHMRPC_STATE_DEAD:
    return SHMRPC_EPEERDEAD;
  default:
    return SHMRPC_ECLOSED;
  }
}

/* Stores `to` into `side`'s state word on its behalf, then wakes all. */
static uint32_t mark(void *segment, shmrpc_side_t side, uint32_t to,
                     const shmrpc_parking_t *parking) {
  uint32_t *state = state_word(segment, side);
  uint32_t seen = shmrpc__load_seq_cst(state);
  /* Only a side that is still (or not yet) there is marked: a CLOSED,
   * FAILED or DEAD side said its last word already. */
  while ((seen == SHMRPC_STATE_ABSENT || seen == SHMRPC_STATE_OPEN) &&
         !shmrpc__cas_seq_cst(state, &seen, to)) {
  }
  /* The state store is sequentially consistent, so a sleeper that parked
   * after re-checking the states is seen here and woken. */
  shmrpc_segment_wake_all(segment, parking);
  return seen;
}

uint32_t shmrpc_segment_mark_dead(void *segment, shmrpc_side_t side,
                                  const shmrpc_parking_t *parking) {
  return mark(segment, side, SHMRPC_STATE_DEAD, parking);
}

uint32_t shmrpc_segment_close_for(void *segment, shmrpc_side_t side,
                                  const shmrpc_parking_t *parking) {
  return mark(segment, side, SHMRPC_STATE_CLOSED, parking);
}

void shmrpc_loop_watch_init(shmrpc_loop_watch_t *watch, void *segment,
                            shmrpc_side_t side, uint32_t spin_ns, bool fixed) {
  uint32_t rx = side == SHMRPC_SIDE_CLIENT ? SHMRPC_OFF_RING1_CONTROL
                                           : SHMRPC_OFF_RING0_CONTROL;
  watch->wait_word = shmrpc__word(segment, rx + SHMRPC_RING_OFF_CONSUMER_WAIT);
  watch->tail = shmrpc__word(segment, rx + SHMRPC_RING_OFF_TAIL);
  watch->head = shmrpc__word(segment, rx + SHMRPC_RING_OFF_HEAD);
  watch->peer_state = state_word(
      segment,
      side == SHMRPC_SIDE_CLIENT ? SHMRPC_SIDE_SERVER : SHMRPC_SIDE_CLIENT);
  shmrpc_spin_policy_init(&watch->spin, spin_ns, fixed);
  watch->parked_since_ns = 0;
}

/* A reader parked in its loop has consumed (and handed back) everything,
 * so any difference between tail and head is new; a peer that left OPEN
 * is news too. */
static int has_news(void *ctx) {
  const shmrpc_loop_watch_t *watch = ctx;
  if (shmrpc__load_seq_cst(watch->tail) != shmrpc__load_seq_cst(watch->head))
    return 1;
  return shmrpc__load_seq_cst(watch->peer_state) > SHMRPC_STATE_OPEN;
}

/* Spins on the ring for `budget_ns`; true when news arrived. The first
 * clock read is left in `*started` (untouched for a budget of 0 or news
 * before the first read). No sched_yield here: this is the event loop's
 * own thread, about to block. */
static bool loop_spin(const shmrpc_loop_watch_t *watch, uint32_t budget_ns,
                      uint64_t *started) {
  if (budget_ns == 0)
    return false;
  uint64_t start = 0;
  for (uint32_t i = 1;; i++) {
    cpu_relax();
    if (has_news((void *)watch))
      return true;
    if (i % LOOP_SPIN_CLOCK_EVERY == 0) {
      uint64_t now = now_ns();
      if (start == 0)
        *started = start = now;
      if (now - start >= budget_ns)
        return false;
    }
  }
}

/* Takes the word from `from` to `to`; false if it held something else. */
static bool exchange(uint32_t *word, uint32_t from, uint32_t to) {
  return shmrpc__cas_seq_cst(word, &from, to);
}

shmrpc_loop_step_t shmrpc_loop_watch_step(shmrpc_loop_watch_t *watch,
                                          bool yield) {
  /* Not waiting for the peer, or parked for good after a spin: the loop
   * has other work, or the peer's wake-up is on its way. Only the owner
   * moves the word away from SPINNING. */
  if (!exchange(watch->wait_word, SHMRPC_WAIT_SPINNING, SHMRPC_WAIT_NONE))
    return SHMRPC_LOOP_IDLE;
  /* A park whose wake-up never came through the hook (the reader found the
   * news itself): its length is unknown, so it does not count. */
  watch->parked_since_ns = 0;
  if (yield) {
    /* Something is there already (the reader parked again at once): let
     * the loop poll first, spinning for nothing. */
  } else {
    uint64_t started = 0;
    if (loop_spin(watch, shmrpc_spin_policy_begin(&watch->spin), &started)) {
      shmrpc_spin_policy_observe(&watch->spin, true, 0, 0);
      return SHMRPC_LOOP_NEWS;
    }
    /* Park for good: store, then look once more, as any parker does. If
     * the peer took the word back meanwhile, its wake-up reaches the loop
     * (and ends this wait for the policy, shmrpc_loop_watch_woken). */
    shmrpc__store_seq_cst(watch->wait_word, SHMRPC_WAIT_LOOP);
    if (!has_news((void *)watch) ||
        !exchange(watch->wait_word, SHMRPC_WAIT_LOOP, SHMRPC_WAIT_NONE)) {
      watch->parked_since_ns = started != 0 ? started : now_ns();
      return SHMRPC_LOOP_PARKED;
    }
    /* Came as the spin ended: the budget was (just) enough. */
    shmrpc_spin_policy_observe(&watch->spin, true, 0, 0);
    return SHMRPC_LOOP_NEWS;
  }
  shmrpc__store_seq_cst(watch->wait_word, SHMRPC_WAIT_LOOP);
  if (!has_news((void *)watch) ||
      !exchange(watch->wait_word, SHMRPC_WAIT_LOOP, SHMRPC_WAIT_NONE))
    return SHMRPC_LOOP_PARKED;
  return SHMRPC_LOOP_NEWS_LATER;
}

void shmrpc_loop_watch_woken(shmrpc_loop_watch_t *watch) {
  if (watch->parked_since_ns == 0)
    return;
  uint64_t ended = now_ns();
  shmrpc_spin_policy_observe(&watch->spin, false,
                             ended - watch->parked_since_ns, ended);
  watch->parked_since_ns = 0;
}

uint64_t shmrpc_now_ns(void) { return now_ns(); }

/* The exported names of the functions above. The library itself calls the
 * internal (hidden) ones: a call to an exported function from inside a
 * shared object (a service library links this one) goes through the PLT,
 * one indirect jump more on every publish. */
int shmrpc_deadline_init(shmrpc_deadline_t *deadline, int timeout_ms) {
  return shmrpc__deadline_init(deadline, timeout_ms);
}

bool shmrpc_deadline_passed(const shmrpc_deadline_t *deadline) {
  return shmrpc__deadline_passed(deadline);
}

int shmrpc_park(uint32_t *wait_word, const shmrpc_parking_t *parking,
                const shmrpc_deadline_t *deadline, uint32_t spin_ns,
                shmrpc_ready_fn ready, void *ctx) {
  return shmrpc__park(wait_word, parking, deadline, spin_ns, ready, ctx);
}

int shmrpc_park_spin(uint32_t *wait_word, const shmrpc_parking_t *parking,
                     const shmrpc_deadline_t *deadline,
                     shmrpc_spin_policy_t *policy, shmrpc_ready_fn ready,
                     void *ctx) {
  return shmrpc__park_spin(wait_word, parking, deadline, policy, ready, ctx);
}

void shmrpc_wake(uint32_t *wait_word, const shmrpc_parking_t *parking) {
  shmrpc__wake(wait_word, parking);
}
