/* The wait/wake/peer-state core (c/include/shmrpc/wait.h): parking on a
 * pluggable waiter, waking by wait value, waking everyone, marking a dead
 * peer (which ends every wait), and the event-loop spin of wait value 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "internal.h"
#include "test_channel_helpers.h"


/* --- parking --- */

typedef struct flag_wait_s {
  uint32_t word;
  uint32_t *at; /* the word to park on; `word` when NULL */
  uint32_t flag;
  shmrpc_parking_t parking;
  int timeout_ms;
  int result;
} flag_wait_t;

static int flag_set(void *ctx) {
  return (int)shmrpc__load_seq_cst(&((flag_wait_t *)ctx)->flag);
}

static void *park_on_flag(void *arg) {
  flag_wait_t *f = arg;
  shmrpc_deadline_t deadline;
  assert_int_equal(shmrpc_deadline_init(&deadline, f->timeout_ms), 0);
  f->result = shmrpc_park(f->at != NULL ? f->at : &f->word, &f->parking,
                          &deadline, 0, flag_set, f);
  return NULL;
}

static void wait_park_returns_the_condition_at_once(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  flag_wait_t f = {.flag = 7, .parking = test_counting_parking(&c, false),
                   .timeout_ms = -1};
  park_on_flag(&f);
  assert_int_equal(f.result, 7);
  assert_int_equal(test_count(&c.waits), 0);
}

static void wait_park_times_out_through_the_waiter(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  flag_wait_t f = {.parking = test_counting_parking(&c, false), .timeout_ms = 30};
  double start = test_now_ms();
  park_on_flag(&f);
  assert_int_equal(f.result, SHMRPC_ETIMEDOUT);
  assert_true(test_now_ms() - start >= 25);
  assert_true(test_count(&c.waits) >= 1);
  assert_int_equal(f.word, SHMRPC_WAIT_NONE);
}

static void wait_pluggable_waiter_parks_and_is_woken(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  flag_wait_t f = {.parking = test_counting_parking(&c, false), .timeout_ms = -1};
  pthread_t thread;
  test_thread_start(&thread, park_on_flag, &f);
  test_wait_for_word(&f.word, SHMRPC_WAIT_FUTEX);
  shmrpc__store_seq_cst(&f.flag, 1);
  shmrpc_wake(&f.word, &f.parking);
  pthread_join(thread, NULL);
  assert_int_equal(f.result, 1);
  assert_int_equal(test_count(&c.wakes), 1);
  assert_ptr_equal(c.last_woken, &f.word);
  assert_int_equal(f.word, SHMRPC_WAIT_NONE);
}

/* --- waking by wait value --- */

static void wait_wake_acts_on_each_value(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  shmrpc_parking_t with_loop = test_counting_parking(&c, true);
  shmrpc_parking_t without_loop = test_counting_parking(&c, false);
  uint32_t word = SHMRPC_WAIT_NONE;
  shmrpc_wake(&word, &with_loop);
  assert_int_equal(test_count(&c.wakes) + test_count(&c.loop_wakes), 0);

  word = SHMRPC_WAIT_FUTEX;
  shmrpc_wake(&word, &with_loop);
  assert_int_equal(word, SHMRPC_WAIT_NONE);
  assert_int_equal(test_count(&c.wakes), 1);

  word = SHMRPC_WAIT_LOOP;
  shmrpc_wake(&word, &with_loop);
  assert_int_equal(word, SHMRPC_WAIT_NONE);
  assert_int_equal(test_count(&c.loop_wakes), 1);
  assert_int_equal(test_count(&c.wakes), 1);

  /* No loop hook: a watcher thread waits on the word itself. */
  word = SHMRPC_WAIT_LOOP;
  shmrpc_wake(&word, &without_loop);
  assert_int_equal(word, SHMRPC_WAIT_NONE);
  assert_int_equal(test_count(&c.wakes), 2);

  word = SHMRPC_WAIT_SPINNING;
  shmrpc_wake(&word, &with_loop);
  assert_int_equal(word, SHMRPC_WAIT_SPINNING);
  assert_int_equal(test_count(&c.wakes), 2);
  assert_int_equal(test_count(&c.loop_wakes), 1);
}

