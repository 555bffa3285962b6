/* Two threads, one channel, millions of messages: random sizes (some
 * fragmented), random batching and send styles on one side, dispatch and
 * recv on the other, over a small ring so it wraps and both sides block.
 * Every payload is derived from its sequence number, so the receiver
 * detects any message lost, duplicated, reordered or corrupted; running
 * checksums on both sides must agree at the end.
 *
 * SHMRPC_STRESS_FRAMES sets the message count (default 10 000 000; the
 * ThreadSanitizer run uses fewer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define RING 1024u
#define MAX_LEN (3 * RING + 333)
#define MAX_BATCH 16
#define SEED 0x5eed5eedu

static uint64_t mix(uint64_t x) { /* splitmix64 finalizer */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Message `seq`'s length: mostly small, some medium, 1% fragmented. */
static size_t length_of(uint64_t seq) {
  uint64_t h = mix(seq ^ SEED);
  uint64_t pick = h % 1000, r = h >> 20;
  if (pick < 700)
    return r % 33;
  if (pick < 990)
    return 33 + r % 300;
  return 333 + r % (3 * RING);
}

static uint8_t type_of(uint64_t seq) { return (uint8_t)(seq % 3); }

/* Message `seq`'s bytes: its sequence number (as far as it fits), then a
 * pseudo-random stream seeded by it. */
static void payload_of(uint64_t seq, uint8_t *out, size_t len) {
  uint64_t x = mix(seq + SEED) | 1;
  for (size_t i = 0; i < len; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(out + i, &x, len - i < 8 ? len - i : 8);
  }
  memcpy(out, &seq, len < 8 ? len : 8);
}

static uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++)
    sum = (sum ^ data[i]) * 0x100000001b3ull;
  return sum + len;
}

typedef struct stress_s {
  shmrpc_channel_t *client;
  shmrpc_channel_t *server;
  uint64_t messages;
  /* producer */
  uint64_t frames;
  uint64_t sent_checksum;
  int send_error;
  /* consumer */
  uint64_t next_seq;
  uint64_t received_checksum;
  uint8_t *expected;
  char mismatch[160];
  int recv_result;
} stress_t;

static size_t frames_of(size_t len) {
  size_t step = RING / 4 - 5;
  return len + 5 <= RING ? 1 : (len + step - 1) / step;
}

static int send_one(stress_t *s, const shmrpc_msg_t *msg, unsigned style) {
  switch (style) {
  case 0: /* try_send first, blocking send when the ring is full */
    if (msg->len + 5 <= RING) {
      int rc = shmrpc_channel_try_send(s->client, msg->type, msg->data,
                                       msg->len);
      if (rc != SHMRPC_EAGAIN)
        return rc;
    }
    break;
  case 1: /* zero-copy reserve and commit */
    if (msg->len + 5 <= RING) {
      shmrpc_span_t spans[2];
      int rc = shmrpc_channel_reserve(s->client, msg->type, msg->len, -1,
                                      spans);
      if (rc != 0)
        return rc;
      memcpy(spans[0].data, msg->data, spans[0].len);
      memcpy(spans[1].data, msg->data + spans[0].len, spans[1].len);
      shmrpc_channel_commit(s->client);
      return 0;
    }
    break;
  }
  return shmrpc_channel_send(s->client, msg->type, msg->data, msg->len, -1);
}

static void *produce(void *arg) {
  stress_t *s = arg;
  static uint8_t buffers[MAX_BATCH][MAX_LEN];
  shmrpc_msg_t msgs[MAX_BATCH];
  uint64_t choice = SEED;
  uint64_t seq = 0;
  while (seq < s->messages && s->send_error == 0) {
    choice = mix(choice);
    size_t batch = 1 + choice % MAX_BATCH;
    unsigned style = (unsigned)(choice >> 8) % 4;
    if (batch > s->messages - seq)
      batch = (size_t)(s->messages - seq);
    for (size_t i = 0; i < batch; i++) {
      size_t len = length_of(seq + i);
      payload_of(seq + i, buffers[i], len);
      msgs[i] = (shmrpc_msg_t){type_of(seq + i), buffers[i], len};
      s->sent_checksum = checksum_add(s->sent_checksum, buffers[i], len);
      s->frames += frames_of(len);
    }
    if (style == 3) {
      int rc = shmrpc_channel_send_batch(s->client, msgs, batch, -1);
      if (rc != (int)batch)
        s->send_error = rc < 0 ? rc : -100;
    } else {
      for (size_t i = 0; i < batch && s->send_error == 0; i++)
        s->send_error = send_one(s, &msgs[i], style);
    }
    seq += batch;
  }
  shmrpc_channel_close(s->client);
  return NULL;
}

static void check(void *user, const shmrpc_msg_t *msg) {
  stress_t *s = user;
  if (s->mismatch[0] != '\0')
    return;
  uint64_t seq = s->next_seq++;
  size_t len = length_of(seq);
  payload_of(seq, s->expected, len);
  if (msg->type != type_of(seq) || msg->len != len ||
      memcmp(msg->data, s->expected, len) != 0) {
    snprintf(s->mismatch, sizeof s->mismatch,
             "message %llu: type %u len %zu, expected type %u len %zu",
             (unsigned long long)seq, msg->type, msg->len, type_of(seq), len);
    return;
  }
  s->received_checksum = checksum_add(s->received_checksum, msg->data, len);
}

static void *consume(void *arg) {
  stress_t *s = arg;
  uint64_t choice = ~(uint64_t)SEED;
  int rc;
  do {
    choice = mix(choice);
    if (choice % 4 == 0) {
      shmrpc_msg_t msg;
      rc = shmrpc_channel_recv(s->server, &msg, -1);
      if (rc == 1)
        check(s, &msg);
    } else {
      rc = shmrpc_channel_dispatch(s->server, check, s, -1);
    }
  } while (rc >= 0 && s->mismatch[0] == '\0');
  s->recv_result = rc;
  if (s->mismatch[0] != '\0')
    shmrpc_channel_close(s->server); /* release the producer */
  return NULL;
}

static uint64_t message_count(void) {
  const char *env = getenv("SHMRPC_STRESS_FRAMES");
  if (env == NULL || *env == '\0')
    return 10000000;
  return strtoull(env, NULL, 10);
}

static void stress_two_threads_random_sizes_and_batches(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, RING, 64, NULL, NULL);
  stress_t s = {.client = &pair.client,
                .server = &pair.server,
                .messages = message_count()};
  s.expected = malloc(MAX_LEN);
  double start = test_now_ms();
  pthread_t producer, consumer;
  test_thread_start(&consumer, consume, &s);
  test_thread_start(&producer, produce, &s);
  pthread_join(producer, NULL);
  pthread_join(consumer, NULL);
  double seconds = (test_now_ms() - start) / 1000.0;
  printf("stress: %llu messages, %llu frames in %.2f s (%.0f frames/s)\n",
         (unsigned long long)s.messages, (unsigned long long)s.frames, seconds,
         (double)s.frames / seconds);
  if (s.mismatch[0] != '\0')
    fail_msg("%s", s.mismatch);
  assert_int_equal(s.send_error, 0);
  assert_int_equal(s.recv_result, SHMRPC_ECLOSED);
  assert_int_equal(s.next_seq, s.messages);
  assert_int_equal(s.received_checksum, s.sent_checksum);
  assert_true(s.frames >= s.messages);
  free(s.expected);
  test_pair_free(&pair);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stress_two_threads_random_sizes_and_batches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
