/* A framed, flow-controlled, bidirectional channel over one segment.
 *
 * Thread safety: send, try_send, send_batch and reserve/commit may be
 * called from any thread (they serialize on an internal mutex). close takes
 * no lock: any thread may call it, also while others are blocked in the
 * channel. recv and dispatch must be called by one thread at a time; a
 * dispatch callback may send but not recv or dispatch.
 *
 * Timeouts are in milliseconds: 0 = do not wait, -1 = wait forever. */
#ifndef SHMRPC_CHANNEL_H
#define SHMRPC_CHANNEL_H

#include <stdbool.h>

#include "shmrpc/frame.h"
#include "shmrpc/ring.h"
#include "shmrpc/segment.h"
#include "shmrpc/wait.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One message, as sent or delivered. A delivered message's `data` is valid
 * only during the callback (or until the next recv/dispatch call). */
typedef struct shmrpc_msg_s {
  uint8_t type; /* SHMRPC_TEXT, SHMRPC_BINARY or SHMRPC_COMMAND */
  const uint8_t *data;
  size_t len;
} shmrpc_msg_t;

typedef struct shmrpc_channel_options_s {
  /* How long to spin before parking, in nanoseconds: the cap of the
   * adaptive budget of each kind of wait (shmrpc_spin_policy_t in
   * shmrpc/wait.h), or with spin_fixed the budget of every wait. Default
   * 50 000. */
  uint32_t spin_ns;
  /* Spin spin_ns before every park instead of adapting. Default false. */
  bool spin_fixed;
  /* The largest message this side accepts (advertised to the peer).
   * Default 64 MiB. */
  uint32_t max_message_bytes;
  /* Called on this side's thread when the peer is parked in an event loop
   * (wait word == SHMRPC_WAIT_LOOP) and must be woken. May be NULL: then
   * the waiter's wake is used, which a loop transport's watcher thread
   * hears. */
  shmrpc_wake_loop_fn wake_loop;
  void *wake_loop_user;
  /* How this side sleeps and wakes sleepers (c/include/shmrpc/wait.h).
   * NULL: shmrpc_default_waiter() (futex). Must outlive the channel. */
  const shmrpc_waiter_t *waiter;
} shmrpc_channel_options_t;

/* Fills `opts` with the defaults. */
SHMRPC_EXTERN void shmrpc_channel_options_init(shmrpc_channel_options_t *opts);

/* Room for the channel's send lock, a platform mutex (pthread_mutex_t on
 * Linux, the single-threaded stand-in of the WebAssembly build) that this
 * header does not name: no pthread or futex type in a public struct, so a
 * program that includes shmrpc.h needs no thread headers. c/src/channel.c
 * checks at compile time that the platform's mutex fits. */
typedef union shmrpc_lock_storage_u {
  unsigned char bytes[64];
  uint64_t align_u64; /* pthread_mutex_t needs at most 8-byte alignment */
  void *align_ptr;
} shmrpc_lock_storage_t;

/* Channel handle; fields are private. The caller owns the memory. The
 * handle must not move (be copied) between open and destroy: the send
 * lock lives inside it. */
typedef struct shmrpc_channel_s {
  uint8_t *shared_base;
  uint32_t *shared_own_state;
  uint32_t *shared_peer_state;
  uint32_t *shared_peer_max_message;
  shmrpc_side_t side;
  shmrpc_ring_t tx; /* ring this side produces into */
  shmrpc_ring_t rx; /* ring this side consumes from */
  shmrpc_channel_options_t opts;
  shmrpc_parking_t parking; /* from opts: how this side parks and wakes */
  uint32_t peer_max_message; /* private copy, valid once peer_limit_known */
  bool peer_limit_known;     /* the peer was seen OPEN and its limit read */
  shmrpc_lock_storage_t send_lock; /* a mutex: shmrpc__send_lock() */
  uint32_t state;          /* own SHMRPC_STATE_*, private copy (atomic):
                              OPEN, then CLOSED (close) or FAILED (EPROTO) */
  uint32_t reserved_bytes; /* frame bytes written by reserve, 0 if none */
  uint8_t *reassembly;     /* fragments of the message being received */
  size_t reassembly_len;
  size_t reassembly_cap;
  int reassembly_type;     /* -1 when no message is in progress */
  uint8_t *scratch;        /* copy of a delivered frame that wraps */
  size_t scratch_cap;
  uint32_t pending_consume; /* bytes past rx.head parsed but not released */
  shmrpc_spin_policy_t rx_spin; /* waits for data (the receiving thread's) */
  shmrpc_spin_policy_t tx_spin; /* waits for space (under send_lock) */
} shmrpc_channel_t;

