/* The relay between two segments (c/include/shmrpc/relay.h): the test is
 * the client on one segment and the server on the other, with the relay's
 * two threads between them. Messages larger than either ring, flow control
 * with nothing dropped, the server's limit passed to the client once the
 * server opened, and each way an end can leave (close, death, a protocol
 * violation) passed on to the other end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"
#include "shmrpc/relay.h"
#include "test_channel_helpers.h"

/* The test's two ends and the relay between them. */
typedef struct ends_s {
  uint8_t *client_mem;
  size_t client_size;
  uint8_t *server_mem;
  size_t server_size;
  shmrpc_channel_t client; /* on the client segment */
  shmrpc_channel_t server; /* on the server segment, once server_open */
  bool server_open;
  shmrpc_relay_t *relay;
} ends_t;

static uint8_t *segment(uint32_t c2s, uint32_t s2c, size_t *size) {
  *size = shmrpc_segment_size(c2s, s2c);
  uint8_t *mem = test_segment_alloc(*size);
  assert_int_equal(shmrpc_segment_init(mem, *size, c2s, s2c), 0);
  return mem;
}

static void open_server(ends_t *e, uint32_t max_message) {
  shmrpc_channel_options_t o;
  shmrpc_channel_options_init(&o);
  if (max_message != 0)
    o.max_message_bytes = max_message;
  assert_int_equal(shmrpc_channel_open(&e->server, e->server_mem,
                                       e->server_size, SHMRPC_SIDE_SERVER, &o),
                   0);
  e->server_open = true;
}

/* Rings of `client_cap` on the client segment and `server_cap` on the
 * server's; the server's end opens first unless `server_later`. */
static void ends_open(ends_t *e, uint32_t client_cap, uint32_t server_cap,
                      bool server_later, uint32_t client_max) {
  memset(e, 0, sizeof *e);
  e->client_mem = segment(client_cap, client_cap, &e->client_size);
  e->server_mem = segment(server_cap, server_cap, &e->server_size);
  shmrpc_channel_options_t o;
  shmrpc_channel_options_init(&o);
  if (client_max != 0)
    o.max_message_bytes = client_max;
  assert_int_equal(shmrpc_channel_open(&e->client, e->client_mem,
                                       e->client_size, SHMRPC_SIDE_CLIENT, &o),
                   0);
  if (!server_later)
    open_server(e, 0);
  assert_int_equal(shmrpc_relay_start(e->client_mem, e->client_size,
                                      e->server_mem, e->server_size, NULL,
                                      &e->relay),
                   0);
}

static void await_done(ends_t *e) {
  for (int i = 0; !shmrpc_relay_done(e->relay); i++) {
    assert_true(i < 5000);
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
}

static void ends_free(ends_t *e) {
  if (e->relay != NULL)
    (void)shmrpc_relay_stop(e->relay, 0, NULL, NULL);
  shmrpc_channel_close(&e->client);
  shmrpc_channel_destroy(&e->client);
  if (e->server_open) {
    shmrpc_channel_close(&e->server);
    shmrpc_channel_destroy(&e->server);
  }
  free(e->client_mem);
  free(e->server_mem);
}

/* How the test's stand-in for a server's watcher wakes sleepers. */
static const shmrpc_parking_t futex_parking = {NULL, NULL, NULL};

static uint32_t state_of(uint8_t *mem, shmrpc_side_t side) {
  return shmrpc_segment_state(mem, side);
}

/* The server's end answers every message with itself until the end. */
typedef struct echo_s {
  shmrpc_channel_t *ch;
  int result;
} echo_t;

static void *echo_main(void *arg) {
  echo_t *echo = arg;
  shmrpc_msg_t msg;
  int rc;
  while ((rc = shmrpc_channel_recv(echo->ch, &msg, -1)) > 0) {
    rc = shmrpc_channel_send(echo->ch, msg.type, msg.data, msg.len, -1);
    if (rc != 0)
      break;
  }
  echo->result = rc;
  return NULL;
}

static void relay_forwards_both_ways_fragmenting_for_each_ring(void **state) {
  (void)state;
  ends_t e;
  /* A 5000-byte message is larger than both rings (256 and 128 bytes). */
  ends_open(&e, 256, 128, false, 0);
  echo_t echo = {&e.server, 1};
  pthread_t thread;
  test_thread_start(&thread, echo_main, &echo);
  const size_t sizes[] = {0, 1, 100, 5000, 251, 123};
  const uint8_t types[] = {SHMRPC_TEXT, SHMRPC_BINARY, SHMRPC_COMMAND};
  uint8_t *sent = malloc(5000);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    test_fill(sent, sizes[i], i + 1);
    uint8_t type = types[i % 3];
    assert_int_equal(
        shmrpc_channel_send(&e.client, type, sent, sizes[i], 5000), 0);
    shmrpc_msg_t reply;
    assert_int_equal(shmrpc_channel_recv(&e.client, &reply, 5000), 1);
    assert_int_equal(reply.type, type);
    assert_int_equal(reply.len, sizes[i]);
    if (sizes[i] > 0)
      assert_memory_equal(reply.data, sent, sizes[i]);
  }
  /* The client closes: the server sees its client closed, the relay ends. */
  shmrpc_channel_close(&e.client);
  pthread_join(thread, NULL);
  assert_int_equal(echo.result, SHMRPC_ECLOSED);
  assert_int_equal(state_of(e.server_mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_CLOSED);
  await_done(&e);
  uint64_t up = 0, down = 0;
  shmrpc_relay_counts(e.relay, &up, &down);
  assert_int_equal(up, 6);
  assert_int_equal(down, 6);
  up = down = 0;
  assert_int_equal(shmrpc_relay_stop(e.relay, 0, &up, &down), 0);
  assert_int_equal(up, 6);
  assert_int_equal(down, 6);
  e.relay = NULL;
  free(sent);
  ends_free(&e);
}

static void relay_keeps_flow_control_and_drops_nothing(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, false, 0);
  /* The server does not read: sends stop once the client's ring, the
   * relay and the server's ring are full. */
  uint32_t sent = 0;
  for (;; sent++) {
    uint8_t payload[64];
    memset(payload, (int)(sent & 0xff), sizeof payload);
    memcpy(payload, &sent, sizeof sent);
    int rc = shmrpc_channel_send(&e.client, SHMRPC_BINARY, payload,
                                 sizeof payload, sent < 3 ? -1 : 200);
    if (rc == SHMRPC_ETIMEDOUT)
      break;
    assert_int_equal(rc, 0);
    assert_true(sent < 1000);
  }
  assert_true(sent >= 3);
  for (uint32_t i = 0; i < sent; i++) {
    shmrpc_msg_t msg;
    assert_int_equal(shmrpc_channel_recv(&e.server, &msg, 5000), 1);
    assert_int_equal(msg.len, 64);
    uint32_t at;
    memcpy(&at, msg.data, sizeof at);
    assert_int_equal(at, i);
  }
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&e.server, &msg, 50), 0);
  ends_free(&e);
}

