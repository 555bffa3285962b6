/* Declarations shared between the library's .c files; not public API.
 *
 * Every access to a word in shared memory goes through one of the atomic
 * helpers below, so each barrier is visible where it is used and says what
 * it orders. Ring data bytes are plain memory, ordered by these index
 * stores and loads (docs/PROTOCOL.md section 2). */
#ifndef SHMRPC_INTERNAL_H
#define SHMRPC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "shmrpc/channel.h"
#include "shmrpc/wait.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmrpc supports little-endian hosts only (docs/PROTOCOL.md)"
#endif

/* --- the channel's send lock --- */

/* The mutex in the channel's opaque lock storage (channel.h keeps thread
 * types out of public structs). Only these pointers touch the storage;
 * channel.c checks that the mutex fits. */
static inline pthread_mutex_t *shmrpc__send_lock(shmrpc_channel_t *ch) {
  return (pthread_mutex_t *)(void *)ch->send_lock.bytes;
}

/* --- atomic helpers on shared (or cross-thread) 32-bit words --- */

/* Acquire: everything the peer wrote before its matching release store
 * (frame bytes before a tail, reads of freed space before a head, header
 * fields before the magic) is visible after this load. */
static inline uint32_t shmrpc__load_acquire(const uint32_t *word) {
  return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/* Release: everything this thread wrote or read before the store (frame
 * bytes, header fields) happens before the peer sees the new value. */
static inline void shmrpc__store_release(uint32_t *word, uint32_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/* Sequentially consistent: one half of a store-then-load (Dekker) pair.
 * A parker stores its wait word then loads the index; a waker stores the
 * index then loads the wait word. With both sides sequentially consistent
 * at least one of them sees the other's store, so no wake-up is lost
 * (docs/PROTOCOL.md section 4). Also used for state words, which the
 * parker re-checks the same way. */
static inline uint32_t shmrpc__load_seq_cst(const uint32_t *word) {
  return __atomic_load_n(word, __ATOMIC_SEQ_CST);
}
static inline void shmrpc__store_seq_cst(uint32_t *word, uint32_t value) {
  __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
}
/* Sequentially consistent compare-and-swap: the waker's claim on a wait
 * word, so that of several wakers only the first sees the park value. On
 * failure *expected holds the value found. */
static inline bool shmrpc__cas_seq_cst(uint32_t *word, uint32_t *expected,
                                       uint32_t value) {
  return __atomic_compare_exchange_n(word, expected, value, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/* Relaxed: a word whose value orders nothing else (clearing one's own wait
 * word after waking; the ordering was already established by the wake). */
static inline void shmrpc__store_relaxed(uint32_t *word, uint32_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELAXED);
}

/* Word `offset` bytes into the segment. */
static inline uint32_t *shmrpc__word(uint8_t *base, uint32_t offset) {
  return (uint32_t *)(void *)(base + offset);
}

/* --- segment.c --- */

/* Attach-side header checks (docs/PROTOCOL.md 1.1). On success stores the
 * two capacities, read once, in `caps`. Returns 0, SHMRPC_EINVAL (NULL or
 * misaligned memory), SHMRPC_EVERSION or SHMRPC_EPROTO. */
int shmrpc__segment_validate(const void *mem, size_t size, uint32_t caps[2]);

/* True for a power of two in [SHMRPC_RING_MIN_CAPACITY, MAX]. */
bool shmrpc__capacity_valid(uint32_t capacity);

/* --- ring.c --- */

/* shmrpc_ring_readable / _writable with the peer index loaded sequentially
 * consistently: the re-check after storing a wait word. */
int64_t shmrpc__ring_readable_seq_cst(shmrpc_ring_t *ring);
int64_t shmrpc__ring_writable_seq_cst(shmrpc_ring_t *ring);
/* The next `len` bytes at the private tail as up to two spans (the second
 * empty unless they wrap). The caller has checked writable() >= len. */
void shmrpc__ring_tail_spans(shmrpc_ring_t *ring, uint32_t len,
                             shmrpc_span_t spans[2]);
/* Moves the private tail forward over `len` bytes filled through spans. */
void shmrpc__ring_advance(shmrpc_ring_t *ring, uint32_t len);
/* Moves the private tail back over `len` unpublished bytes. */
void shmrpc__ring_unwrite(shmrpc_ring_t *ring, uint32_t len);

/* --- wait.c: the hidden twins of shmrpc/wait.h's hot functions --- */

int shmrpc__deadline_init(shmrpc_deadline_t *deadline, int timeout_ms);
bool shmrpc__deadline_passed(const shmrpc_deadline_t *deadline);
int shmrpc__park(uint32_t *wait_word, const shmrpc_parking_t *parking,
                 const shmrpc_deadline_t *deadline, uint32_t spin_ns,
                 shmrpc_ready_fn ready, void *ctx);
int shmrpc__park_spin(uint32_t *wait_word, const shmrpc_parking_t *parking,
                      const shmrpc_deadline_t *deadline,
                      shmrpc_spin_policy_t *policy, shmrpc_ready_fn ready,
                      void *ctx);
void shmrpc__wake(uint32_t *wait_word, const shmrpc_parking_t *parking);

/* --- channel.c --- */

/* Own state (SHMRPC_STATE_*) as this side last set it. */
static inline uint32_t shmrpc__own_state(const shmrpc_channel_t *ch) {
  return __atomic_load_n(&ch->state, __ATOMIC_SEQ_CST);
}

/* SHMRPC_EPROTO after a protocol violation, SHMRPC_ECLOSED after close,
 * else 0. */
int shmrpc__local_error(const shmrpc_channel_t *ch);

/* What a side does on seeing this peer state (docs/PROTOCOL.md 5): 0 to
 * go on, else the error that ends sends and, once everything published was
 * read, receives (shmrpc_peer_state_error, inlined for the hot path). */
static inline int shmrpc__peer_error(uint32_t peer_state) {
  if (peer_state <= SHMRPC_STATE_OPEN)
    return 0;
  return peer_state == SHMRPC_STATE_DEAD ? SHMRPC_EPEERDEAD : SHMRPC_ECLOSED;
}

/* Records a protocol violation: stores FAILED into this side's state word
 * (once) and wakes every sleeper. Returns SHMRPC_EPROTO. */
int shmrpc__channel_fail(shmrpc_channel_t *ch);

/* --- channel_recv.c --- */

/* Hands back the rx space of messages already delivered, when called from
 * inside a dispatch callback of `ch` on this thread; a no-op otherwise. A
 * callback that sends would otherwise wait for space while holding the
 * peer's space, and the peer may be waiting for exactly that. */
void shmrpc__release_delivered_in_callback(shmrpc_channel_t *ch);

#endif /* SHMRPC_INTERNAL_H */
