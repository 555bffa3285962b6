/* Channel behaviour between two peers in one process: framing and
 * fragmentation, flow control, batching, zero-copy and timeouts (closing:
 * test_channel_close.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_channel_helpers.h"

#define STEP (CAP / 4 - 5) /* fragment payload */

static uint32_t ring0_tail(test_pair_t *pair) {
  return __atomic_load_n(
      test_word(pair, SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_TAIL),
      __ATOMIC_ACQUIRE);
}

/* Stream bytes of one message: one frame when it fits, else fragments. */
static size_t stream_bytes(size_t len, uint32_t cap) {
  if (len + 5 <= cap)
    return len + 5;
  size_t step = cap / 4 - 5;
  return len + 5 * ((len + step - 1) / step);
}

/* --- single frames and fragmentation --- */

static void channel_send_recv_each_type(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  const uint8_t types[] = {SHMRPC_TEXT, SHMRPC_BINARY, SHMRPC_COMMAND};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(
        shmrpc_channel_send(&pair.client, types[i], "abc", 3, 0), 0);
    assert_int_equal(
        shmrpc_channel_send(&pair.server, types[i], "xyz!", 4, 0), 0);
  }
  for (int i = 0; i < 3; i++) {
    shmrpc_msg_t msg;
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
    assert_int_equal(msg.type, types[i]);
    assert_int_equal(msg.len, 3);
    assert_memory_equal(msg.data, "abc", 3);
    assert_int_equal(shmrpc_channel_recv(&pair.client, &msg, 0), 1);
    assert_int_equal(msg.type, types[i]);
    assert_int_equal(msg.len, 4);
    assert_memory_equal(msg.data, "xyz!", 4);
  }
  test_pair_free(&pair);
}

static void channel_zero_length_message(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, NULL, 0, 0), 0);
  assert_int_equal(ring0_tail(&pair), 5);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_BINARY);
  assert_int_equal(msg.len, 0);
  assert_non_null(msg.data);
  test_pair_free(&pair);
}

/* Empty fragments are legal: a message may start with an empty MORE
 * fragment (before anything is buffered) and may consist of empty
 * fragments only. Written as raw frames, since the sender never splits
 * this way. */
static void channel_empty_fragments_reassemble(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  static const uint8_t frames[] = {
      0x81, 0, 0, 0, 0,         /* BINARY, MORE, empty */
      0x01, 0, 0, 0, 2, 'h', 'i', /* BINARY, last: "hi" */
      0x80, 0, 0, 0, 0,         /* TEXT, MORE, empty */
      0x00, 0, 0, 0, 0,         /* TEXT, last, empty */
  };
  shmrpc_ring_write(&pair.client.tx, frames, sizeof frames);
  shmrpc_ring_publish(&pair.client.tx);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_BINARY);
  assert_int_equal(msg.len, 2);
  assert_memory_equal(msg.data, "hi", 2);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_TEXT);
  assert_int_equal(msg.len, 0);
  assert_non_null(msg.data);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
  test_pair_free(&pair);
}

/* A frame of exactly the ring's size is one frame and fills the ring. */
static void channel_ring_sized_frame(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint8_t payload[CAP - 5];
  test_fill(payload, sizeof payload, 7);
  shmrpc_msg_t msg;
  uint32_t tail = 0;
  /* At data offsets 0, 8, 16, ...: all but the first wrap. */
  for (int round = 0; round < 4; round++) {
    assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload,
                                         sizeof payload, 0),
                     0);
    tail += CAP;
    assert_int_equal(ring0_tail(&pair), tail);
    assert_int_equal(shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, NULL,
                                             0),
                     SHMRPC_EAGAIN);
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
    assert_int_equal(msg.len, sizeof payload);
    assert_memory_equal(msg.data, payload, sizeof payload);
    /* recv keeps the frame until the next call. */
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
    /* Move the start: a 3-byte message is an 8-byte frame. */
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "abc", 3, 0), 0);
    tail += 8;
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
  }
  test_pair_free(&pair);
}

/* Each size goes through a receiving thread; the stream length shows
 * whether it went as one frame or as capacity/4 fragments. */
