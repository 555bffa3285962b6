/* The relay between a client segment and a server segment
 * (shmrpc/relay.h): two threads, each dispatching from one channel and
 * sending into the other, and the rule that passes an end's state on.
 *
 * Channels: `near` is the relay's server side of the client segment,
 * `far` its client side of the server segment. The up thread receives on
 * near and sends on far, the down thread the other way, so each channel
 * has one receiving thread and one sending thread, as the channel allows.
 *
 * How a direction ends:
 * - its source ends (dispatch returns an error): the relay ends its side
 *   toward the other end with the state the source's end left with
 *   (end_state), after everything that end published was forwarded;
 * - its destination's end is gone (a send fails because that end left
 *   OPEN, or the relay ended that side): it keeps draining its source and
 *   drops what it reads, until the other direction ends the source; a
 *   thread that stopped reading could leave the other one blocked;
 * - any other send error (a message over a limit, a violation): both
 *   sides FAILED. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "shmrpc/relay.h"
#include "xproc_internal.h"

#define DEFAULT_SPIN_NS 50000u
#define DEFAULT_MAX_MESSAGE_BYTES (64u << 20)
/* The longest pause between two looks at a server that has not opened. */
#define OPEN_POLL_MAX_NS 1000000L

/* Whether the relay's side of the client segment is open yet. */
typedef enum { NEAR_PENDING, NEAR_OPEN, NEAR_NEVER } near_status_t;

typedef struct direction_s {
  shmrpc_relay_t *relay;
  shmrpc_channel_t *from;
  shmrpc_channel_t *to;
  uint64_t forwarded; /* atomic */
  bool discard;       /* the destination's end is gone: drop */
  int failure;        /* a send error that fails the relay, or 0 */
} direction_t;

struct shmrpc_relay_s {
  shmrpc_channel_t near;
  shmrpc_channel_t far;
  uint8_t *client_segment;
  size_t client_size;
  shmrpc_relay_options_t opts;
  /* How the relay wakes the client segment's sleepers. */
  shmrpc_parking_t near_parking;
  direction_t up;
  direction_t down;
  pthread_t up_thread;
  pthread_t down_thread;
  pthread_mutex_t mutex;
  pthread_cond_t changed; /* CLOCK_MONOTONIC */
  /* Guarded by mutex. */
  near_status_t near_status;
  int running; /* threads that have not ended */
  /* Atomic: stop was called (the up thread's wait for the server reads it
   * without the mutex). */
  bool stopping;
};

void shmrpc_relay_options_init(shmrpc_relay_options_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->spin_ns = DEFAULT_SPIN_NS;
  opts->max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES;
}

static bool is_stopping(shmrpc_relay_t *r) {
  return __atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE);
}

/* The state to pass on when `from` ended with `rc`: the state its peer
 * left OPEN with, FAILED when the relay saw a violation, else CLOSED (the
 * relay ended `from` itself: it is stopping, or the other end left). */
static uint32_t end_state(const shmrpc_channel_t *from, int rc) {
  uint32_t peer = shmrpc__load_seq_cst(from->shared_peer_state);
  if (peer == SHMRPC_STATE_CLOSED || peer == SHMRPC_STATE_DEAD)
    return peer;
  if (peer > SHMRPC_STATE_OPEN)
    return SHMRPC_STATE_FAILED;
  if (rc == SHMRPC_EPROTO || rc == SHMRPC_ENOMEM ||
      shmrpc__own_state(from) == SHMRPC_STATE_FAILED)
    return SHMRPC_STATE_FAILED;
  return SHMRPC_STATE_CLOSED;
}

/* Ends the relay's side of the client segment with `state`. Before near
 * opened, marks the segment's server side on the relay's behalf instead,
 * so the client does not wait for a server that never comes. Called with
 * the mutex held. */
