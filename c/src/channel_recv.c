/* Receiving: waiting for data, frame checks, zero-copy delivery,
 * reassembly of fragments and handing space back (docs/PROTOCOL.md
 * sections 2-5).
 *
 * Positions are ring counters. rx.head is what was handed back to the
 * producer; pending_consume counts the bytes after it that were already
 * parsed (delivered, or copied into the reassembly buffer). Everything
 * between the published tail and the parse position is untrusted until the
 * checks below have passed, and every byte is read through the ring, which
 * masks each access into the data area. */
#include <limits.h>
#include <stdlib.h>

#include "internal.h"

/* The channel whose callback runs on this thread, if any. */
static __thread shmrpc_channel_t *dispatching;

/* data of a delivered empty message whose buffer was never allocated */
static const uint8_t empty_payload[1];

/* The wait condition: unparsed bytes are published, or nothing more can
 * come (SHMRPC_ECLOSED or EPEERDEAD after the peer left and everything was
 * parsed). */
static int data_ready(void *ctx) {
  shmrpc_channel_t *ch = ctx;
  int err = shmrpc__local_error(ch);
  if (err != 0)
    return err;
  /* The peer state before the tail: a peer publishes everything before it
   * stores CLOSED, so a tail loaded after seeing CLOSED is final. */
  uint32_t peer = shmrpc__load_seq_cst(ch->shared_peer_state);
  int64_t avail = shmrpc__ring_readable_seq_cst(&ch->rx);
  if (avail < 0 || (uint64_t)avail < ch->pending_consume)
    return shmrpc__channel_fail(ch);
  if ((uint64_t)avail > ch->pending_consume)
    return 1;
  return shmrpc__peer_error(peer);
}

/* Hands back all parsed bytes but the last `keep` and wakes a producer
 * parked for space. */
static void release(shmrpc_channel_t *ch, uint32_t keep) {
  uint32_t bytes = ch->pending_consume - keep;
  if (bytes == 0)
    return;
  shmrpc_ring_consume(&ch->rx, bytes);
  ch->pending_consume = keep;
  shmrpc__wake(ch->rx.shared_producer_wait, &ch->parking);
}

void shmrpc__release_delivered_in_callback(shmrpc_channel_t *ch) {
  if (dispatching == ch)
    release(ch, 0);
}

/* Grows a private buffer to hold `need` bytes (need <= limit). */
static int grow(uint8_t **buf, size_t *cap, size_t need, size_t limit) {
  if (need <= *cap)
    return 0;
  size_t size = *cap < 2048 ? 4096 : *cap * 2;
  if (size < need)
    size = need;
  if (size > limit)
    size = limit;
  uint8_t *bigger = realloc(*buf, size);
  if (bigger == NULL)
    return SHMRPC_ENOMEM;
  *buf = bigger;
  *cap = size;
  return 0;
}

/* Points `out` at a whole-frame payload: into the ring when it does not
 * wrap, else at a private copy. Sets *in_ring accordingly. */
static int frame_payload(shmrpc_channel_t *ch, uint32_t offset, uint32_t len,
                         const uint8_t **out, bool *in_ring) {
  const uint8_t *span = shmrpc_ring_span(&ch->rx, offset, len);
  *in_ring = span != NULL;
  if (span != NULL) {
    *out = span;
    return 0;
  }
  int rc = grow(&ch->scratch, &ch->scratch_cap, len, ch->rx.capacity);
  if (rc != 0)
    return rc;
  shmrpc_ring_peek(&ch->rx, offset, ch->scratch, len);
  *out = ch->scratch;
  return 0;
}

/* Appends a fragment's payload to the message being reassembled. */
static int append_fragment(shmrpc_channel_t *ch, uint8_t type,
                           uint32_t offset, uint32_t len) {
  if (ch->reassembly_type >= 0 && type != ch->reassembly_type)
    return shmrpc__channel_fail(ch);
  if (len > ch->opts.max_message_bytes - ch->reassembly_len)
    return shmrpc__channel_fail(ch);
  /* An empty fragment adds nothing; the buffer may not exist yet. */
  if (len > 0) {
    int rc = grow(&ch->reassembly, &ch->reassembly_cap,
                  ch->reassembly_len + len, ch->opts.max_message_bytes);
    if (rc != 0)
      return rc;
    shmrpc_ring_peek(&ch->rx, offset, ch->reassembly + ch->reassembly_len,
                     len);
    ch->reassembly_len += len;
  }
  ch->reassembly_type = type;
  return 0;
}

static void deliver(shmrpc_channel_t *ch, shmrpc_message_fn fn, void *user,
                    const shmrpc_msg_t *msg) {
  shmrpc_channel_t *outer = dispatching;
  dispatching = ch;
  fn(user, msg);
  dispatching = outer;
}

/* Parses the frames published so far and delivers up to `limit` complete
 * messages. Sets *held to the frame bytes of the last delivered message
 * when its data points into the ring, else 0. Returns 0, SHMRPC_EPROTO or
 * SHMRPC_ENOMEM (the frame that needed memory stays unparsed). */