/* Attaches to an initialized segment as `side`, validates the header
 * (docs/PROTOCOL.md 1.1), publishes this side's limit and stores OPEN.
 * `mem` must be at least 4-byte aligned (64 keeps the control blocks on
 * their own cache lines) and `size` exactly the segment's size. `opts` may
 * be NULL for the defaults. Returns 0, SHMRPC_EINVAL, SHMRPC_EPROTO,
 * SHMRPC_EVERSION or SHMRPC_ENOMEM; on failure nothing needs releasing. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_channel_open(shmrpc_channel_t *ch, void *mem, size_t size,
                    shmrpc_side_t side, const shmrpc_channel_options_t *opts);

/* Copies the spin policies of the channel's waits for data (`rx`) and for
 * space (`tx`), either may be NULL: their budgets and how many waits were
 * caught spinning or parked (for tests and tuning). Call it from the
 * thread that receives; a sender may be updating `tx` meanwhile. */
SHMRPC_EXTERN void shmrpc_channel_spin_stats(const shmrpc_channel_t *ch,
                                             shmrpc_spin_policy_t *rx,
                                             shmrpc_spin_policy_t *tx);

/* Sends one message, fragmenting it when its frame does not fit in the ring.
 * Waits for space up to `timeout_ms`. The timeout applies until the first
 * frame is written; after that the call finishes the message (or fails with
 * SHMRPC_ECLOSED/EPROTO), so the stream never holds half a message.
 * The peer's limit is known once the peer has opened; a message sent before
 * that is not checked against it.
 * Returns 0, SHMRPC_EINVAL (bad type, NULL data with a length, timeout
 * below -1), SHMRPC_EMSGSIZE (over the peer's limit; nothing written),
 * SHMRPC_ETIMEDOUT (nothing written), SHMRPC_ECLOSED, SHMRPC_EPEERDEAD (the
 * peer was marked dead: it will never read) or SHMRPC_EPROTO. */
SHMRPC_EXTERN int shmrpc_channel_send(shmrpc_channel_t *ch, uint8_t type,
                                      const void *data, size_t len,
                                      int timeout_ms);

/* Sends one message only if its whole frame fits now; never waits, not
 * even for another thread's send in progress. Returns 0, SHMRPC_EAGAIN
 * (nothing written), SHMRPC_EMSGSIZE when the frame is larger than the
 * ring (it could never fit: use send), or as shmrpc_channel_send. */
SHMRPC_EXTERN int shmrpc_channel_try_send(shmrpc_channel_t *ch, uint8_t type,
                                          const void *data, size_t len);

/* Sends `count` messages with one publish per ring-full of frames and at
 * most one wake-up of the peer per publish. Every message is checked
 * before any is written (an invalid or oversized one fails the whole
 * batch). The timeout is one deadline for the batch and, as for send,
 * binds only before a message's first frame. Returns the number of
 * messages sent (all of them unless an error or timeout stopped it early)
 * or a negative error if none was sent. */
SHMRPC_EXTERN int shmrpc_channel_send_batch(shmrpc_channel_t *ch,
                                            const shmrpc_msg_t *msgs,
                                            size_t count, int timeout_ms);