static void end_near_locked(shmrpc_relay_t *r, uint32_t state) {
  if (r->near_status == NEAR_OPEN) {
    (void)shmrpc_channel_close_as(&r->near, state);
    return;
  }
  if (state == SHMRPC_STATE_DEAD)
    (void)shmrpc_segment_mark_dead(r->client_segment, SHMRPC_SIDE_SERVER,
                                   &r->near_parking);
  else
    (void)shmrpc_segment_close_for(r->client_segment, SHMRPC_SIDE_SERVER,
                                   &r->near_parking);
  r->near_status = NEAR_NEVER;
  pthread_cond_broadcast(&r->changed);
}

static void end_side(shmrpc_relay_t *r, shmrpc_channel_t *ch, uint32_t state) {
  if (ch == &r->far) {
    (void)shmrpc_channel_close_as(ch, state);
    return;
  }
  pthread_mutex_lock(&r->mutex);
  end_near_locked(r, state);
  pthread_mutex_unlock(&r->mutex);
}

/* The dispatch callback: one message of `from`, sent on `to`. Waits for
 * space as long as it takes: that is the flow control. */
static void forward(void *user, const shmrpc_msg_t *msg) {
  direction_t *d = user;
  if (d->discard)
    return;
  int rc = shmrpc_channel_send(d->to, msg->type, msg->data, msg->len, -1);
  if (rc == 0) {
    __atomic_fetch_add(&d->forwarded, 1, __ATOMIC_RELAXED);
    return;
  }
  d->discard = true;
  bool gone = shmrpc__own_state(d->to) != SHMRPC_STATE_OPEN ||
              shmrpc_channel_peer_closed(d->to);
  if (!gone || (rc != SHMRPC_ECLOSED && rc != SHMRPC_EPEERDEAD))
    d->failure = rc;
}

/* Forwards until the source ends or a send fails the relay. */
static void pump(direction_t *d) {
  int rc;
  do
    rc = shmrpc_channel_dispatch(d->from, forward, d, -1);
  while (rc >= 0 && d->failure == 0);
  shmrpc_relay_t *r = d->relay;
  if (d->failure != 0) {
    end_side(r, d->to, SHMRPC_STATE_FAILED);
    end_side(r, d->from, SHMRPC_STATE_FAILED);
    return;
  }
  end_side(r, d->to, end_state(d->from, rc));
}

static void thread_ended(shmrpc_relay_t *r) {
  pthread_mutex_lock(&r->mutex);
  r->running--;
  pthread_cond_broadcast(&r->changed);
  pthread_mutex_unlock(&r->mutex);
}

/* Waits for the server to leave ABSENT: its open stores OPEN and wakes
 * nobody, so this looks again after pauses that grow to 1 ms (a server
 * opens as it starts serving, within microseconds of the handshake).
 * Returns its state, or ABSENT once the relay is stopping. */
static uint32_t await_server(shmrpc_relay_t *r) {
  long pause_ns = 1000;
  for (;;) {
    uint32_t state = shmrpc__load_seq_cst(r->far.shared_peer_state);
    if (state != SHMRPC_STATE_ABSENT || is_stopping(r))
      return state;
    struct timespec pause = {0, pause_ns};
    nanosleep(&pause, NULL);
    if (pause_ns < OPEN_POLL_MAX_NS)
      pause_ns *= 2;
  }
}

/* Opens near with the server's limit, so that the client reads it, once
 * the server left ABSENT: also when it has already ended again, so that
 * the down thread forwards what it published and then its end. Returns
 * false when the relay is stopping first. */
