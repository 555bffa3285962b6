/* The one core of waiting, waking and peer state (docs/PROTOCOL.md
 * sections 4 and 5): spin then park on a wait word, wake a parked peer,
 * close, mark a dead peer, and the event-loop spin of wait value 3. Every
 * transport uses it: the channel (c/src/channel*.c), the Node addon, the
 * cross-process host, and later a WebAssembly build.
 *
 * How a thread sleeps and how it wakes a sleeper is pluggable
 * (shmrpc_waiter_t): a futex on the shared mapping (c/src/wait_futex.c,
 * the default), or another backend such as WebAssembly's
 * memory.atomic.wait32, which a build links in place of wait_futex.c. No
 * structure here holds a pthread or futex type.
 *
 * Every function takes raw pointers into the segment and touches only the
 * shared words named in docs/PROTOCOL.md section 1: a hostile peer may
 * write anything into them; the worst it can do is wake a sleeper early or
 * keep one waiting until its deadline. */
#ifndef SHMRPC_WAIT_H
#define SHMRPC_WAIT_H

#include <stdbool.h>

#include "shmrpc/segment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- deadlines --- */

/* A point in time on CLOCK_MONOTONIC, or "never", built from a timeout in
 * milliseconds (0 = do not wait, -1 = wait forever). */
typedef struct shmrpc_deadline_s {
  uint64_t at_ns; /* CLOCK_MONOTONIC, unused when forever or now */
  bool forever;
  bool now; /* timeout 0: passed already, without reading the clock */
} shmrpc_deadline_t;

/* The deadline value a waiter gets for "no deadline". */
#define SHMRPC_DEADLINE_NEVER UINT64_MAX

/* Nanoseconds on CLOCK_MONOTONIC. */
SHMRPC_EXTERN uint64_t shmrpc_now_ns(void);
/* Returns 0, or SHMRPC_EINVAL for a timeout below -1. */
SHMRPC_EXTERN int shmrpc_deadline_init(shmrpc_deadline_t *deadline,
                                       int timeout_ms);
SHMRPC_EXTERN bool shmrpc_deadline_passed(const shmrpc_deadline_t *deadline);

/* --- the pluggable sleep/wake backend --- */

/* How a thread sleeps on a wait word and how a sleeper is woken. Rules:
 * 1. wait(user, word, expected, deadline_ns) returns at once unless
 *    *word == expected; otherwise it sleeps until woken through wake() on
 *    the same word, until deadline_ns (CLOCK_MONOTONIC nanoseconds, or
 *    SHMRPC_DEADLINE_NEVER), or spuriously. The caller re-checks its
 *    condition and deadline either way.
 * 2. wake(user, word) wakes every thread sleeping in wait() on the word,
 *    in this process and, for memory shared between processes, in others.
 * 3. Both may be called from any thread; neither may block for long. */
typedef struct shmrpc_waiter_s {
  void (*wait)(void *user, uint32_t *word, uint32_t expected,
               uint64_t deadline_ns);
  void (*wake)(void *user, uint32_t *word);
  void *user;
} shmrpc_waiter_t;

/* The platform's backend: shared futex operations on Linux
 * (c/src/wait_futex.c); a WebAssembly build links a file of its own that
 * defines this function instead. The result is static: never freed. */
SHMRPC_EXTERN const shmrpc_waiter_t *shmrpc_default_waiter(void);

/* Called on the waking side's thread when the peer is parked in its event
 * loop (wait word == SHMRPC_WAIT_LOOP), e.g. uv_async_send in the Node
 * addon. Must not block. */
typedef void (*shmrpc_wake_loop_fn)(void *user);

/* How one side parks and wakes: its backend, and how it wakes a peer that
 * parked in an event loop. Copied by value; the waiter it points to must
 * outlive every use. */
typedef struct shmrpc_parking_s {
  const shmrpc_waiter_t *waiter; /* NULL: shmrpc_default_waiter() */
  shmrpc_wake_loop_fn wake_loop; /* NULL: waiter->wake on the word */
  void *wake_loop_user;
} shmrpc_parking_t;

