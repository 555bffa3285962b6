/* Sending: whole frames, fragmentation, batching, zero-copy reserve, and
 * waiting for space (docs/PROTOCOL.md sections 3-5). Every entry point
 * holds send_lock while it touches the tx ring, so the frames of one
 * message are contiguous in the stream. */
#include <limits.h>

#include "internal.h"

/* The sender's view of the tx ring during one call. */
typedef struct writer_s {
  shmrpc_channel_t *ch;
  uint32_t need; /* bytes the frame being waited for needs */
  uint32_t room; /* free bytes known without reading the shared head */
} writer_t;

static const shmrpc_deadline_t NO_DEADLINE = {.forever = true};

/* SHMRPC_EPROTO/ECLOSED/EPEERDEAD when nothing may be sent, else 0. */
static int send_blocked(shmrpc_channel_t *ch) {
  int err = shmrpc__local_error(ch);
  if (err != 0)
    return err;
  return shmrpc__peer_error(shmrpc__load_seq_cst(ch->shared_peer_state));
}

/* The largest message the peer accepts, read once after the peer was seen
 * OPEN. Before it attached its limit is unknown and not enforced. */
static uint64_t peer_limit(shmrpc_channel_t *ch) {
  if (!ch->peer_limit_known) {
    /* Acquire: the peer stored its limit before OPEN with release. */
    if (shmrpc__load_acquire(ch->shared_peer_state) != SHMRPC_STATE_OPEN)
      return UINT32_MAX;
    ch->peer_max_message = shmrpc__load_acquire(ch->shared_peer_max_message);
    ch->peer_limit_known = true;
  }
  return ch->peer_max_message;
}

static int check_message(shmrpc_channel_t *ch, const shmrpc_msg_t *msg) {
  if (!shmrpc_frame_type_valid(msg->type) || (msg->data == NULL && msg->len))
    return SHMRPC_EINVAL;
  if (msg->len > peer_limit(ch))
    return SHMRPC_EMSGSIZE;
  return 0;
}

/* The wait condition: the frame fits, or sending became impossible. */
static int space_ready(void *ctx) {
  writer_t *w = ctx;
  int err = send_blocked(w->ch);
  if (err != 0)
    return err;
  int64_t room = shmrpc__ring_writable_seq_cst(&w->ch->tx);
  if (room < 0)
    return shmrpc__channel_fail(w->ch);
  w->room = (uint32_t)room;
  return w->room >= w->need ? 1 : 0;
}

/* Makes everything written visible to the consumer and wakes it if it
 * parked: one tail store and at most one wake-up per call. */
static void publish(shmrpc_channel_t *ch) {
  if (ch->tx.tail == ch->tx.published)
    return;
  shmrpc_ring_publish(&ch->tx);
  shmrpc__wake(ch->tx.shared_consumer_wait, &ch->parking);
}

/* Returns once `need` bytes are free, or an error (SHMRPC_ETIMEDOUT,
 * ECLOSED, EPEERDEAD, EPROTO). */
static int make_room(writer_t *w, uint32_t need,
                     const shmrpc_deadline_t *deadline) {
  if (need <= w->room)
    return 0;
  w->need = need;
  int r = space_ready(w);
  if (r == 0) {
    /* The consumer can only free space for what it can see. */
    publish(w->ch);
    shmrpc__release_delivered_in_callback(w->ch);
    r = shmrpc__park_spin(w->ch->tx.shared_producer_wait, &w->ch->parking,
                          deadline, &w->ch->tx_spin, space_ready, w);
  }
  return r < 0 ? r : 0;
}

static void write_frame(writer_t *w, uint8_t type, bool more,
                        const uint8_t *payload, uint32_t len) {
  uint8_t header[SHMRPC_FRAME_HEADER_BYTES];
  shmrpc_frame_header_encode(header, type, more, len);
  shmrpc_ring_write(&w->ch->tx, header, sizeof header);
  shmrpc_ring_write(&w->ch->tx, payload, len);
  w->room -= SHMRPC_FRAME_HEADER_BYTES + len;
}

/* True when a frame with `len` payload bytes fits in the tx ring at all. */
static bool fits_one_frame(const shmrpc_channel_t *ch, size_t len) {
  return len <= ch->tx.capacity - SHMRPC_FRAME_HEADER_BYTES;
}

/* Writes one checked message as a frame or, when its frame does not fit
 * in the ring, as fragment frames of capacity / 4 bytes. The deadline
 * applies to the first frame only: once part of a message is in the
 * stream, the rest follows. */
static int write_message(writer_t *w, const shmrpc_msg_t *msg,
                         const shmrpc_deadline_t *deadline) {
  const uint8_t *data = msg->data;
  if (fits_one_frame(w->ch, msg->len)) {
    uint32_t len = (uint32_t)msg->len;
    int r = make_room(w, SHMRPC_FRAME_HEADER_BYTES + len, deadline);
    if (r == 0)
      write_frame(w, msg->type, false, data, len);
    return r;
  }
  uint32_t step = w->ch->tx.capacity / 4 - SHMRPC_FRAME_HEADER_BYTES;
  size_t done = 0;
  while (done < msg->len) {
    size_t rest = msg->len - done;
    uint32_t chunk = rest > step ? step : (uint32_t)rest;
    int r = make_room(w, SHMRPC_FRAME_HEADER_BYTES + chunk,
                      done == 0 ? deadline : &NO_DEADLINE);
    if (r != 0)
      return r;
    write_frame(w, msg->type, chunk < rest, data + done, chunk);
    done += chunk;
  }
  return 0;
}