static void channel_fragmentation_sizes(void **state) {
  (void)state;
  const size_t sizes[] = {0,       1,       CAP - 6, CAP - 5,
                          CAP - 4, CAP,     4 * CAP, 10 * CAP + 7,
                          STEP,    STEP + 1, 3 * STEP};
  const size_t n = sizeof sizes / sizeof sizes[0];
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  collector_t c = {.ch = &pair.server};
  pthread_t reader;
  test_thread_start(&reader, collect_until_closed, &c);
  size_t expect_stream = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = sizes[i];
    uint8_t *payload = malloc(len + 1);
    test_fill(payload, len, len);
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_TEXT, payload, len, 5000), 0);
    expect_stream += stream_bytes(len, CAP);
    assert_int_equal(ring0_tail(&pair), (uint32_t)expect_stream);
    free(payload);
  }
  shmrpc_channel_close(&pair.client);
  pthread_join(reader, NULL);
  assert_int_equal(c.result, SHMRPC_ECLOSED);
  assert_int_equal(c.count, n);
  size_t total = 0;
  uint64_t checksum = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t *payload = malloc(sizes[i] + 1);
    test_fill(payload, sizes[i], sizes[i]);
    total += sizes[i];
    for (size_t k = 0; k < sizes[i]; k++)
      checksum = checksum * 31 + payload[k];
    free(payload);
  }
  assert_int_equal(c.bytes, total);
  assert_int_equal(c.checksum, checksum);
  assert_int_equal(c.last_type, SHMRPC_TEXT);
  free(c.last);
  test_pair_free(&pair);
}

/* A message many times the ring size needs the receiver to hand fragment
 * space back while it reassembles. */
static void channel_large_message_reassembly(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, 64, 64, NULL, NULL);
  collector_t c = {.ch = &pair.server};
  pthread_t reader;
  test_thread_start(&reader, collect_until_closed, &c);
  size_t len = 100000 + 3;
  uint8_t *payload = malloc(len);
  test_fill(payload, len, 99);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_COMMAND, payload, len, 5000), 0);
  shmrpc_channel_close(&pair.client);
  pthread_join(reader, NULL);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.last_type, SHMRPC_COMMAND);
  assert_int_equal(c.last_len, len);
  assert_memory_equal(c.last, payload, len);
  free(c.last);
  free(payload);
  test_pair_free(&pair);
}

/* --- limits and arguments --- */

static void channel_send_over_peer_limit_is_refused(void **state) {
  (void)state;
  shmrpc_channel_options_t server_opts;
  shmrpc_channel_options_init(&server_opts);
  server_opts.max_message_bytes = 100;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, &server_opts);
  uint8_t payload[101] = {0};
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload, 101, 0),
      SHMRPC_EMSGSIZE);
  assert_int_equal(
      shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, payload, 101),
      SHMRPC_EMSGSIZE);
  shmrpc_span_t spans[2];
  assert_int_equal(
      shmrpc_channel_reserve(&pair.client, SHMRPC_BINARY, 101, 0, spans),
      SHMRPC_EMSGSIZE);
  assert_int_equal(ring0_tail(&pair), 0);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload, 100, 0), 0);
  /* The server's own limit does not apply to what it sends. */
  uint8_t big[1000] = {0};
  assert_int_equal(
      shmrpc_channel_send(&pair.server, SHMRPC_BINARY, big, 200, 0), 0);
  test_pair_free(&pair);
}