/* --- how long to spin (docs/PROTOCOL.md section 4, "Spin budgets") --- */

/* A wait that parks and ends more than this many times the cap after the
 * previous wait ended saw an idle exchange, not a slow peer (rule 4
 * below); a probe spins this many caps (rule 6). */
#define SHMRPC_SPIN_IDLE_FACTOR 8u
/* Waits a wake-up long in a busy exchange, in a row, before a probe; each
 * probe that parks doubles it, up to SHMRPC_SPIN_PROBE_AFTER_MAX. */
#define SHMRPC_SPIN_PROBE_AFTER 4u
#define SHMRPC_SPIN_PROBE_AFTER_MAX 256u

/* The spin budget of one kind of wait (a channel's wait for data, its wait
 * for space, an event loop's wait for replies), learned from the waits
 * themselves so that a burst spins and a caller that comes rarely parks
 * at once. The same rules as TypeScript's SpinPolicy, checked by one table
 * (tests/vectors/spin/policy.txt). shmrpc_spin_policy_begin says how long
 * a wait spins; shmrpc_spin_policy_observe applies the rules after it. A
 * parked wait's *period* runs from the end of the previous wait to its own
 * end (its own length when the previous one ended spinning):
 * 1. The budget starts at max_ns and never exceeds it.
 * 2. A wait that ended while spinning leaves the budget as it is.
 * 3. A wait that parked with a period over SHMRPC_SPIN_IDLE_FACTOR times
 *    max_ns (an idle exchange: a caller at a UI's rate, on either side)
 *    halves the budget; below max_ns / 16 it becomes 0, so both sides of
 *    such an exchange park at once after five calls.
 * 4. Otherwise a wait that parked and ended within max_ns of its start (a
 *    longer spin would have caught it) doubles the budget; from 0 it grows
 *    to max_ns / 4.
 * 5. Otherwise (the wait paid a wake-up in a busy exchange) the budget
 *    stays.
 * 6. The probe: after SHMRPC_SPIN_PROBE_AFTER rule-5 waits in a row, the
 *    next wait spins SHMRPC_SPIN_IDLE_FACTOR caps. A wait measures this
 *    side's own wake-up too, so without probes two sides that both park
 *    (after a quiet spell, or each spinning while the other sleeps) would
 *    pay two wake-ups per call for good. A probe spans the peer's wake-up
 *    and answer: caught, the budget is back at max_ns and the peer, which
 *    gets its answer while it still spins, catches the next message too.
 *    Every other wait, and every probe, starts the count again. A probe
 *    that parks (the peer did not get a CPU in time: spinning only delays
 *    it on an oversubscribed machine) doubles the count the next probe
 *    needs, up to SHMRPC_SPIN_PROBE_AFTER_MAX; a wait that ends spinning
 *    sets it back to SHMRPC_SPIN_PROBE_AFTER.
 * A fixed policy always spins max_ns (the behaviour before adaptive
 * spinning). One thread at a time uses a policy; it is private memory. */
typedef struct shmrpc_spin_policy_s {
  uint32_t max_ns;      /* the configured budget: the cap */
  uint32_t budget_ns;   /* what the next wait spins, unless it probes */
  bool fixed;           /* always spin max_ns */
  bool probing;         /* the wait under way is a probe (rule 6) */
  uint32_t near;        /* rule-5 waits in a row */
  uint32_t probe_after; /* rule-5 waits in a row the next probe needs */
  uint64_t last_end_ns; /* end of the last wait that parked; 0: unknown */
  uint64_t caught;      /* waits that ended while spinning */
  uint64_t parked;      /* waits that parked */
  uint64_t probes;      /* waits that were probes */
} shmrpc_spin_policy_t;

/* Starts `policy` at the full budget `max_ns`; fixed or adaptive. */
SHMRPC_EXTERN void shmrpc_spin_policy_init(shmrpc_spin_policy_t *policy,
                                           uint32_t max_ns, bool fixed);