int shmrpc_channel_send_batch(shmrpc_channel_t *ch, const shmrpc_msg_t *msgs,
                              size_t count, int timeout_ms) {
  shmrpc_deadline_t deadline;
  if (ch == NULL || (msgs == NULL && count > 0) || count > INT_MAX ||
      shmrpc__deadline_init(&deadline, timeout_ms) != 0)
    return SHMRPC_EINVAL;
  pthread_mutex_lock(shmrpc__send_lock(ch));
  int rc = send_blocked(ch);
  /* Refuse a bad batch before anything of it is written. */
  for (size_t i = 0; rc == 0 && i < count; i++)
    rc = check_message(ch, &msgs[i]);
  size_t sent = 0;
  writer_t w = {ch, 0, 0};
  while (rc == 0 && sent < count) {
    rc = shmrpc__local_error(ch);
    if (rc == 0)
      rc = write_message(&w, &msgs[sent], &deadline);
    if (rc == 0)
      sent++;
  }
  publish(ch);
  pthread_mutex_unlock(shmrpc__send_lock(ch));
  return sent > 0 ? (int)sent : rc;
}

int shmrpc_channel_send(shmrpc_channel_t *ch, uint8_t type, const void *data,
                        size_t len, int timeout_ms) {
  shmrpc_msg_t msg = {type, data, len};
  int rc = shmrpc_channel_send_batch(ch, &msg, 1, timeout_ms);
  return rc < 0 ? rc : 0;
}

int shmrpc_channel_try_send(shmrpc_channel_t *ch, uint8_t type,
                            const void *data, size_t len) {
  shmrpc_msg_t msg = {type, data, len};
  if (ch == NULL || !shmrpc_frame_type_valid(type) || (data == NULL && len))
    return SHMRPC_EINVAL;
  if (!fits_one_frame(ch, len))
    return SHMRPC_EMSGSIZE;
  /* Never wait, not even for another sender. */
  if (pthread_mutex_trylock(shmrpc__send_lock(ch)) != 0)
    return SHMRPC_EAGAIN;
  int rc = send_blocked(ch);
  if (rc == 0)
    rc = check_message(ch, &msg);
  writer_t w = {ch, SHMRPC_FRAME_HEADER_BYTES + (uint32_t)len, 0};
  if (rc == 0) {
    rc = space_ready(&w);
    if (rc == 0)
      rc = SHMRPC_EAGAIN;
  }
  if (rc > 0) {
    write_frame(&w, type, false, data, (uint32_t)len);
    publish(ch);
    rc = 0;
  }
  pthread_mutex_unlock(shmrpc__send_lock(ch));
  return rc;
}

int shmrpc_channel_reserve(shmrpc_channel_t *ch, uint8_t type, size_t len,
                           int timeout_ms, shmrpc_span_t spans[2]) {
  shmrpc_deadline_t deadline;
  if (ch == NULL || spans == NULL || !shmrpc_frame_type_valid(type) ||
      shmrpc__deadline_init(&deadline, timeout_ms) != 0)
    return SHMRPC_EINVAL;
  if (!fits_one_frame(ch, len))
    return SHMRPC_EMSGSIZE;
  pthread_mutex_lock(shmrpc__send_lock(ch));
  int rc = send_blocked(ch);
  if (rc == 0 && len > peer_limit(ch))
    rc = SHMRPC_EMSGSIZE;
  writer_t w = {ch, 0, 0};
  uint32_t frame = SHMRPC_FRAME_HEADER_BYTES + (uint32_t)len;
  if (rc == 0)
    rc = make_room(&w, frame, &deadline);
  if (rc != 0) {
    pthread_mutex_unlock(shmrpc__send_lock(ch));
    return rc;
  }
  /* Header and payload count as written but stay unpublished until
   * commit; abort takes them back. The lock stays held in between. */
  uint8_t header[SHMRPC_FRAME_HEADER_BYTES];
  shmrpc_frame_header_encode(header, type, false, (uint32_t)len);
  shmrpc_ring_write(&ch->tx, header, sizeof header);
  shmrpc__ring_tail_spans(&ch->tx, (uint32_t)len, spans);
  shmrpc__ring_advance(&ch->tx, (uint32_t)len);
  ch->reserved_bytes = frame;
  return 0;
}

void shmrpc_channel_commit(shmrpc_channel_t *ch) {
  if (ch == NULL || ch->reserved_bytes == 0)
    return;
  /* After a close or a violation nothing more goes into the stream. */
  if (shmrpc__local_error(ch) != 0)
    shmrpc__ring_unwrite(&ch->tx, ch->reserved_bytes);
  else
    publish(ch);
  ch->reserved_bytes = 0;
  pthread_mutex_unlock(shmrpc__send_lock(ch));
}

void shmrpc_channel_abort(shmrpc_channel_t *ch) {
  if (ch == NULL || ch->reserved_bytes == 0)
    return;
  shmrpc__ring_unwrite(&ch->tx, ch->reserved_bytes);
  ch->reserved_bytes = 0;
  pthread_mutex_unlock(shmrpc__send_lock(ch));
}