static void channel_rejects_bad_arguments(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  shmrpc_msg_t msg;
  shmrpc_span_t spans[2];
  assert_int_equal(shmrpc_channel_send(&pair.client, 3, "a", 1, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send(&pair.client, 0x81, "a", 1, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send(&pair.client, 0, NULL, 1, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send(&pair.client, 0, "a", 1, -2),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send(NULL, 0, "a", 1, 0), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_try_send(&pair.client, 9, "a", 1),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, NULL, 1, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_reserve(&pair.client, 5, 1, 0, spans),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_recv(&pair.server, NULL, 0), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, -5), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, NULL, NULL, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(ring0_tail(&pair), 0);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
  test_pair_free(&pair);
}

/* --- flow control --- */

static void channel_try_send_eagain_when_full(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint8_t payload[20];
  int sent = 0;
  while (shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, payload, 20) ==
         0)
    sent++;
  assert_int_equal(sent, CAP / 25);
  uint32_t tail = ring0_tail(&pair);
  assert_int_equal(
      shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, payload, 20),
      SHMRPC_EAGAIN);
  assert_int_equal(ring0_tail(&pair), tail); /* nothing written */
  /* What still fits goes: CAP - 250 = 6 bytes = an empty frame. */
  assert_int_equal(
      shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, NULL, 0), 0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(
      shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, payload, 20), 0);
  /* A message that could never be one frame is refused outright. */
  uint8_t big[CAP];
  assert_int_equal(
      shmrpc_channel_try_send(&pair.client, SHMRPC_BINARY, big, CAP - 4),
      SHMRPC_EMSGSIZE);
  test_pair_free(&pair);
}

static void channel_send_times_out_when_full(void **state) {
  (void)state;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 1000;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, &opts, NULL);
  uint8_t payload[CAP - 5] = {0};
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload,
                                       sizeof payload, 0),
                   0);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload, 1, 0),
      SHMRPC_ETIMEDOUT);
  double start = test_now_ms();
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload, 1, 50),
      SHMRPC_ETIMEDOUT);
  double elapsed = test_now_ms() - start;
  assert_true(elapsed >= 49.0);
  assert_true(elapsed < 1000.0);
  /* A timed-out fragmented message writes nothing either. */
  uint8_t big[2 * CAP] = {0};
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_BINARY, big, sizeof big, 20),
      SHMRPC_ETIMEDOUT);
  assert_int_equal(ring0_tail(&pair), CAP);
  /* The producer is not left marked as parked. */
  assert_int_equal(*ring0_producer_wait(&pair), SHMRPC_WAIT_NONE);
  test_pair_free(&pair);
}

static void channel_dispatch_times_out_when_empty(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  collector_t c = {.ch = &pair.server};
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, 0), 0);
  double start = test_now_ms();
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, 30), 0);
  assert_true(test_now_ms() - start >= 29.0);
  assert_int_equal(c.count, 0);
  assert_int_equal(*ring0_consumer_wait(&pair), SHMRPC_WAIT_NONE);
  test_pair_free(&pair);
}

/* A sender parked on a full ring is woken when the consumer frees space. */
static void channel_blocked_send_resumes_after_recv(void **state) {
  (void)state;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 0; /* park at once */
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, &opts, &opts);
  uint8_t payload[CAP - 5] = {0};
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload,
                                       sizeof payload, 0),
                   0);
  blocked_send_t b = {&pair.client, 10, 5000, 1};
  pthread_t sender;
  test_thread_start(&sender, send_in_thread, &b);
  test_wait_for_word(ring0_producer_wait(&pair), SHMRPC_WAIT_FUTEX);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.len, CAP - 5);
  /* recv still holds that frame; the next recv hands it back before it
   * waits, which lets the sender in. */
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 5000), 1);
  assert_int_equal(msg.len, 10);
  pthread_join(sender, NULL);
  assert_int_equal(b.result, 0);
  test_pair_free(&pair);
}

/* --- batching and waking --- */

typedef struct wake_counter_s {
  int calls;
} wake_counter_t;

static void count_wake(void *user) { ((wake_counter_t *)user)->calls++; }

/* A pair whose client counts its wake_loop calls in `wakes`. */
static void open_pair_counting_wakes(test_pair_t *pair, wake_counter_t *wakes) {
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.wake_loop = count_wake;
  opts.wake_loop_user = wakes;
  test_pair_open(pair, 4096, CAP, &opts, NULL);
}

/* A batch is published with one tail store and wakes a parked peer once:
 * the peer is shown as parked in its event loop, so the wake goes through
 * the wake_loop hook, which counts. */
