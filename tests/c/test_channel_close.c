/* Closing a channel: messages published before a close are still
 * delivered, and every thread blocked on either side is released. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "test_channel_helpers.h"

static void close_on_first(void *user, const shmrpc_msg_t *msg) {
  (void)msg;
  test_pair_t *pair = user;
  shmrpc_channel_close(&pair->server);
}

/* A callback that closes its channel gets no further messages. */
static void channel_callback_close_stops_dispatch(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "m", 1, 0), 0);
  assert_int_equal(
      shmrpc_channel_dispatch(&pair.server, close_on_first, &pair, 0), 1);
  assert_int_equal(
      shmrpc_channel_dispatch(&pair.server, close_on_first, &pair, 0),
      SHMRPC_ECLOSED);
  test_pair_free(&pair);
}


static void channel_close_delivers_published_then_closed(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  for (int i = 0; i < 3; i++)
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "bye", 3, 0), 0);
  shmrpc_channel_close(&pair.client);
  assert_int_equal(*test_word(&pair, SHMRPC_OFF_CLIENT_STATE),
                   SHMRPC_STATE_CLOSED);
  assert_true(shmrpc_channel_peer_closed(&pair.server));
  assert_false(shmrpc_channel_peer_closed(&pair.client));
  /* The closing side cannot send or receive any more. */
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "x", 1, 0),
                   SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_channel_try_send(&pair.client, SHMRPC_TEXT, "x", 1),
                   SHMRPC_ECLOSED);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.client, &msg, 0),
                   SHMRPC_ECLOSED);
  /* The other side drains, then sees the end; its sends fail. */
  collector_t c = {.ch = &pair.server};
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, -1), 3);
  assert_int_equal(shmrpc_channel_dispatch(&pair.server, collect, &c, -1),
                   SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, -1),
                   SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_channel_send(&pair.server, SHMRPC_TEXT, "x", 1, 0),
                   SHMRPC_ECLOSED);
  free(c.last);
  test_pair_free(&pair);
}

/* Fills the client's ring, blocks a second send of `send_len` bytes in a
 * thread until it parks, then closes the side `closing` returns: the send
 * must fail with SHMRPC_ECLOSED. */
static void close_releases_blocked_sender(size_t send_len,
                                          shmrpc_channel_t *(*closing)(test_pair_t *)) {
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint8_t payload[CAP - 5] = {0};
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, payload,
                                       sizeof payload, 0),
                   0);
  blocked_send_t b = {&pair.client, send_len, -1, 1};
  pthread_t sender;
  test_thread_start(&sender, send_in_thread, &b);
  test_wait_for_word(ring0_producer_wait(&pair), SHMRPC_WAIT_FUTEX);
  shmrpc_channel_close(closing(&pair));
  pthread_join(sender, NULL);
  assert_int_equal(b.result, SHMRPC_ECLOSED);
  test_pair_free(&pair);
}

static shmrpc_channel_t *server_side(test_pair_t *pair) { return &pair->server; }
static shmrpc_channel_t *client_side(test_pair_t *pair) { return &pair->client; }

static void channel_peer_close_releases_blocked_sender(void **state) {
  (void)state;
  close_releases_blocked_sender(10, server_side);
}

/* A send larger than the ring, blocked between fragments. */
static void channel_local_close_releases_blocked_sender(void **state) {
  (void)state;
  close_releases_blocked_sender(4 * CAP, client_side);
}

typedef struct blocked_dispatch_s {
  shmrpc_channel_t *ch;
  int result;
} blocked_dispatch_t;

static void ignore(void *user, const shmrpc_msg_t *msg) {
  (void)user;
  (void)msg;
}

static void *dispatch_in_thread(void *arg) {
  blocked_dispatch_t *d = arg;
  d->result = shmrpc_channel_dispatch(d->ch, ignore, NULL, -1);
  return NULL;
}

/* A dispatch parked for data returns ECLOSED when either side closes. */
static void check_close_releases_dispatch(bool peer_closes) {
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  blocked_dispatch_t d = {&pair.server, 1};
  pthread_t receiver;
  test_thread_start(&receiver, dispatch_in_thread, &d);
  test_wait_for_word(ring0_consumer_wait(&pair), SHMRPC_WAIT_FUTEX);
  shmrpc_channel_close(peer_closes ? &pair.client : &pair.server);
  pthread_join(receiver, NULL);
  assert_int_equal(d.result, SHMRPC_ECLOSED);
  test_pair_free(&pair);
}

static void channel_close_from_other_thread_releases_dispatch(void **state) {
  (void)state;
  check_close_releases_dispatch(false);
}

static void channel_peer_close_releases_dispatch(void **state) {
  (void)state;
  check_close_releases_dispatch(true);
}

/* A relay closes its side with the state of the end it stands in for:
 * the peer sees DEAD (after what was published), a second close changes
 * nothing, and only the three end states are accepted. */
static void channel_close_as_passes_a_state_on(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  assert_int_equal(shmrpc_channel_close_as(&pair.server, SHMRPC_STATE_OPEN),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_close_as(&pair.server, 7), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_close_as(NULL, SHMRPC_STATE_DEAD),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_send(&pair.server, SHMRPC_TEXT, "x", 1, 0),
                   0);
  assert_int_equal(shmrpc_channel_close_as(&pair.server, SHMRPC_STATE_DEAD),
                   0);
  assert_int_equal(*test_word(&pair, SHMRPC_OFF_SERVER_STATE),
                   SHMRPC_STATE_DEAD);
  shmrpc_channel_close(&pair.server);
  assert_int_equal(shmrpc_channel_close_as(&pair.server, SHMRPC_STATE_FAILED),
                   0);
  assert_int_equal(*test_word(&pair, SHMRPC_OFF_SERVER_STATE),
                   SHMRPC_STATE_DEAD);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.client, &msg, 0), 1);
  assert_int_equal(shmrpc_channel_recv(&pair.client, &msg, 0),
                   SHMRPC_EPEERDEAD);
  assert_int_equal(shmrpc_channel_send(&pair.server, SHMRPC_TEXT, "x", 1, 0),
                   SHMRPC_ECLOSED);
  test_pair_free(&pair);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(channel_callback_close_stops_dispatch),
      cmocka_unit_test(channel_close_delivers_published_then_closed),
      cmocka_unit_test(channel_peer_close_releases_blocked_sender),
      cmocka_unit_test(channel_local_close_releases_blocked_sender),
      cmocka_unit_test(channel_close_from_other_thread_releases_dispatch),
      cmocka_unit_test(channel_peer_close_releases_dispatch),
      cmocka_unit_test(channel_close_as_passes_a_state_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