static void relay_passes_a_dead_server_on_as_dead(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, false, 0);
  assert_int_equal(shmrpc_channel_send(&e.server, SHMRPC_TEXT, "last", 4, -1),
                   0);
  /* What the server's watcher does when the server process dies. */
  shmrpc_segment_mark_dead(e.server_mem, SHMRPC_SIDE_SERVER, &futex_parking);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&e.client, &msg, 5000), 1);
  assert_memory_equal(msg.data, "last", 4);
  assert_int_equal(shmrpc_channel_recv(&e.client, &msg, 5000),
                   SHMRPC_EPEERDEAD);
  assert_int_equal(state_of(e.client_mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_DEAD);
  await_done(&e);
  assert_int_equal(state_of(e.server_mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_CLOSED);
  assert_int_equal(shmrpc_channel_send(&e.client, SHMRPC_TEXT, "x", 1, 0),
                   SHMRPC_EPEERDEAD);
  ends_free(&e);
}

static void relay_passes_a_client_close_on_after_its_messages(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, false, 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(shmrpc_channel_send(&e.client, SHMRPC_TEXT, "bye", 3, 0),
                     0);
  shmrpc_channel_close(&e.client);
  collector_t c = {.ch = &e.server};
  pthread_t thread;
  test_thread_start(&thread, collect_until_closed, &c);
  pthread_join(thread, NULL);
  assert_int_equal(c.count, 3);
  assert_int_equal(c.result, SHMRPC_ECLOSED);
  await_done(&e);
  assert_int_equal(state_of(e.client_mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_CLOSED);
  assert_int_equal(shmrpc_relay_stop(e.relay, 1000, NULL, NULL), 0);
  e.relay = NULL;
  free(c.last);
  ends_free(&e);
}

/* An end publishes a tail a whole ring past the relay's head in the ring
 * it produces into: the relay fails both of its sides. */
static void violation_fails_both_sides(bool by_client) {
  ends_t e;
  ends_open(&e, 256, 256, false, 0);
  uint8_t *mem = by_client ? e.client_mem : e.server_mem;
  uint32_t ring = by_client ? SHMRPC_OFF_RING0_CONTROL : SHMRPC_OFF_RING1_CONTROL;
  shmrpc_channel_t *end = by_client ? &e.client : &e.server;
  shmrpc__store_seq_cst(shmrpc__word(mem, ring + SHMRPC_RING_OFF_TAIL), 257);
  shmrpc__wake(shmrpc__word(mem, ring + SHMRPC_RING_OFF_CONSUMER_WAIT),
               &end->parking);
  /* The other end sees the relay's side FAILED: its receive ends. */
  shmrpc_msg_t msg;
  shmrpc_channel_t *other = by_client ? &e.server : &e.client;
  assert_int_equal(shmrpc_channel_recv(other, &msg, 5000), SHMRPC_ECLOSED);
  assert_int_equal(state_of(e.server_mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_FAILED);
  assert_int_equal(state_of(e.client_mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_FAILED);
  await_done(&e);
  ends_free(&e);
}

static void relay_passes_a_client_violation_on_as_failed(void **state) {
  (void)state;
  violation_fails_both_sides(true);
}

static void relay_passes_a_server_violation_on_as_failed(void **state) {
  (void)state;
  violation_fails_both_sides(false);
}

static void relay_opens_toward_the_client_once_the_server_opened(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, true, 3000);
  /* The client may send while the server is ABSENT. */
  assert_int_equal(shmrpc_channel_send(&e.client, SHMRPC_TEXT, "early", 5, 0),
                   0);
  struct timespec pause = {0, 20 * 1000000};
  nanosleep(&pause, NULL);
  assert_int_equal(state_of(e.client_mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_ABSENT);
  open_server(&e, 1000);
  test_wait_for_word(shmrpc__word(e.client_mem, SHMRPC_OFF_SERVER_STATE),
                     SHMRPC_STATE_OPEN);
  /* Each end sees the other's limit. */
  assert_int_equal(
      *shmrpc__word(e.client_mem, SHMRPC_OFF_SERVER_MAX_MESSAGE), 1000);
  assert_int_equal(
      *shmrpc__word(e.server_mem, SHMRPC_OFF_CLIENT_MAX_MESSAGE), 3000);
  uint8_t big[2000] = {0};
  assert_int_equal(
      shmrpc_channel_send(&e.client, SHMRPC_BINARY, big, sizeof big, 0),
      SHMRPC_EMSGSIZE);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&e.server, &msg, 5000), 1);
  assert_memory_equal(msg.data, "early", 5);
  ends_free(&e);
}

static void relay_passes_on_a_server_that_died_before_opening(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, true, 0);
  shmrpc_segment_mark_dead(e.server_mem, SHMRPC_SIDE_SERVER, &futex_parking);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&e.client, &msg, 5000),
                   SHMRPC_EPEERDEAD);
  await_done(&e);
  assert_int_equal(state_of(e.server_mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_CLOSED);
  ends_free(&e);
}