static bool open_near(shmrpc_relay_t *r) {
  uint32_t server = await_server(r);
  shmrpc_channel_options_t o;
  shmrpc_channel_options_init(&o);
  o.spin_ns = r->opts.spin_ns;
  o.spin_fixed = r->opts.spin_fixed;
  o.wake_loop = r->opts.wake_client_loop;
  o.wake_loop_user = r->opts.wake_client_loop_user;
  /* A server writes its limit before it stores OPEN; one marked DEAD
   * before it opened has none. */
  uint32_t limit = shmrpc__load_acquire(r->far.shared_peer_max_message);
  o.max_message_bytes = limit != 0 ? limit : r->opts.max_message_bytes;
  pthread_mutex_lock(&r->mutex);
  bool opened = false;
  if (r->near_status == NEAR_PENDING && server != SHMRPC_STATE_ABSENT &&
      !is_stopping(r)) {
    /* Validated by shmrpc_relay_start: fails only for want of a mutex. */
    opened = shmrpc_channel_open(&r->near, r->client_segment, r->client_size,
                                 SHMRPC_SIDE_SERVER, &o) == 0;
    if (opened) {
      r->near_status = NEAR_OPEN;
      pthread_cond_broadcast(&r->changed);
    } else {
      end_near_locked(r, SHMRPC_STATE_FAILED);
    }
  }
  pthread_mutex_unlock(&r->mutex);
  if (!opened)
    (void)shmrpc_channel_close_as(&r->far, SHMRPC_STATE_CLOSED);
  return opened;
}

static void *up_main(void *arg) {
  shmrpc_relay_t *r = arg;
  if (open_near(r))
    pump(&r->up);
  thread_ended(r);
  return NULL;
}

static void *down_main(void *arg) {
  shmrpc_relay_t *r = arg;
  pthread_mutex_lock(&r->mutex);
  while (r->near_status == NEAR_PENDING)
    pthread_cond_wait(&r->changed, &r->mutex);
  bool near_open = r->near_status == NEAR_OPEN;
  pthread_mutex_unlock(&r->mutex);
  if (near_open)
    pump(&r->down);
  thread_ended(r);
  return NULL;
}

static int init_sync(shmrpc_relay_t *r) {
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    return SHMRPC_ENOMEM;
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&r->changed, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    return SHMRPC_ENOMEM;
  if (pthread_mutex_init(&r->mutex, NULL) != 0) {
    pthread_cond_destroy(&r->changed);
    return SHMRPC_ENOMEM;
  }
  return 0;
}

int shmrpc_relay_start(void *client_segment, size_t client_size,
                       void *server_segment, size_t server_size,
                       const shmrpc_relay_options_t *opts,
                       shmrpc_relay_t **out) {
  if (out == NULL)
    return SHMRPC_EINVAL;
  *out = NULL;
  uint32_t caps[2];
  int rc = shmrpc__segment_validate(client_segment, client_size, caps);
  if (rc == 0)
    rc = shmrpc__segment_validate(server_segment, server_size, caps);
  if (rc != 0)
    return rc;
  shmrpc_relay_t *r = calloc(1, sizeof *r);
  if (r == NULL)
    return SHMRPC_ENOMEM;
  if (opts != NULL)
    r->opts = *opts;
  else
    shmrpc_relay_options_init(&r->opts);
  r->client_segment = client_segment;
  r->client_size = client_size;
  r->near_parking = (shmrpc_parking_t){NULL, r->opts.wake_client_loop,
                                       r->opts.wake_client_loop_user};
  r->up = (direction_t){.relay = r, .from = &r->near, .to = &r->far};
  r->down = (direction_t){.relay = r, .from = &r->far, .to = &r->near};
  if (init_sync(r) != 0) {
    free(r);
    return SHMRPC_ENOMEM;
  }

  /* The server learns the client's limit; a client that has not opened
   * yet has none to tell. */
  shmrpc_channel_options_t o;
  shmrpc_channel_options_init(&o);
  o.spin_ns = r->opts.spin_ns;
  o.spin_fixed = r->opts.spin_fixed;
  o.max_message_bytes = r->opts.max_message_bytes;
  uint8_t *client = client_segment;
  if (shmrpc_segment_state(client, SHMRPC_SIDE_CLIENT) == SHMRPC_STATE_OPEN)
    o.max_message_bytes = shmrpc__load_acquire(
        shmrpc__word(client, SHMRPC_OFF_CLIENT_MAX_MESSAGE));
  rc = shmrpc_channel_open(&r->far, server_segment, server_size,
                           SHMRPC_SIDE_CLIENT, &o);
  if (rc != 0)
    goto err;
  r->running = 2;
  if (shmrpc__xproc_thread_start(&r->up_thread, up_main, r) != 0) {
    rc = SHMRPC_ENOMEM;
    goto err_far;
  }
  if (shmrpc__xproc_thread_start(&r->down_thread, down_main, r) != 0) {
    /* Stops the up thread, wherever it is, as shmrpc_relay_stop does. */
    __atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
    pthread_mutex_lock(&r->mutex);
    end_near_locked(r, SHMRPC_STATE_CLOSED);
    pthread_mutex_unlock(&r->mutex);
    (void)shmrpc_channel_close_as(&r->far, SHMRPC_STATE_CLOSED);
    pthread_join(r->up_thread, NULL);
    if (r->near_status == NEAR_OPEN)
      shmrpc_channel_destroy(&r->near);
    rc = SHMRPC_ENOMEM;
    goto err_far;
  }
  *out = r;
  return 0;

err_far:
  (void)shmrpc_channel_close_as(&r->far, SHMRPC_STATE_CLOSED);
  shmrpc_channel_destroy(&r->far);
err:
  pthread_mutex_destroy(&r->mutex);
  pthread_cond_destroy(&r->changed);
  free(r);
  return rc;
}