static uint32_t *wait_word_at(uint8_t *mem, int i) {
  static const uint32_t offsets[] = {
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT};
  return (uint32_t *)(void *)(mem + offsets[i]);
}

static uint8_t *new_segment(void) {
  size_t size = shmrpc_segment_size(CAP, CAP);
  uint8_t *mem = test_segment_alloc(size);
  assert_int_equal(shmrpc_segment_init(mem, size, CAP, CAP), 0);
  return mem;
}

static void wait_wake_all_wakes_the_four_words(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  shmrpc_parking_t parking = test_counting_parking(&c, true);
  uint8_t *mem = new_segment();
  for (int i = 0; i < 4; i++)
    *wait_word_at(mem, i) = SHMRPC_WAIT_FUTEX;
  *wait_word_at(mem, 2) = SHMRPC_WAIT_LOOP;
  shmrpc_segment_wake_all(mem, &parking);
  for (int i = 0; i < 4; i++)
    assert_int_equal(*wait_word_at(mem, i), SHMRPC_WAIT_NONE);
  assert_int_equal(test_count(&c.wakes), 3);
  assert_int_equal(test_count(&c.loop_wakes), 1);
  free(mem);
}

/* A peer rewrote the word a sleeper parked on (0 where it stored 1): a
 * wake-everyone (a close, a death) still reaches the sleeper, instead of
 * leaving it asleep until its deadline (issue 18: close() hung forever). */
static void wait_wake_all_reaches_a_sleeper_whose_word_was_cleared(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  uint8_t *mem = new_segment();
  flag_wait_t s = {.at = wait_word_at(mem, 0),
                   .parking = test_counting_parking(&c, false),
                   .timeout_ms = 3000};
  pthread_t thread;
  test_thread_start(&thread, park_on_flag, &s);
  test_wait_for_word(s.at, SHMRPC_WAIT_FUTEX);
  while (test_count(&c.waits) == 0) {
  }
  struct timespec asleep = {.tv_nsec = 50 * 1000000};
  nanosleep(&asleep, NULL); /* in the kernel by now */
  shmrpc__store_seq_cst(&s.flag, 1);
  shmrpc__store_seq_cst(s.at, SHMRPC_WAIT_NONE); /* the announcement is gone */
  double start = test_now_ms();
  test_counting_t w;
  test_counting_init(&w);
  shmrpc_parking_t waking = test_counting_parking(&w, true);
  shmrpc_segment_wake_all(mem, &waking);
  assert_int_equal(test_count(&w.wakes), 4); /* every idle-looking word */
  assert_int_equal(test_count(&w.loop_wakes), 0);
  pthread_join(thread, NULL);
  assert_int_equal(s.result, 1);
  assert_true(test_now_ms() - start < 1500);
  free(mem);
}

/* --- dead peers --- */

static void wait_mark_dead_stores_dead_once_and_wakes(void **state) {
  (void)state;
  test_counting_t c;
  test_counting_init(&c);
  shmrpc_parking_t parking = test_counting_parking(&c, false);
  uint8_t *mem = new_segment();
  uint32_t *server_state = (uint32_t *)(void *)(mem + SHMRPC_OFF_SERVER_STATE);
  assert_int_equal(shmrpc_segment_mark_dead(mem, SHMRPC_SIDE_SERVER, &parking),
                   SHMRPC_STATE_ABSENT);
  assert_int_equal(*server_state, SHMRPC_STATE_DEAD);
  assert_int_equal(shmrpc_segment_state(mem, SHMRPC_SIDE_SERVER),
                   SHMRPC_STATE_DEAD);
  assert_int_equal(shmrpc_segment_state(mem, SHMRPC_SIDE_CLIENT),
                   SHMRPC_STATE_ABSENT);
  *server_state = SHMRPC_STATE_CLOSED;
  *wait_word_at(mem, 1) = SHMRPC_WAIT_FUTEX;
  assert_int_equal(shmrpc_segment_mark_dead(mem, SHMRPC_SIDE_SERVER, &parking),
                   SHMRPC_STATE_CLOSED);
  assert_int_equal(*server_state, SHMRPC_STATE_CLOSED);
  /* It wakes even when the state stays: the observer cannot know whether
   * the peer's own wake-up happened. */
  assert_int_equal(*wait_word_at(mem, 1), SHMRPC_WAIT_NONE);
  /* Each mark wakes all four words, the idle-looking ones too (a sleeper
   * may hide behind a rewritten word). */
  assert_int_equal(test_count(&c.wakes), 8);
  free(mem);
}