/* How long the wait that begins now spins, in nanoseconds: the budget, or
 * SHMRPC_SPIN_IDLE_FACTOR caps when it is a probe (rule 6). Call it when a
 * wait begins, then shmrpc_spin_policy_observe when it ends; a wait that
 * is never reported (its condition held at once) changes nothing. */
SHMRPC_EXTERN uint32_t shmrpc_spin_policy_begin(shmrpc_spin_policy_t *policy);

/* Applies the rules above to one wait: `caught` when it ended while
 * spinning (the other arguments unused), else it parked, lasted
 * `waited_ns` and ended at `ended_ns` (shmrpc_now_ns()). */
SHMRPC_EXTERN void shmrpc_spin_policy_observe(shmrpc_spin_policy_t *policy,
                                              bool caught, uint64_t waited_ns,
                                              uint64_t ended_ns);

/* --- parking and waking (docs/PROTOCOL.md section 4) --- */

/* A condition to wait for: returns > 0 when it holds, 0 when it does not
 * yet, or a negative error that ends the wait. It must load every shared
 * word it depends on (indices, the peer's state) sequentially consistently
 * (__ATOMIC_SEQ_CST), so the park/wake pair below loses no wake-up. */
typedef int (*shmrpc_ready_fn)(void *ctx);

/* Waits until `ready(ctx)` is non-zero: spins for up to `spin_ns`, then
 * parks on `wait_word` with SHMRPC_WAIT_FUTEX (store, re-check, sleep in
 * the waiter), and repeats when woken. Returns the condition's value, or
 * SHMRPC_ETIMEDOUT once the deadline passed. The word is back to
 * SHMRPC_WAIT_NONE when this returns. A peer that closes, fails or is
 * marked dead wakes every word, so a condition that also holds on those
 * peer states ends every wait. */
SHMRPC_EXTERN int shmrpc_park(uint32_t *wait_word,
                              const shmrpc_parking_t *parking,
                              const shmrpc_deadline_t *deadline,
                              uint32_t spin_ns, shmrpc_ready_fn ready,
                              void *ctx);

/* As shmrpc_park, spinning as long as `policy` says
 * (shmrpc_spin_policy_begin: its budget, or a probe) and telling the policy
 * how the wait went (a wait that needed neither spin nor park does not
 * count). */
SHMRPC_EXTERN int shmrpc_park_spin(uint32_t *wait_word,
                                   const shmrpc_parking_t *parking,
                                   const shmrpc_deadline_t *deadline,
                                   shmrpc_spin_policy_t *policy,
                                   shmrpc_ready_fn ready, void *ctx);

/* Wakes whoever parked on `wait_word`, after the caller changed what it
 * waits for with a sequentially consistent store (a new index or state).
 * Costs one load when nobody is parked. Otherwise claims the word back to
 * NONE (compare-and-swap: of several wakers only the first wakes) and wakes
 * by its value: FUTEX through the waiter, LOOP through wake_loop (the
 * waiter when NULL). A SPINNING word is left to its owner. */
SHMRPC_EXTERN void shmrpc_wake(uint32_t *wait_word,
                               const shmrpc_parking_t *parking);

/* Wakes every sleeper of the segment: shmrpc_wake on all four wait words
 * (both rings' consumer and producer words), so each re-checks the peer
 * states. `segment` is the segment's base address. */
SHMRPC_EXTERN void shmrpc_segment_wake_all(void *segment,
                                           const shmrpc_parking_t *parking);

/* --- peer states (docs/PROTOCOL.md section 5 and its state table) --- */

/* The state word of `side`, loaded sequentially consistently. */
SHMRPC_EXTERN uint32_t shmrpc_segment_state(const void *segment,
                                            shmrpc_side_t side);

/* What a side does once it sees this peer state with nothing left to
 * read: 0 (ABSENT, OPEN: go on), SHMRPC_EPEERDEAD (DEAD) or
 * SHMRPC_ECLOSED (CLOSED, FAILED and values the protocol does not
 * define). */
