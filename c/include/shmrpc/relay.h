/* A relay between two segments (docs/CROSS-PROCESS.md, "The relay"): it
 * stands in for the server on one segment (the *client segment*, whose
 * client is, say, JavaScript in Electron, which can only use memory it
 * allocated itself) and for the client on another (the *server segment*,
 * the memfd a cross-process server shares), and forwards every message
 * both ways on two threads of its own, with the channel core
 * (shmrpc/channel.h) on both segments:
 *
 * 1. Messages: what the client sends is received on the client segment
 *    (fragments reassembled) and sent on the server segment (fragmented
 *    again for its ring), and the replies the other way. A full ring on
 *    either side blocks the thread that forwards into it, which stops
 *    draining the ring it reads from: flow control passes through, and
 *    nothing is dropped.
 * 2. Limits: the relay advertises the client's message limit to the server
 *    and the server's to the client. It opens its side of the client
 *    segment once the server has opened, so that the client reads the
 *    server's limit (until then the client sees it ABSENT and may send
 *    already).
 * 3. Wake-ups: each channel parks and wakes as any side does; the client
 *    segment's `wake_client_loop` wakes a client parked in its event loop.
 * 4. Peer state: when one end leaves OPEN, the relay ends its side toward
 *    the other end with the same state (CLOSED, DEAD, FAILED), after
 *    forwarding every message that end published before: a server marked
 *    DEAD (its process died) is DEAD to the client, a client that closed
 *    is closed to the server. A protocol violation seen by the relay is
 *    FAILED to both.
 *
 * Each message costs one extra copy (into the other segment's ring) and a
 * hand-off between the relay's thread and each end.
 *
 * Example usage (the Node addon in Electron, js/native/xproc_client.cc):
 *
 *   shmrpc_relay_options_t opts;
 *   shmrpc_relay_options_init(&opts);
 *   opts.wake_client_loop = wake_js_loop;    // uv_async_send
 *   shmrpc_relay_t *relay;
 *   int rc = shmrpc_relay_start(js_segment, js_size, conn.segment,
 *                               conn.segment_size, &opts, &relay);
 *   ...
 *   shmrpc_relay_stop(relay, 200, NULL, NULL);  // before unmapping either
 */
#ifndef SHMRPC_RELAY_H
#define SHMRPC_RELAY_H

#include <stdbool.h>

#include "shmrpc/wait.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct shmrpc_relay_s shmrpc_relay_t;

typedef struct shmrpc_relay_options_s {
  /* Spin budget of the relay's waits before they park, in nanoseconds (the
   * cap of the adaptive budgets, or with spin_fixed every wait's). Default
   * 50 000. */
  uint32_t spin_ns;
  bool spin_fixed;
  /* Called on a relay thread when the client parked in its event loop
   * (wait value 2 on the client segment); NULL: a futex wake on the word.
   * Must not block. */
  shmrpc_wake_loop_fn wake_client_loop;
  void *wake_client_loop_user;
  /* The largest message the relay takes from either end while it does not
   * know that end's own limit. Default 64 MiB. */
  uint32_t max_message_bytes;
} shmrpc_relay_options_t;

/* Fills `opts` with the defaults. */
SHMRPC_EXTERN void shmrpc_relay_options_init(shmrpc_relay_options_t *opts);

/* Starts relaying between `client_segment` (initialized; the relay becomes
 * its server side: start it after the client opened, so the server learns
 * the client's limit) and `server_segment` (initialized by the server; the
 * relay becomes its client side). Both must stay mapped until
 * shmrpc_relay_stop returns. `opts` may be NULL. Returns 0, or
 * SHMRPC_EINVAL, SHMRPC_EPROTO, SHMRPC_EVERSION (a segment that does not
 * validate: neither changed) or SHMRPC_ENOMEM (the relay's sides closed);
 * on failure nothing needs releasing. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_relay_start(void *client_segment, size_t client_size,
                   void *server_segment, size_t server_size,
                   const shmrpc_relay_options_t *opts, shmrpc_relay_t **out);

/* True once both threads have ended: one end left OPEN and that was passed
 * on to the other. */
SHMRPC_EXTERN bool shmrpc_relay_done(shmrpc_relay_t *relay);

/* Messages forwarded so far, client to server (`up`) and back (`down`);
 * either may be NULL. */
SHMRPC_EXTERN void shmrpc_relay_counts(shmrpc_relay_t *relay, uint64_t *up,
                                       uint64_t *down);

/* Stops the relay and frees it. First waits up to `flush_ms` (0: not at
 * all, -1: no limit) for the threads to end by themselves, which they do
 * once an end has left OPEN and everything it sent before was forwarded
 * (a client that closed, a server that died); then ends both of the
 * relay's sides as they would have (the state of an end that left OPEN,
 * else CLOSED), which wakes the threads, and joins them. Sets `up` and
 * `down` (either may be NULL) to the messages forwarded in all, counted
 * once the threads have ended (shmrpc_relay_counts on a running relay may
 * not count a message its peer already read). Returns 0, or
 * SHMRPC_ETIMEDOUT when the threads had to be stopped (messages still on
 * their way were dropped). */
SHMRPC_EXTERN int shmrpc_relay_stop(shmrpc_relay_t *relay, int flush_ms,
                                    uint64_t *up, uint64_t *down);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_RELAY_H */