static int deliver_published(shmrpc_channel_t *ch, shmrpc_message_fn fn,
                             void *user, int limit, int *delivered,
                             uint32_t *held) {
  shmrpc_ring_t *rx = &ch->rx;
  int64_t avail = shmrpc_ring_readable(rx);
  if (avail < 0 || (uint64_t)avail < ch->pending_consume)
    return shmrpc__channel_fail(ch);
  /* Ring counters; rx->head may move during a callback that sends. */
  const uint32_t end = rx->head + (uint32_t)avail;
  uint32_t pos = rx->head + ch->pending_consume;
  /* A callback may close the channel: then the rest waits for no one. */
  while (pos != end && *delivered < limit && shmrpc__local_error(ch) == 0) {
    uint32_t left = end - pos;
    uint8_t raw[SHMRPC_FRAME_HEADER_BYTES];
    shmrpc_frame_header_t header;
    /* Frames are published whole: a header or payload cut short by the
     * tail is a violation, never a reason to wait. */
    if (left < SHMRPC_FRAME_HEADER_BYTES)
      return shmrpc__channel_fail(ch);
    shmrpc_ring_peek(rx, pos - rx->head, raw, sizeof raw);
    if (shmrpc_frame_header_decode(raw, &header) != 0 ||
        header.length > left - SHMRPC_FRAME_HEADER_BYTES)
      return shmrpc__channel_fail(ch);
    uint32_t frame = SHMRPC_FRAME_HEADER_BYTES + header.length;
    uint32_t payload = pos - rx->head + SHMRPC_FRAME_HEADER_BYTES;
    shmrpc_msg_t msg = {header.type, NULL, 0};
    bool in_ring = false;
    if (ch->reassembly_type < 0 && !header.more) {
      if (header.length > ch->opts.max_message_bytes)
        return shmrpc__channel_fail(ch);
      int rc = frame_payload(ch, payload, header.length, &msg.data, &in_ring);
      if (rc != 0)
        return rc;
      msg.len = header.length;
    } else {
      int rc = append_fragment(ch, header.type, payload, header.length);
      if (rc != 0)
        return rc;
      if (header.more) {
        pos += frame;
        ch->pending_consume = pos - rx->head;
        continue;
      }
      msg.data = ch->reassembly != NULL ? ch->reassembly : empty_payload;
      msg.len = ch->reassembly_len;
      ch->reassembly_len = 0;
      ch->reassembly_type = -1;
    }
    pos += frame;
    /* Counted as parsed only after the callback: its data may be in the
     * ring, and a send from the callback releases what is parsed. */
    deliver(ch, fn, user, &msg);
    ch->pending_consume = pos - rx->head;
    *held = in_ring ? frame : 0;
    (*delivered)++;
  }
  return 0;
}

/* Waits for data, then delivers up to `limit` messages. When `hold_last`,
 * the last message's frame stays in the ring (recv's zero-copy result,
 * valid until the next call). */
static int receive(shmrpc_channel_t *ch, shmrpc_message_fn fn, void *user,
                   int limit, int timeout_ms, bool hold_last) {
  shmrpc_deadline_t deadline;
  if (shmrpc__deadline_init(&deadline, timeout_ms) != 0)
    return SHMRPC_EINVAL;
  /* A frame recv kept for its caller is not needed any more. Hand it back
   * now if this call is going to wait: the producer may be waiting for
   * exactly that space. Otherwise it goes with this call's one release. */
  if (ch->pending_consume > 0 && data_ready(ch) == 0)
    release(ch, 0);
  int delivered = 0;
  for (;;) {
    int rc = shmrpc__park_spin(ch->rx.shared_consumer_wait, &ch->parking,
                               &deadline, &ch->rx_spin, data_ready, ch);
    if (rc < 0) {
      release(ch, 0);
      return rc == SHMRPC_ETIMEDOUT ? 0 : rc;
    }
    uint32_t held = 0;
    rc = deliver_published(ch, fn, user, limit, &delivered, &held);
    /* One head store for everything parsed in this pass. */
    release(ch, hold_last ? held : 0);
    if (delivered > 0)
      return delivered;
    if (rc < 0)
      return rc;
    /* Only fragments so far: their space is handed back, so the sender can
     * write the rest. Wait for it. */
  }
}

int shmrpc_channel_dispatch(shmrpc_channel_t *ch, shmrpc_message_fn fn,
                            void *user, int timeout_ms) {
  if (ch == NULL || fn == NULL)
    return SHMRPC_EINVAL;
  return receive(ch, fn, user, INT_MAX, timeout_ms, false);
}

static void keep_message(void *user, const shmrpc_msg_t *msg) {
  *(shmrpc_msg_t *)user = *msg;
}

int shmrpc_channel_recv(shmrpc_channel_t *ch, shmrpc_msg_t *out,
                        int timeout_ms) {
  if (ch == NULL || out == NULL)
    return SHMRPC_EINVAL;
  return receive(ch, keep_message, out, 1, timeout_ms, true);
}