SHMRPC_EXTERN int shmrpc_peer_state_error(uint32_t peer_state);

/* Marks `side` DEAD on its behalf: an observer (a host whose service
 * thread ended without closing, a process that saw its peer's socket hang
 * up) stores SHMRPC_STATE_DEAD into that side's state word if it is ABSENT
 * or OPEN, leaves CLOSED, FAILED and DEAD as they are, then wakes all four
 * wait words. Returns the state found before (SHMRPC_STATE_OPEN means the
 * peer died without closing). Safe to call more than once and from any
 * thread. */
SHMRPC_EXTERN uint32_t shmrpc_segment_mark_dead(void *segment,
                                                shmrpc_side_t side,
                                                const shmrpc_parking_t *parking);

/* Closes `side` on its behalf: as shmrpc_segment_mark_dead, but stores
 * SHMRPC_STATE_CLOSED. For a host that ends a connection on purpose (it
 * is stopping) while the side it hosts is alive but cannot be asked. */
SHMRPC_EXTERN uint32_t shmrpc_segment_close_for(void *segment,
                                                shmrpc_side_t side,
                                                const shmrpc_parking_t *parking);

/* --- waiting in an event loop (wait value 3, docs/PROTOCOL.md 4) --- */

/* A side that reads its rx ring in an event loop, and whose loop runs a
 * hook just before it blocks (uv_prepare in Node), parks its consumer word
 * with SHMRPC_WAIT_SPINNING; the hook calls shmrpc_loop_watch_step. */
typedef struct shmrpc_loop_watch_s {
  uint32_t *wait_word;         /* this side's rx consumer wait word */
  const uint32_t *tail;        /* rx tail (peer's) */
  const uint32_t *head;        /* rx head (this side's) */
  const uint32_t *peer_state;  /* the peer's state word */
  shmrpc_spin_policy_t spin;   /* how long a step spins */
  uint64_t parked_since_ns;    /* start of the wait that parked, or 0 */
} shmrpc_loop_watch_t;

/* Points `watch` at the rx ring of `side` in `segment`, with a spin budget
 * of `spin_ns` (the cap of an adaptive one, unless `fixed`). */
SHMRPC_EXTERN void shmrpc_loop_watch_init(shmrpc_loop_watch_t *watch,
                                          void *segment, shmrpc_side_t side,
                                          uint32_t spin_ns, bool fixed);

typedef enum {
  /* The word was not SPINNING: nothing to do, let the loop block. */
  SHMRPC_LOOP_IDLE = 0,
  /* Something arrived (data, or the peer left OPEN): the word is NONE;
   * deliver now (the reader may park again), then step again. */
  SHMRPC_LOOP_NEWS = 1,
  /* Nothing came within the budget: parked with SHMRPC_WAIT_LOOP, the
   * peer wakes the loop through its wake_loop hook. */
  SHMRPC_LOOP_PARKED = 2,
  /* `yield` was set and something is there: the word is NONE; let the
   * loop poll timers and I/O first, then deliver. */
  SHMRPC_LOOP_NEWS_LATER = 3
} shmrpc_loop_step_t;

/* One look before the loop blocks: if the word is SPINNING, takes it to
 * NONE and spins on the ring for the budget (none when `yield`); returns
 * NEWS when something arrives, else parks with LOOP (store, re-check,
 * claim the word back if the re-check found news) and returns PARKED (or
 * NEWS/NEWS_LATER when the re-check found news). Only the word's owner
 * calls this, on the loop's thread. */
SHMRPC_EXTERN shmrpc_loop_step_t
shmrpc_loop_watch_step(shmrpc_loop_watch_t *watch, bool yield);

/* The loop was woken by the peer (its wake_loop hook) after a step
 * returned PARKED: ends that wait for the spin policy. Harmless at any
 * other time. */
SHMRPC_EXTERN void shmrpc_loop_watch_woken(shmrpc_loop_watch_t *watch);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_WAIT_H */
