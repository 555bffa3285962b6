/* The adaptive spin budget (shmrpc_spin_policy_t, c/src/spin_policy.c):
 * its decisions for waits fed to it (the table TypeScript's policy passes
 * too), a channel whose peer sends at a UI's rate ending up parking at
 * once, and one whose peer gets busy again probing its way back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_support.h"

#define US 1000u
#define MS (1000u * US)

/* --- the decision table (tests/vectors/spin/policy.txt), shared with the
 * TypeScript policy's test --- */

/* Runs every case of the table; fails naming the case and line that
 * disagrees. Returns how many waits it checked. */
static int run_policy_table(void) {
  size_t len;
  char *text = (char *)test_read_vector("spin/policy.txt", &len);
  text[len] = '\0';
  shmrpc_spin_policy_t p;
  bool in_case = false;
  char name[128] = "";
  uint64_t now = 0; /* the end of the last wait, on the table's clock */
  int line_no = 0, waits = 0;
  for (char *line = text, *next; line != NULL; line = next) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    line_no++;
    while (*line == ' ')
      line++;
    if (*line == '#' || *line == '\0')
      continue;
    char word[32], mode[32];
    unsigned long long a, b, c, d;
    if (sscanf(line, "case %127s %llu %31s", name, &a, mode) == 3) {
      assert_true(strcmp(mode, "adaptive") == 0 || strcmp(mode, "fixed") == 0);
      shmrpc_spin_policy_init(&p, (uint32_t)a, strcmp(mode, "fixed") == 0);
      now = 1000000000; /* not 0, which means "unknown" */
      in_case = true;
      continue;
    }
    if (sscanf(line, "counts %llu %llu %llu", &a, &b, &c) == 3) {
      assert_true(in_case);
      if (p.caught != a || p.parked != b || p.probes != c)
        fail_msg("%s: counts %llu %llu %llu, the table says %llu %llu %llu",
                 name, (unsigned long long)p.caught,
                 (unsigned long long)p.parked, (unsigned long long)p.probes,
                 a, b, c);
      continue;
    }
    /* SPIN caught BUDGET, or SPIN parked WAITED GAP BUDGET */
    int n = sscanf(line, "%llu %31s %llu %llu %llu", &a, word, &b, &c, &d);
    bool caught = n == 3 && strcmp(word, "caught") == 0;
    if (!caught && !(n == 5 && strcmp(word, "parked") == 0))
      fail_msg("policy.txt line %d: cannot read \"%s\"", line_no, line);
    assert_true(in_case);
    uint32_t spun = shmrpc_spin_policy_begin(&p);
    if (spun != a)
      fail_msg("%s (line %d): the wait spins %u ns, the table says %llu", name,
               line_no, spun, a);
    unsigned long long budget = caught ? b : d;
    if (caught) {
      shmrpc_spin_policy_observe(&p, true, 0, 0);
    } else {
      now += c + b;
      shmrpc_spin_policy_observe(&p, false, b, now);
    }
    if (p.budget_ns != budget)
      fail_msg("%s (line %d): budget %u ns after the wait, the table says "
               "%llu",
               name, line_no, p.budget_ns, budget);
    waits++;
  }
  free(text);
  return waits;
}

static void spin_policy_follows_the_shared_table(void **state) {
  (void)state;
  assert_true(run_policy_table() > 50);
}

/* C only: a huge cap neither overflows when doubling nor when probing. */
static void spin_policy_huge_cap_does_not_overflow(void **state) {
  (void)state;
  shmrpc_spin_policy_t p;
  shmrpc_spin_policy_init(&p, UINT32_MAX, false);
  p.budget_ns = UINT32_MAX / 2 + 10;
  shmrpc_spin_policy_observe(&p, false, 1, 0);
  assert_int_equal(p.budget_ns, UINT32_MAX);
  p.budget_ns = 0;
  p.near = SHMRPC_SPIN_PROBE_AFTER;
  assert_int_equal(shmrpc_spin_policy_begin(&p), UINT32_MAX);
}

/* --- end to end: a client that sends at a pace, a server that receives --- */

typedef struct paced_sender_s {
  shmrpc_channel_t *ch;
  const uint32_t *pauses_ms; /* before each message */
  int count;
} paced_sender_t;

static void *send_paced(void *arg) {
  paced_sender_t *s = arg;
  for (int i = 0; i < s->count; i++) {
    struct timespec pause = {0, (long)s->pauses_ms[i] * 1000 * 1000};
    nanosleep(&pause, NULL);
    uint8_t byte = (uint8_t)i;
    assert_int_equal(shmrpc_channel_send(s->ch, SHMRPC_BINARY, &byte, 1, -1), 0);
  }
  return NULL;
}

/* Opens a pair whose client sends `count` one-byte messages, each after
 * its pause, receives them on the server side (spin cap `spin_ns`) and
 * returns the server's rx policy. */
static shmrpc_spin_policy_t receive_paced(uint32_t spin_ns, bool spin_fixed,
                                          const uint32_t *pauses_ms,
                                          int count) {
  test_pair_t pair;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = spin_ns;
  opts.spin_fixed = spin_fixed;
  test_pair_open(&pair, 4096, 4096, NULL, &opts);
  paced_sender_t sender = {&pair.client, pauses_ms, count};
  pthread_t thread;
  test_thread_start(&thread, send_paced, &sender);
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

/* A message every 5 ms, with a 50 µs cap. */
static shmrpc_spin_policy_t receive_at_ui_rate(bool spin_fixed, int count) {
  uint32_t pauses[16];
  assert_true(count <= 16);
  for (int i = 0; i < count; i++)
    pauses[i] = 5;
  return receive_paced(50 * US, spin_fixed, pauses, count);
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

/* --- end to end: a receiver whose peer is busy again --- */

/* With a 5 ms cap: six messages 60 ms apart take the receiver's budget to
 * 0 (idle periods), then messages 15 ms apart make waits a wake-up long in
 * a busy exchange (more than a cap, periods within 8 caps); after four of
 * them the receiver probes, spinning 40 ms, and catches the next message,
 * which brings its budget back. Without the probe it would park at once
 * for good and catch nothing. Counts only, and roomy times: a pause that
 * overruns by 25 ms on a loaded machine starts the count again (or makes
 * a probe park, and the next one wait for 8), and 24 messages leave room
 * for that. */
static void spin_policy_receiver_probes_when_the_peer_is_busy_again(void **state) {
  (void)state;
  enum { IDLE = 6, BUSY = 24 };
  uint32_t pauses[IDLE + BUSY];
  for (int i = 0; i < IDLE + BUSY; i++)
    pauses[i] = i < IDLE ? 60 : 15;
  shmrpc_spin_policy_t rx = receive_paced(5 * MS, false, pauses, IDLE + BUSY);
  assert_true(rx.probes >= 1);
  assert_true(rx.caught >= 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spin_policy_follows_the_shared_table),
      cmocka_unit_test(spin_policy_huge_cap_does_not_overflow),
      cmocka_unit_test(spin_policy_ui_rate_receiver_parks),
      cmocka_unit_test(spin_policy_fixed_channel_keeps_spinning),
      cmocka_unit_test(spin_policy_receiver_probes_when_the_peer_is_busy_again),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