typedef struct blocked_recv_s {
  shmrpc_channel_t *ch;
  int result;
} blocked_recv_t;

static void *recv_in_thread(void *arg) {
  blocked_recv_t *b = arg;
  shmrpc_msg_t msg;
  b->result = shmrpc_channel_recv(b->ch, &msg, -1);
  return NULL;
}

/* A client blocked receiving and one blocked sending (ring full) both end
 * with EPEERDEAD when an observer marks the server dead: no wait outlives
 * a dead peer. */
static void wait_dead_peer_ends_every_wait(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  static uint8_t fill[CAP - SHMRPC_FRAME_HEADER_BYTES];
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_BINARY, fill,
                                       sizeof fill, 0), 0);
  blocked_recv_t receiver = {&pair.client, 1};
  blocked_send_t sender = {&pair.client, 16, -1, 1};
  pthread_t threads[2];
  test_thread_start(&threads[0], recv_in_thread, &receiver);
  test_thread_start(&threads[1], send_in_thread, &sender);
  test_wait_for_word(test_word(&pair, SHMRPC_OFF_RING1_CONTROL +
                                          SHMRPC_RING_OFF_CONSUMER_WAIT),
                     SHMRPC_WAIT_FUTEX);
  test_wait_for_word(ring0_producer_wait(&pair), SHMRPC_WAIT_FUTEX);

  shmrpc_parking_t parking = {0};
  double start = test_now_ms();
  assert_int_equal(shmrpc_segment_mark_dead(pair.mem, SHMRPC_SIDE_SERVER,
                                            &parking),
                   SHMRPC_STATE_OPEN);
  pthread_join(threads[0], NULL);
  pthread_join(threads[1], NULL);
  assert_true(test_now_ms() - start < 2000);
  assert_int_equal(receiver.result, SHMRPC_EPEERDEAD);
  assert_int_equal(sender.result, SHMRPC_EPEERDEAD);
  assert_true(shmrpc_channel_peer_closed(&pair.client));
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "x", 1, -1),
                   SHMRPC_EPEERDEAD);
  test_pair_free(&pair);
}

/* The server still receives what a dead client published, then EPEERDEAD. */
static void wait_dead_peer_ends_the_stream_after_its_data(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "last", 4, 0), 0);
  shmrpc_parking_t parking = {0};
  shmrpc_segment_mark_dead(pair.mem, SHMRPC_SIDE_CLIENT, &parking);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, -1), 1);
  assert_memory_equal(msg.data, "last", 4);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, -1),
                   SHMRPC_EPEERDEAD);
  test_pair_free(&pair);
}

/* --- the event-loop spin (wait value 3) --- */

typedef struct loop_fixture_s {
  uint8_t *mem;
  shmrpc_loop_watch_t watch;
  uint32_t *tail; /* ring 1 (server -> client) */
  uint32_t *server_state;
} loop_fixture_t;

static void loop_fixture_init(loop_fixture_t *f, uint32_t spin_ns) {
  f->mem = new_segment();
  shmrpc_loop_watch_init(&f->watch, f->mem, SHMRPC_SIDE_CLIENT, spin_ns, false);
  f->tail = (uint32_t *)(void *)(f->mem + SHMRPC_OFF_RING1_CONTROL +
                                 SHMRPC_RING_OFF_TAIL);
  f->server_state = (uint32_t *)(void *)(f->mem + SHMRPC_OFF_SERVER_STATE);
  assert_ptr_equal(f->watch.wait_word, wait_word_at(f->mem, 2));
}

