/* The adaptive spin budget (shmrpc_spin_policy_t, c/src/spin_policy.c):
 * its decisions for waits fed to it, and a channel whose peer sends at a
 * UI's rate ending up parking at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "test_support.h"

#define US 1000u
#define MS (1000u * US)

static void spin_policy_starts_at_the_cap(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, false);
  assert_int_equal(p.budget_ns, 50 * US);
  assert_int_equal(p.caught, 0);
  assert_int_equal(p.parked, 0);
}

/* A burst: every reply comes while spinning; the budget stays. */
static void spin_policy_caught_waits_keep_the_budget(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, false);
  for (int i = 0; i < 1000; i++)
    shmrpc_spin_policy_observe(&p, true, 0);
  assert_int_equal(p.budget_ns, 50 * US);
  assert_int_equal(p.caught, 1000);
  assert_int_equal(p.parked, 0);
}

/* A caller every 10 ms: each wait parks and lasts longer than the cap, so
 * the budget halves five times to 0 and stays there. */
static void spin_policy_rare_peer_parks_at_once(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, false);
  const uint32_t expected[] = {25 * US, 12500, 6250, 3125, 0, 0, 0};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    shmrpc_spin_policy_observe(&p, false, 10 * MS);
    assert_int_equal(p.budget_ns, expected[i]);
  }
  assert_int_equal(p.parked, 7);
  /* Just over eight caps counts as idle. */
  shmrpc_spin_policy_init(&p, 50 * US, false);
  shmrpc_spin_policy_observe(&p, false, 400 * US + 1);
  assert_int_equal(p.budget_ns, 25 * US);
}

/* A peer a wake-up away (waits between one and eight caps) leaves the
 * budget where it is, full or empty. */
static void spin_policy_slow_peer_keeps_the_budget(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, false);
  shmrpc_spin_policy_observe(&p, false, 50 * US + 1);
  shmrpc_spin_policy_observe(&p, false, 400 * US);
  assert_int_equal(p.budget_ns, 50 * US);
  for (int i = 0; i < 5; i++)
    shmrpc_spin_policy_observe(&p, false, 10 * MS);
  shmrpc_spin_policy_observe(&p, false, 90 * US);
  assert_int_equal(p.budget_ns, 0);
  assert_int_equal(p.parked, 8);
}

/* A wait that parked but ended within the cap: a longer spin would have
 * caught it, so the budget grows back, from 0 to a quarter, then doubling
 * up to the cap. */
static void spin_policy_near_miss_grows_the_budget(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, false);
  for (int i = 0; i < 5; i++)
    shmrpc_spin_policy_observe(&p, false, 10 * MS);
  assert_int_equal(p.budget_ns, 0);
  shmrpc_spin_policy_observe(&p, false, 20 * US);
  assert_int_equal(p.budget_ns, 12500);
  shmrpc_spin_policy_observe(&p, false, 50 * US);
  assert_int_equal(p.budget_ns, 25 * US);
  shmrpc_spin_policy_observe(&p, false, 30 * US);
  assert_int_equal(p.budget_ns, 50 * US);
  shmrpc_spin_policy_observe(&p, false, 40 * US);
  assert_int_equal(p.budget_ns, 50 * US); /* never above the cap */
}

/* A fixed policy counts but never changes its budget; a cap of 0 stays 0;
 * a huge cap does not overflow when doubling. */
static void spin_policy_fixed_and_edge_caps(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, 50 * US, true);
  shmrpc_spin_policy_observe(&p, false, 10 * MS);
  shmrpc_spin_policy_observe(&p, true, 0);
  assert_int_equal(p.budget_ns, 50 * US);
  assert_int_equal(p.parked, 1);
  assert_int_equal(p.caught, 1);
  shmrpc_spin_policy_init(&p, 0, false);
  shmrpc_spin_policy_observe(&p, false, 0);
  assert_int_equal(p.budget_ns, 0);
  shmrpc_spin_policy_init(&p, UINT32_MAX, false);
  p.budget_ns = UINT32_MAX / 2 + 10;
  shmrpc_spin_policy_observe(&p, false, 1);
  assert_int_equal(p.budget_ns, UINT32_MAX);
}

/* --- end to end: a channel whose client sends every 5 ms --- */

typedef struct ui_sender_s {
  shmrpc_channel_t *ch;
  int count;
} ui_sender_t;

static void *send_every_5ms(void *arg) {
  ui_sender_t *s = arg;
  struct timespec pause = {0, 5 * 1000 * 1000};
  for (int i = 0; i < s->count; i++) {
    nanosleep(&pause, NULL);
    uint8_t byte = (uint8_t)i;
    assert_int_equal(shmrpc_channel_send(s->ch, SHMRPC_BINARY, &byte, 1, -1), 0);
  }
  return NULL;
}

/* Opens a pair whose client sends `count` one-byte messages, one every
 * 5 ms, receives them on the server side and returns its rx policy. */
static shmrpc_spin_policy_t receive_at_ui_rate(bool spin_fixed, int count) {
  test_pair_t pair;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 50 * US;
  opts.spin_fixed = spin_fixed;
  test_pair_open(&pair, 4096, 4096, NULL, &opts);
  ui_sender_t sender = {&pair.client, count};
  pthread_t thread;
  test_thread_start(&thread, send_every_5ms, &sender);
  for (int i = 0; i < count; i++) {
    shmrpc_msg_t msg;
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, -1), 1);
  }
  pthread_join(thread, NULL);
  shmrpc_spin_policy_t rx;
  shmrpc_channel_spin_stats(&pair.server, &rx, NULL);
  test_pair_free(&pair);
  return rx;
}

/* The server's waits for data last about 5 ms each: after five of them it
 * parks without spinning, and every later wait parks too. Counts only: the
 * waits are long because the sender sleeps. */
static void spin_policy_ui_rate_receiver_parks(void **state) {
  (void)state;
  shmrpc_spin_policy_t rx = receive_at_ui_rate(false, 16);
  assert_int_equal(rx.budget_ns, 0);
  /* A server thread descheduled for milliseconds (a loaded machine) may
   * find a message waiting (no wait) or arriving as it resumes its spin
   * (caught): neither moves the budget; the parked waits took it to 0. */
  assert_true(rx.parked >= 5 && rx.parked + rx.caught <= 16);
}

/* The same with spin_fixed: the budget stays (the behaviour before). */
static void spin_policy_fixed_channel_keeps_spinning(void **state) {
  (void)state;
  shmrpc_spin_policy_t rx = receive_at_ui_rate(true, 3);
  assert_int_equal(rx.budget_ns, 50 * US);
  assert_true(rx.parked >= 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spin_policy_starts_at_the_cap),
      cmocka_unit_test(spin_policy_caught_waits_keep_the_budget),
      cmocka_unit_test(spin_policy_rare_peer_parks_at_once),
      cmocka_unit_test(spin_policy_near_miss_grows_the_budget),
      cmocka_unit_test(spin_policy_slow_peer_keeps_the_budget),
      cmocka_unit_test(spin_policy_fixed_and_edge_caps),
      cmocka_unit_test(spin_policy_ui_rate_receiver_parks),
      cmocka_unit_test(spin_policy_fixed_channel_keeps_spinning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