static void relay_stop_ends_both_sides_and_releases_its_threads(void **state) {
  (void)state;
  ends_t e;
  ends_open(&e, 256, 256, false, 0);
  /* Both ends open and idle: the threads wait, so a flush times out. */
  double start = test_now_ms();
  assert_int_equal(shmrpc_relay_stop(e.relay, 100, NULL, NULL),
                   SHMRPC_ETIMEDOUT);
  assert_true(test_now_ms() - start >= 90);
  e.relay = NULL;
  assert_int_equal(state_of(e.client_mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_CLOSED);
  assert_int_equal(state_of(e.server_mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_CLOSED);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&e.client, &msg, 5000), SHMRPC_ECLOSED);
  ends_free(&e);
}

static void relay_start_refuses_a_segment_that_does_not_validate(void **state) {
  (void)state;
  size_t size;
  uint8_t *good = segment(256, 256, &size);
  uint8_t *bad = test_segment_alloc(size); /* never initialized */
  memset(bad, 0, size);
  shmrpc_relay_t *relay = (shmrpc_relay_t *)1;
  assert_int_equal(shmrpc_relay_start(bad, size, good, size, NULL, &relay),
                   SHMRPC_EPROTO);
  assert_null(relay);
  assert_int_equal(shmrpc_relay_start(good, size, bad, size, NULL, &relay),
                   SHMRPC_EPROTO);
  assert_int_equal(state_of(good, SHMRPC_SIDE_CLIENT), SHMRPC_STATE_ABSENT);
  assert_int_equal(shmrpc_relay_start(good, size, good, size, NULL, NULL),
                   SHMRPC_EINVAL);
  free(good);
  free(bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(relay_forwards_both_ways_fragmenting_for_each_ring),
      cmocka_unit_test(relay_keeps_flow_control_and_drops_nothing),
      cmocka_unit_test(relay_passes_a_dead_server_on_as_dead),
      cmocka_unit_test(relay_passes_a_client_close_on_after_its_messages),
      cmocka_unit_test(relay_passes_a_client_violation_on_as_failed),
      cmocka_unit_test(relay_passes_a_server_violation_on_as_failed),
      cmocka_unit_test(relay_opens_toward_the_client_once_the_server_opened),
      cmocka_unit_test(relay_passes_on_a_server_that_died_before_opening),
      cmocka_unit_test(relay_stop_ends_both_sides_and_releases_its_threads),
      cmocka_unit_test(relay_start_refuses_a_segment_that_does_not_validate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