static void wait_loop_watch_steps(void **state) {
  (void)state;
  loop_fixture_t f;
  loop_fixture_init(&f, 0);
  uint32_t *word = f.watch.wait_word;
  /* Not spinning: the loop may block. */
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false), SHMRPC_LOOP_IDLE);
  assert_int_equal(*word, SHMRPC_WAIT_NONE);
  /* Nothing came: parked with LOOP, and a second step leaves it parked. */
  *word = SHMRPC_WAIT_SPINNING;
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false),
                   SHMRPC_LOOP_PARKED);
  assert_int_equal(*word, SHMRPC_WAIT_LOOP);
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false), SHMRPC_LOOP_IDLE);
  assert_int_equal(*word, SHMRPC_WAIT_LOOP);
  /* Data published: news, the word back to NONE. */
  *word = SHMRPC_WAIT_SPINNING;
  *f.tail = 8;
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false), SHMRPC_LOOP_NEWS);
  assert_int_equal(*word, SHMRPC_WAIT_NONE);
  /* Asked to yield: news, but after the loop's poll. */
  *word = SHMRPC_WAIT_SPINNING;
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, true),
                   SHMRPC_LOOP_NEWS_LATER);
  assert_int_equal(*word, SHMRPC_WAIT_NONE);
  /* A peer that left OPEN is news too, DEAD included. */
  *f.tail = 0;
  *f.server_state = SHMRPC_STATE_DEAD;
  *word = SHMRPC_WAIT_SPINNING;
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false), SHMRPC_LOOP_NEWS);
  free(f.mem);
}

static void *publish_later(void *arg) {
  uint32_t *tail = arg;
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
  shmrpc__store_seq_cst(tail, 16);
  return NULL;
}

/* A reply that comes within the budget is caught by the spin. */
static void wait_loop_watch_spins_for_news(void **state) {
  (void)state;
  loop_fixture_t f;
  loop_fixture_init(&f, 2u * 1000 * 1000 * 1000);
  *f.watch.wait_word = SHMRPC_WAIT_SPINNING;
  pthread_t thread;
  test_thread_start(&thread, publish_later, f.tail);
  assert_int_equal(shmrpc_loop_watch_step(&f.watch, false), SHMRPC_LOOP_NEWS);
  pthread_join(thread, NULL);
  assert_int_equal(*f.watch.wait_word, SHMRPC_WAIT_NONE);
  free(f.mem);
}

static void wait_peer_state_errors(void **state) {
  (void)state;
  assert_int_equal(shmrpc_peer_state_error(SHMRPC_STATE_ABSENT), 0);
  assert_int_equal(shmrpc_peer_state_error(SHMRPC_STATE_OPEN), 0);
  assert_int_equal(shmrpc_peer_state_error(SHMRPC_STATE_CLOSED), SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_peer_state_error(SHMRPC_STATE_FAILED), SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_peer_state_error(SHMRPC_STATE_DEAD), SHMRPC_EPEERDEAD);
  assert_int_equal(shmrpc_peer_state_error(5), SHMRPC_ECLOSED);
  assert_int_equal(shmrpc_peer_state_error(UINT32_MAX), SHMRPC_ECLOSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wait_park_returns_the_condition_at_once),
      cmocka_unit_test(wait_park_times_out_through_the_waiter),
      cmocka_unit_test(wait_pluggable_waiter_parks_and_is_woken),
      cmocka_unit_test(wait_wake_acts_on_each_value),
      cmocka_unit_test(wait_wake_all_wakes_the_four_words),
      cmocka_unit_test(wait_wake_all_reaches_a_sleeper_whose_word_was_cleared),
      cmocka_unit_test(wait_mark_dead_stores_dead_once_and_wakes),
      cmocka_unit_test(wait_dead_peer_ends_every_wait),
      cmocka_unit_test(wait_dead_peer_ends_the_stream_after_its_data),
      cmocka_unit_test(wait_loop_watch_steps),
      cmocka_unit_test(wait_loop_watch_spins_for_news),
      cmocka_unit_test(wait_peer_state_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
