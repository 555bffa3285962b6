/* A hostile or broken peer: impossible indices and malformed frames in
 * shared memory. Each must end in SHMRPC_EPROTO with this side's state
 * FAILED, never in a read outside the ring (the segment is allocated at its
 * exact size, so AddressSanitizer reports any stray byte). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define CAP 64u

static int setup(void **state) {
  test_pair_t *pair = malloc(sizeof *pair);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.max_message_bytes = 100;
  opts.spin_ns = 0;
  test_pair_open(pair, CAP, CAP, &opts, &opts);
  *state = pair;
  return 0;
}

static int teardown(void **state) {
  test_pair_t *pair = *state;
  test_pair_free(pair);
  free(pair);
  return 0;
}

static uint32_t *ring0(test_pair_t *pair, uint32_t field) {
  return test_word(pair, SHMRPC_OFF_RING0_CONTROL + field);
}

/* Plays the broken client: raw bytes into ring 0, then one tail store. */
static void inject(test_pair_t *pair, const void *bytes, uint32_t len) {
  shmrpc_ring_write(&pair->client.tx, bytes, len);
  shmrpc_ring_publish(&pair->client.tx);
}

static void count_message(void *user, const shmrpc_msg_t *msg) {
  (void)msg;
  (*(int *)user)++;
}

/* The server has failed: its state word says so, every later call fails
 * the same way, and the client sees it as gone. */
static void assert_server_failed(test_pair_t *pair) {
  int delivered = 0;
  assert_int_equal(*test_word(pair, SHMRPC_OFF_SERVER_STATE),
                   SHMRPC_STATE_FAILED);
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0),
      SHMRPC_EPROTO);
  assert_int_equal(
      shmrpc_channel_send(&pair->server, SHMRPC_TEXT, "x", 1, 0),
      SHMRPC_EPROTO);
  assert_true(shmrpc_channel_peer_closed(&pair->client));
  assert_int_equal(
      shmrpc_channel_send(&pair->client, SHMRPC_TEXT, "x", 1, 0),
      SHMRPC_ECLOSED);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair->client, &msg, -1),
                   SHMRPC_ECLOSED);
  /* close keeps FAILED rather than claiming an orderly close */
  shmrpc_channel_close(&pair->server);
  assert_int_equal(*test_word(pair, SHMRPC_OFF_SERVER_STATE),
                   SHMRPC_STATE_FAILED);
  assert_int_equal(delivered, 0);
}

static void expect_dispatch_eproto(test_pair_t *pair) {
  int delivered = 0;
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0),
      SHMRPC_EPROTO);
  assert_int_equal(delivered, 0);
  assert_server_failed(pair);
}

static void corrupt_tail_beyond_capacity(void **state) {
  test_pair_t *pair = *state;
  *ring0(pair, SHMRPC_RING_OFF_TAIL) = CAP + 1;
  expect_dispatch_eproto(pair);
}

static void corrupt_tail_behind_head(void **state) {
  test_pair_t *pair = *state;
  *ring0(pair, SHMRPC_RING_OFF_TAIL) = UINT32_MAX;
  expect_dispatch_eproto(pair);
}

/* recv keeps its last frame in the ring; a tail moved back over it is a
 * violation too. */
static void corrupt_tail_moved_back_over_parsed_frame(void **state) {
  test_pair_t *pair = *state;
  assert_int_equal(
      shmrpc_channel_send(&pair->client, SHMRPC_TEXT, "abc", 3, 0), 0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair->server, &msg, 0), 1);
  *ring0(pair, SHMRPC_RING_OFF_TAIL) = 4;
  assert_int_equal(shmrpc_channel_recv(&pair->server, &msg, 0), SHMRPC_EPROTO);
  assert_server_failed(pair);
}

static void corrupt_head_moved_backwards(void **state) {
  test_pair_t *pair = *state;
  /* The server sends 40 bytes, the client consumes them, then the client
   * (the consumer of ring 1) moves its head back by more than a ring. */
  uint8_t payload[35] = {0};
  assert_int_equal(shmrpc_channel_send(&pair->server, SHMRPC_BINARY, payload,
                                       sizeof payload, 0),
                   0);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair->client, &msg, 0), 1);
  assert_int_equal(shmrpc_channel_recv(&pair->client, &msg, 0), 0);
  *test_word(pair, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_HEAD) =
      40 - CAP - 1;
  assert_int_equal(
      shmrpc_channel_send(&pair->server, SHMRPC_BINARY, payload, 1, 0),
      SHMRPC_EPROTO);
  assert_server_failed(pair);
}

static void corrupt_head_ahead_of_tail(void **state) {
  test_pair_t *pair = *state;
  *test_word(pair, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_HEAD) = 8;
  assert_int_equal(
      shmrpc_channel_try_send(&pair->server, SHMRPC_BINARY, "a", 1),
      SHMRPC_EPROTO);
  assert_server_failed(pair);
}

/* The header promises 40 payload bytes; only 10 are published. */
static void corrupt_length_beyond_published(void **state) {
  test_pair_t *pair = *state;
  uint8_t frame[15] = {SHMRPC_BINARY, 0, 0, 0, 40};
  inject(pair, frame, sizeof frame);
  expect_dispatch_eproto(pair);
}

/* A length that would reach far outside the ring. */
static void corrupt_huge_length(void **state) {
  test_pair_t *pair = *state;
  uint8_t frame[5] = {SHMRPC_BINARY, 0xff, 0xff, 0xff, 0xf0};
  inject(pair, frame, sizeof frame);
  expect_dispatch_eproto(pair);
}