static void channel_send_batch_one_publish_one_wake(void **state) {
  (void)state;
  wake_counter_t wakes = {0};
  test_pair_t pair;
  open_pair_counting_wakes(&pair, &wakes);
  uint32_t *consumer_wait = ring0_consumer_wait(&pair);
  *consumer_wait = SHMRPC_WAIT_LOOP;
  shmrpc_msg_t msgs[50];
  char text[50][8];
  for (int i = 0; i < 50; i++) {
    int n = snprintf(text[i], sizeof text[i], "m%d", i);
    msgs[i] = (shmrpc_msg_t){SHMRPC_TEXT, (const uint8_t *)text[i], (size_t)n};
  }
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 50, 0), 50);
  assert_int_equal(wakes.calls, 1);
  assert_int_equal(*consumer_wait, SHMRPC_WAIT_NONE);
  /* Nobody parked: no wake. */
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 3, 0), 3);
  assert_int_equal(wakes.calls, 1);
  collector_t c = {.ch = &pair.server};
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, 0), 53);
  assert_int_equal(c.last_len, 2);
  assert_memory_equal(c.last, "m2", 2);
  free(c.last);
  test_pair_free(&pair);
}

/* A consumer parked with SPINNING looks at the ring again before it
 * blocks: a sender neither wakes it nor clears its word. */
static void channel_send_leaves_a_spinning_consumer_alone(void **state) {
  (void)state;
  wake_counter_t wakes = {0};
  test_pair_t pair;
  open_pair_counting_wakes(&pair, &wakes);
  uint32_t *consumer_wait = ring0_consumer_wait(&pair);
  *consumer_wait = SHMRPC_WAIT_SPINNING;
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "hi", 2, 0), 0);
  assert_int_equal(wakes.calls, 0);
  assert_int_equal(*consumer_wait, SHMRPC_WAIT_SPINNING);
  /* Once it has parked for good (2), the next send wakes it. */
  *consumer_wait = SHMRPC_WAIT_LOOP;
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "ho", 2, 0), 0);
  assert_int_equal(wakes.calls, 1);
  assert_int_equal(*consumer_wait, SHMRPC_WAIT_NONE);
  test_pair_free(&pair);
}

/* A batch rejects a bad message before writing any of them. */
static void channel_send_batch_validates_first(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  shmrpc_msg_t msgs[3] = {{SHMRPC_TEXT, (const uint8_t *)"a", 1},
                          {SHMRPC_TEXT, (const uint8_t *)"b", 1},
                          {7, (const uint8_t *)"c", 1}};
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 3, 0),
                   SHMRPC_EINVAL);
  assert_int_equal(ring0_tail(&pair), 0);
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 0, 0), 0);
  test_pair_free(&pair);
}

/* A batch larger than the ring publishes a ring-full at a time and stops
 * early with the count sent when the timeout expires. */
static void channel_send_batch_partial_on_timeout(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint8_t payload[45] = {0};
  shmrpc_msg_t msgs[10];
  for (int i = 0; i < 10; i++)
    msgs[i] = (shmrpc_msg_t){SHMRPC_BINARY, payload, sizeof payload};
  /* 50-byte frames: five fit in 256 bytes. */
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 10, 10), 5);
  assert_int_equal(ring0_tail(&pair), 250);
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, 10, 0),
                   SHMRPC_ETIMEDOUT);
  test_pair_free(&pair);
}

static void channel_send_batch_through_small_ring(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, 128, 128, NULL, NULL);
  collector_t c = {.ch = &pair.server};
  pthread_t reader;
  test_thread_start(&reader, collect_until_closed, &c);
  enum { N = 300 };
  static uint8_t payloads[N][200];
  shmrpc_msg_t msgs[N];
  uint64_t checksum = 0;
  size_t total = 0;
  for (size_t i = 0; i < N; i++) {
    size_t len = (i * 37) % 200; /* some need fragments */
    test_fill(payloads[i], len, i);
    msgs[i] = (shmrpc_msg_t){SHMRPC_BINARY, payloads[i], len};
    for (size_t k = 0; k < len; k++)
      checksum = checksum * 31 + payloads[i][k];
    total += len;
  }
  assert_int_equal(shmrpc_channel_send_batch(&pair.client, msgs, N, 5000), N);
  shmrpc_channel_close(&pair.client);
  pthread_join(reader, NULL);
  assert_int_equal(c.count, N);
  assert_int_equal(c.bytes, total);
  assert_int_equal(c.checksum, checksum);
  free(c.last);
  test_pair_free(&pair);
}