bool shmrpc_relay_done(shmrpc_relay_t *relay) {
  pthread_mutex_lock(&relay->mutex);
  bool done = relay->running == 0;
  pthread_mutex_unlock(&relay->mutex);
  return done;
}

void shmrpc_relay_counts(shmrpc_relay_t *relay, uint64_t *up, uint64_t *down) {
  if (up != NULL)
    *up = __atomic_load_n(&relay->up.forwarded, __ATOMIC_RELAXED);
  if (down != NULL)
    *down = __atomic_load_n(&relay->down.forwarded, __ATOMIC_RELAXED);
}

/* Waits up to flush_ms for both threads to end by themselves. Returns
 * true if they did. Called with the mutex held. */
static bool await_threads_locked(shmrpc_relay_t *r, int flush_ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += flush_ms / 1000;
  until.tv_nsec += (long)(flush_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while (r->running > 0 && flush_ms != 0) {
    int rc = flush_ms < 0
                 ? pthread_cond_wait(&r->changed, &r->mutex)
                 : pthread_cond_timedwait(&r->changed, &r->mutex, &until);
    if (rc == ETIMEDOUT)
      break;
  }
  return r->running == 0;
}

int shmrpc_relay_stop(shmrpc_relay_t *relay, int flush_ms, uint64_t *up,
                      uint64_t *down) {
  if (relay == NULL)
    return 0;
  shmrpc_relay_t *r = relay;
  pthread_mutex_lock(&r->mutex);
  bool flushed = await_threads_locked(r, flush_ms);
  __atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
  /* Each side ends as its thread would have ended it (a side already
   * ended keeps its state): the other end's state if it left OPEN, else
   * CLOSED. Both states are read before either side changes. */
  uint32_t toward_client = end_state(&r->far, 0);
  uint32_t toward_server = r->near_status == NEAR_OPEN
                               ? end_state(&r->near, 0)
                               : SHMRPC_STATE_CLOSED;
  end_near_locked(r, toward_client);
  pthread_mutex_unlock(&r->mutex);
  (void)shmrpc_channel_close_as(&r->far, toward_server);
  pthread_join(r->up_thread, NULL);
  pthread_join(r->down_thread, NULL);
  shmrpc_relay_counts(r, up, down);
  if (r->near_status == NEAR_OPEN)
    shmrpc_channel_destroy(&r->near);
  shmrpc_channel_destroy(&r->far);
  pthread_mutex_destroy(&r->mutex);
  pthread_cond_destroy(&r->changed);
  free(r);
  return flushed ? 0 : SHMRPC_ETIMEDOUT;
}
