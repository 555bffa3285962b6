/* Channel lifetime: options, open, close, state (docs/PROTOCOL.md 1.2, 5). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(shmrpc_lock_storage_t),
               "the platform's mutex does not fit shmrpc_lock_storage_t");
_Static_assert(_Alignof(pthread_mutex_t) <= _Alignof(shmrpc_lock_storage_t),
               "the platform's mutex needs more alignment than "
               "shmrpc_lock_storage_t has");

#define DEFAULT_SPIN_NS 50000u
#define DEFAULT_MAX_MESSAGE_BYTES (64u << 20)

void shmrpc_channel_options_init(shmrpc_channel_options_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->spin_ns = DEFAULT_SPIN_NS;
  opts->max_message_bytes = DEFAULT_MAX_MESSAGE_BYTES;
}

int shmrpc_channel_open(shmrpc_channel_t *ch, void *mem, size_t size,
                        shmrpc_side_t side,
                        const shmrpc_channel_options_t *opts) {
  if (ch == NULL || (side != SHMRPC_SIDE_CLIENT && side != SHMRPC_SIDE_SERVER))
    return SHMRPC_EINVAL;
  uint32_t caps[2];
  int rc = shmrpc__segment_validate(mem, size, caps);
  if (rc != 0)
    return rc;

  memset(ch, 0, sizeof *ch);
  if (opts != NULL)
    ch->opts = *opts;
  else
    shmrpc_channel_options_init(&ch->opts);
  uint8_t *base = mem;
  bool client = side == SHMRPC_SIDE_CLIENT;
  ch->shared_base = base;
  ch->side = side;
  ch->shared_own_state = shmrpc__word(
      base, client ? SHMRPC_OFF_CLIENT_STATE : SHMRPC_OFF_SERVER_STATE);
  ch->shared_peer_state = shmrpc__word(
      base, client ? SHMRPC_OFF_SERVER_STATE : SHMRPC_OFF_CLIENT_STATE);
  ch->shared_peer_max_message =
      shmrpc__word(base, client ? SHMRPC_OFF_SERVER_MAX_MESSAGE
                                : SHMRPC_OFF_CLIENT_MAX_MESSAGE);
  uint32_t *own_max_message =
      shmrpc__word(base, client ? SHMRPC_OFF_CLIENT_MAX_MESSAGE
                                : SHMRPC_OFF_SERVER_MAX_MESSAGE);

  /* Ring 0 carries client -> server, ring 1 server -> client. The ring
   * inits cannot fail: the capacities were validated above. */
  uint8_t *ring0_data = base + SHMRPC_SEGMENT_HEADER_BYTES;
  uint8_t *ring1_data = ring0_data + caps[0];
  shmrpc_ring_init(client ? &ch->tx : &ch->rx,
                   base + SHMRPC_OFF_RING0_CONTROL, ring0_data, caps[0]);
  shmrpc_ring_init(client ? &ch->rx : &ch->tx,
                   base + SHMRPC_OFF_RING1_CONTROL, ring1_data, caps[1]);
  ch->parking.waiter = ch->opts.waiter != NULL ? ch->opts.waiter
                                                : shmrpc_default_waiter();
  shmrpc_spin_policy_init(&ch->rx_spin, ch->opts.spin_ns, ch->opts.spin_fixed);
  shmrpc_spin_policy_init(&ch->tx_spin, ch->opts.spin_ns, ch->opts.spin_fixed);
  ch->parking.wake_loop = ch->opts.wake_loop;
  ch->parking.wake_loop_user = ch->opts.wake_loop_user;
  ch->reassembly_type = -1;
  if (pthread_mutex_init(shmrpc__send_lock(ch), NULL) != 0)
    return SHMRPC_ENOMEM;

  ch->state = SHMRPC_STATE_OPEN;
  /* The limit first: a peer that sees OPEN (release) also sees it. */
  shmrpc__store_release(own_max_message, ch->opts.max_message_bytes);
  shmrpc__store_seq_cst(ch->shared_own_state, SHMRPC_STATE_OPEN);
  return 0;
}

/* Moves this side from OPEN to `state` once and tells the peer; a second
 * close or a violation after close changes nothing. */
static void leave_open(shmrpc_channel_t *ch, uint32_t state) {
  uint32_t expected = SHMRPC_STATE_OPEN;
  if (!__atomic_compare_exchange_n(&ch->state, &expected, state, false,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    return;
  shmrpc__store_seq_cst(ch->shared_own_state, state);
  /* The state stores above are sequentially consistent, so a sleeper that
   * parked after re-checking the states is seen here and woken. */
  shmrpc_segment_wake_all(ch->shared_base, &ch->parking);
}

void shmrpc_channel_close(shmrpc_channel_t *ch) {
  if (ch == NULL)
    return;
  /* Sends publish before they return or wait, so nothing written is left
   * unpublished; a frame still held by reserve is dropped at commit. */
  leave_open(ch, SHMRPC_STATE_CLOSED);
}

int shmrpc_channel_close_as(shmrpc_channel_t *ch, uint32_t state) {
  if (ch == NULL || (state != SHMRPC_STATE_CLOSED &&
                     state != SHMRPC_STATE_FAILED &&
                     state != SHMRPC_STATE_DEAD))
    return SHMRPC_EINVAL;
  leave_open(ch, state);
  return 0;
}

int shmrpc__channel_fail(shmrpc_channel_t *ch) {
  leave_open(ch, SHMRPC_STATE_FAILED);
  return SHMRPC_EPROTO;
}

int shmrpc__local_error(const shmrpc_channel_t *ch) {
  switch (shmrpc__own_state(ch)) {
  case SHMRPC_STATE_OPEN:
    return 0;
  case SHMRPC_STATE_FAILED:
    return SHMRPC_EPROTO;
  default:
    return SHMRPC_ECLOSED;
  }
}

bool shmrpc_channel_peer_closed(const shmrpc_channel_t *ch) {
  if (ch == NULL)
    return true;
  return shmrpc__load_acquire(ch->shared_peer_state) > SHMRPC_STATE_OPEN;
}

void shmrpc_channel_destroy(shmrpc_channel_t *ch) {
  if (ch == NULL)
    return;
  free(ch->reassembly);
  free(ch->scratch);
  ch->reassembly = NULL;
  ch->scratch = NULL;
  ch->reassembly_cap = 0;
  ch->scratch_cap = 0;
  pthread_mutex_destroy(shmrpc__send_lock(ch));
}

void shmrpc_channel_spin_stats(const shmrpc_channel_t *ch,
                               shmrpc_spin_policy_t *rx,
                               shmrpc_spin_policy_t *tx) {
  if (rx != NULL)
    *rx = ch->rx_spin;
  if (tx != NULL)
    *tx = ch->tx_spin;
}