/* --- zero copy --- */

static void channel_reserve_commit_wrapping(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint8_t filler[200] = {0};
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, filler,
                                       sizeof filler, 0),
                   0);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
  /* The tail is at 205: the payload (at 210) wraps at 256. */
  shmrpc_span_t spans[2];
  uint8_t payload[100];
  test_fill(payload, sizeof payload, 5);
  assert_int_equal(shmrpc_channel_reserve(&pair.client, SHMRPC_COMMAND,
                                          sizeof payload, 0, spans),
                   0);
  assert_int_equal(spans[0].len, CAP - 210);
  assert_int_equal(spans[1].len, 100 - (CAP - 210));
  assert_ptr_equal(spans[1].data, pair.mem + SHMRPC_SEGMENT_HEADER_BYTES);
  memcpy(spans[0].data, payload, spans[0].len);
  memcpy(spans[1].data, payload + spans[0].len, spans[1].len);
  assert_int_equal(ring0_tail(&pair), 205); /* not yet published */
  shmrpc_channel_commit(&pair.client);
  assert_int_equal(ring0_tail(&pair), 310);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_COMMAND);
  assert_int_equal(msg.len, sizeof payload);
  assert_memory_equal(msg.data, payload, sizeof payload);
  test_pair_free(&pair);
}

static void channel_reserve_abort_writes_nothing(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  shmrpc_span_t spans[2];
  assert_int_equal(
      shmrpc_channel_reserve(&pair.client, SHMRPC_TEXT, 10, 0, spans), 0);
  assert_int_equal(spans[0].len, 10);
  assert_int_equal(spans[1].len, 0);
  memset(spans[0].data, 'x', 10);
  shmrpc_channel_abort(&pair.client);
  assert_int_equal(ring0_tail(&pair), 0);
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "ok", 2, 0),
                   0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.len, 2);
  assert_memory_equal(msg.data, "ok", 2);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 0);
  assert_int_equal(shmrpc_channel_reserve(&pair.client, SHMRPC_TEXT, CAP - 4,
                                          0, spans),
                   SHMRPC_EMSGSIZE);
  assert_int_equal(shmrpc_channel_reserve(&pair.client, SHMRPC_TEXT, CAP - 5,
                                          0, spans),
                   0);
  shmrpc_channel_commit(&pair.client);
  assert_int_equal(ring0_tail(&pair), 7 + CAP);
  /* Commit and abort without a reservation do nothing. */
  shmrpc_channel_commit(&pair.client);
  shmrpc_channel_abort(&pair.client);
  test_pair_free(&pair);
}

/* recv hands out a pointer into the ring and keeps the frame until the
 * next call; dispatch releases everything with one head store. */
static void channel_recv_zero_copy_holds_frame_until_next_call(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint32_t *head =
      test_word(&pair, SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_HEAD);
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "abcd", 4, 0), 0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_ptr_equal(msg.data, pair.mem + SHMRPC_SEGMENT_HEADER_BYTES + 5);
  assert_int_equal(*head, 0);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_ptr_equal(msg.data, pair.mem + SHMRPC_SEGMENT_HEADER_BYTES + 14);
  assert_int_equal(*head, 9);
  collector_t c = {.ch = &pair.server};
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, 0), 1);
  assert_int_equal(*head, 27);
  free(c.last);
  test_pair_free(&pair);
}

/* --- a callback that sends on the same channel --- */

typedef struct echo_server_s {
  shmrpc_channel_t *ch;
  int send_error; /* first failed send, 0 if none */
} echo_server_t;

static void echo(void *user, const shmrpc_msg_t *msg) {
  echo_server_t *e = user;
  int rc = shmrpc_channel_send(e->ch, msg->type, msg->data, msg->len, 5000);
  if (rc != 0 && e->send_error == 0)
    e->send_error = rc;
}

static void *echo_until_closed(void *arg) {
  echo_server_t *e = arg;
  while (shmrpc_channel_dispatch(e->ch, echo, e, -1) >= 0) {
  }
  return NULL;
}