/* Fewer than five bytes published: a cut-off header. */
static void corrupt_partial_header(void **state) {
  test_pair_t *pair = *state;
  uint8_t bytes[3] = {SHMRPC_TEXT, 0, 0};
  inject(pair, bytes, sizeof bytes);
  expect_dispatch_eproto(pair);
}

/* A good frame, then a cut-off one: the good one is still delivered, the
 * violation is reported by the next call. */
static void corrupt_after_good_frame(void **state) {
  test_pair_t *pair = *state;
  uint8_t bytes[] = {SHMRPC_TEXT, 0, 0, 0, 1, 'a', SHMRPC_TEXT, 0, 0, 0, 9};
  inject(pair, bytes, sizeof bytes);
  int delivered = 0;
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0), 1);
  assert_int_equal(delivered, 1);
  delivered = 0;
  assert_server_failed(pair);
}

static void corrupt_reserved_type(void **state) {
  const uint8_t types[] = {3, 0x7f, 0x83, 0xff};
  for (size_t i = 0; i < sizeof types; i++) {
    if (i > 0) { /* a fresh pair for each type */
      teardown(state);
      setup(state);
    }
    test_pair_t *pair = *state;
    uint8_t frame[6] = {types[i], 0, 0, 0, 1, 'x'};
    inject(pair, frame, sizeof frame);
    expect_dispatch_eproto(pair);
  }
}

static void corrupt_fragment_type_change(void **state) {
  test_pair_t *pair = *state;
  uint8_t frames[] = {SHMRPC_BINARY | SHMRPC_FRAME_MORE, 0, 0, 0, 2, 'a', 'b',
                      SHMRPC_TEXT, 0, 0, 0, 1, 'c'};
  inject(pair, frames, sizeof frames);
  expect_dispatch_eproto(pair);
}

/* The server accepts 100 bytes: fragments adding up to 101 are refused
 * before the buffer grows past the limit. */
static void corrupt_oversize_reassembly(void **state) {
  test_pair_t *pair = *state;
  uint8_t frame[5 + 50];
  memset(frame, 'z', sizeof frame);
  shmrpc_frame_header_encode(frame, SHMRPC_BINARY, true, 50);
  inject(pair, frame, sizeof frame);
  int delivered = 0;
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0), 0);
  shmrpc_frame_header_encode(frame, SHMRPC_BINARY, true, 50);
  inject(pair, frame, sizeof frame);
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0), 0);
  shmrpc_frame_header_encode(frame, SHMRPC_BINARY, false, 1);
  inject(pair, frame, 6);
  expect_dispatch_eproto(pair);
  assert_true(pair->server.reassembly_cap <= 100);
}

/* A single frame over the limit is the same violation. */
static void corrupt_oversize_single_frame(void **state) {
  test_pair_t *pair = *state;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.max_message_bytes = 10;
  shmrpc_channel_destroy(&pair->server);
  assert_int_equal(shmrpc_channel_open(&pair->server, pair->mem, pair->size,
                                       SHMRPC_SIDE_SERVER, &opts),
                   0);
  uint8_t frame[5 + 11] = {SHMRPC_BINARY, 0, 0, 0, 11};
  inject(pair, frame, sizeof frame);
  expect_dispatch_eproto(pair);
}

typedef struct blocked_send_s {
  shmrpc_channel_t *ch;
  int result;
} blocked_send_t;

static void *send_forever(void *arg) {
  blocked_send_t *b = arg;
  uint8_t payload[CAP - 5] = {0};
  b->result = shmrpc_channel_send(b->ch, SHMRPC_BINARY, payload,
                                  sizeof payload, -1);
  return NULL;
}

/* Detecting a violation wakes this side's own sleepers: a server thread
 * blocked for space fails as soon as another thread sees bad data. */
static void corrupt_wakes_local_blocked_sender(void **state) {
  test_pair_t *pair = *state;
  uint8_t payload[CAP - 5] = {0};
  assert_int_equal(shmrpc_channel_send(&pair->server, SHMRPC_BINARY, payload,
                                       sizeof payload, 0),
                   0);
  blocked_send_t b = {&pair->server, 1};
  pthread_t sender;
  test_thread_start(&sender, send_forever, &b);
  test_wait_for_word(
      test_word(pair, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT),
      SHMRPC_WAIT_FUTEX);
  *ring0(pair, SHMRPC_RING_OFF_TAIL) = 1000;
  int delivered = 0;
  assert_int_equal(
      shmrpc_channel_dispatch(&pair->server, count_message, &delivered, 0),
      SHMRPC_EPROTO);
  pthread_join(sender, NULL);
  assert_int_equal(b.result, SHMRPC_EPROTO);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(corrupt_tail_beyond_capacity),
      T(corrupt_tail_behind_head),
      T(corrupt_tail_moved_back_over_parsed_frame),
      T(corrupt_head_moved_backwards),
      T(corrupt_head_ahead_of_tail),
      T(corrupt_length_beyond_published),
      T(corrupt_huge_length),
      T(corrupt_partial_header),
      T(corrupt_after_good_frame),
      T(corrupt_reserved_type),
      T(corrupt_fragment_type_change),
      T(corrupt_oversize_reassembly),
      T(corrupt_oversize_single_frame),
      T(corrupt_wakes_local_blocked_sender),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