/* Zero-copy send of a single-frame message of exactly `len` payload bytes:
 * waits for space like send, then returns the payload's place in the ring as
 * up to two spans (the second has len 0 unless the payload wraps). Fill
 * them, then call shmrpc_channel_commit (or _abort). The send lock is held
 * in between, so the same thread must call commit or abort, and must not
 * send in between. A span's data pointer is valid even when its len is 0.
 * Returns 0, SHMRPC_EMSGSIZE when the frame does not fit in the ring (use
 * send), or as shmrpc_channel_send; on failure the lock is not held. */
typedef struct shmrpc_span_s {
  uint8_t *data;
  size_t len;
} shmrpc_span_t;
SHMRPC_EXTERN int shmrpc_channel_reserve(shmrpc_channel_t *ch, uint8_t type,
                                         size_t len, int timeout_ms,
                                         shmrpc_span_t spans[2]);
/* Publishes the reserved frame and wakes the peer if it is parked. After
 * this side was closed (or failed) the frame is dropped instead. */
SHMRPC_EXTERN void shmrpc_channel_commit(shmrpc_channel_t *ch);
/* Drops the reserved frame (nothing was published). */
SHMRPC_EXTERN void shmrpc_channel_abort(shmrpc_channel_t *ch);

/* Callback for dispatch. `msg` is valid only during the call. The callback
 * may send on the same channel; if such a send has to wait for space, the
 * space of the messages already delivered is handed back first, so a peer
 * blocked sending to this side can go on. */
typedef void (*shmrpc_message_fn)(void *user, const shmrpc_msg_t *msg);

/* Waits up to `timeout_ms` for data (spin, then park), then delivers every
 * complete message available, in order, reassembling fragments, and releases
 * their space in one store. While only fragments of a large message arrive
 * it hands their space back as it copies them and keeps waiting, so the
 * sender can write the rest. Returns the number of messages delivered (0 on
 * timeout), SHMRPC_ECLOSED once the peer closed and everything it sent was
 * delivered (or this side closed), SHMRPC_EPEERDEAD instead when the peer
 * died (docs/PROTOCOL.md section 5), SHMRPC_EPROTO, or SHMRPC_ENOMEM when a
 * private buffer could not grow (nothing is lost; the call can be
 * repeated). An error that follows delivered messages is returned by the
 * next call. */
SHMRPC_EXTERN int shmrpc_channel_dispatch(shmrpc_channel_t *ch,
                                          shmrpc_message_fn fn, void *user,
                                          int timeout_ms);

/* Receives one message. `out->data` stays valid until the next recv or
 * dispatch call on this channel (it may point into the ring: the frame's
 * space is handed back by that next call). Returns 1, 0 on timeout, or as
 * dispatch. */
SHMRPC_EXTERN int shmrpc_channel_recv(shmrpc_channel_t *ch, shmrpc_msg_t *out,
                                      int timeout_ms);

/* Closes this side (docs/PROTOCOL.md section 5): publishes, stores CLOSED
 * and wakes every sleeper, this side's threads blocked in send or dispatch
 * included (they return SHMRPC_ECLOSED). Idempotent; a side that failed
 * stays FAILED. Messages already published are still delivered to the
 * peer. May be called from any thread. */
SHMRPC_EXTERN void shmrpc_channel_close(shmrpc_channel_t *ch);

/* Closes this side as shmrpc_channel_close does, but stores `state`
 * (SHMRPC_STATE_CLOSED, _FAILED or _DEAD) into its state word: for a
 * relay that stands in for a peer it forwards to (shmrpc/relay.h) and
 * passes on how that peer ended, so the other end sees a dead server as
 * dead. Idempotent as close: a side that already left OPEN keeps its
 * state. Returns 0, or SHMRPC_EINVAL for another state. */
SHMRPC_EXTERN int shmrpc_channel_close_as(shmrpc_channel_t *ch,
                                          uint32_t state);

/* True once the peer state is CLOSED, FAILED, DEAD (or a value the
 * protocol does not define). */
SHMRPC_EXTERN bool shmrpc_channel_peer_closed(const shmrpc_channel_t *ch);

/* Releases private memory. Call after close, when no thread uses `ch`. */
SHMRPC_EXTERN void shmrpc_channel_destroy(shmrpc_channel_t *ch);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_CHANNEL_H */