/* The client keeps up to 8 requests in flight and reads a reply only after
 * each send; the reply ring is smaller than the request ring. The server's
 * callback blocks on the reply ring while its dispatch still holds request
 * space: it must hand that back or both sides wait for each other. */
static void channel_callback_send_releases_delivered_space(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, 512, 128, NULL, NULL);
  echo_server_t e = {&pair.server, 0};
  pthread_t server;
  test_thread_start(&server, echo_until_closed, &e);
  uint8_t payload[40];
  shmrpc_msg_t reply;
  for (int i = 0; i < 2000; i++) {
    test_fill(payload, sizeof payload, (uint64_t)i);
    assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload,
                                         sizeof payload, 5000),
                     0);
    if (i >= 8) {
      assert_int_equal(shmrpc_channel_recv(&pair.client, &reply, 5000), 1);
      test_fill(payload, sizeof payload, (uint64_t)(i - 8));
      assert_memory_equal(reply.data, payload, sizeof payload);
    }
  }
  for (int i = 2000 - 8; i < 2000; i++) {
    assert_int_equal(shmrpc_channel_recv(&pair.client, &reply, 5000), 1);
    test_fill(payload, sizeof payload, (uint64_t)i);
    assert_memory_equal(reply.data, payload, sizeof payload);
  }
  shmrpc_channel_close(&pair.client);
  pthread_join(server, NULL);
  assert_int_equal(e.send_error, 0);
  test_pair_free(&pair);
}

/* Before the peer attaches its limit is unknown; messages wait in the
 * ring and the peer finds them once it opens. */
static void channel_send_before_peer_opens(void **state) {
  (void)state;
  size_t size = shmrpc_segment_size(CAP, CAP);
  uint8_t *mem = test_segment_alloc(size);
  assert_int_equal(shmrpc_segment_init(mem, size, CAP, CAP), 0);
  shmrpc_channel_t client, server;
  assert_int_equal(
      shmrpc_channel_open(&client, mem, size, SHMRPC_SIDE_CLIENT, NULL), 0);
  assert_int_equal(shmrpc_channel_send(&client, SHMRPC_TEXT, "early", 5, 0),
                   0);
  assert_int_equal(
      shmrpc_channel_open(&server, mem, size, SHMRPC_SIDE_SERVER, NULL), 0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&server, &msg, 0), 1);
  assert_memory_equal(msg.data, "early", 5);
  shmrpc_channel_close(&client);
  shmrpc_channel_close(&server);
  shmrpc_channel_destroy(&client);
  shmrpc_channel_destroy(&server);
  free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(channel_send_recv_each_type),
      cmocka_unit_test(channel_zero_length_message),
      cmocka_unit_test(channel_empty_fragments_reassemble),
      cmocka_unit_test(channel_ring_sized_frame),
      cmocka_unit_test(channel_fragmentation_sizes),
      cmocka_unit_test(channel_large_message_reassembly),
      cmocka_unit_test(channel_send_over_peer_limit_is_refused),
      cmocka_unit_test(channel_rejects_bad_arguments),
      cmocka_unit_test(channel_try_send_eagain_when_full),
      cmocka_unit_test(channel_send_times_out_when_full),
      cmocka_unit_test(channel_dispatch_times_out_when_empty),
      cmocka_unit_test(channel_blocked_send_resumes_after_recv),
      cmocka_unit_test(channel_send_batch_one_publish_one_wake),
      cmocka_unit_test(channel_send_leaves_a_spinning_consumer_alone),
      cmocka_unit_test(channel_send_batch_validates_first),
      cmocka_unit_test(channel_send_batch_partial_on_timeout),
      cmocka_unit_test(channel_send_batch_through_small_ring),
      cmocka_unit_test(channel_reserve_commit_wrapping),
      cmocka_unit_test(channel_reserve_abort_writes_nothing),
      cmocka_unit_test(channel_recv_zero_copy_holds_frame_until_next_call),
      cmocka_unit_test(channel_callback_send_releases_delivered_space),
      cmocka_unit_test(channel_send_before_peer_opens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
