/* The peer-state table of docs/PROTOCOL.md section 5, from the golden file
 * tests/vectors/state/transitions.json (tests/js/state-table.test.ts
 * drives the same file through the TypeScript channel): what each event
 * does to a side's state word, what a side does on seeing each peer state,
 * and how a waker treats each wait value. Each row is checked on real
 * channels over a real segment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "test_support.h"

#define CAP 256u

static char *table;

/* The value of "key" in the one-line JSON object starting at `row`: a
 * string's text or a bare token (number, true, false). The table keeps
 * one object per line, so this is all the JSON a test needs. */
static const char *field(const char *row, const char *key) {
  static char value[64];
  char pattern[40];
  snprintf(pattern, sizeof pattern, "\"%s\": ", key);
  const char *end_of_row = strchr(row, '\n');
  const char *at = strstr(row, pattern);
  if (at == NULL || (end_of_row != NULL && at > end_of_row))
    fail_msg("row without \"%s\": %.80s", key, row);
  at += strlen(pattern);
  bool quoted = *at == '"';
  at += quoted;
  size_t n = quoted ? strcspn(at, "\"") : strcspn(at, ",}");
  assert_true(n < sizeof value);
  memcpy(value, at, n);
  value[n] = '\0';
  return value;
}

static uint32_t number(const char *row, const char *key) {
  return (uint32_t)strtoul(field(row, key), NULL, 10);
}

static uint32_t state_named(const char *name) {
  static const char *const names[] = {"ABSENT", "OPEN", "CLOSED", "FAILED",
                                      "DEAD"};
  for (uint32_t i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  fail_msg("unknown state %s", name);
  return 0;
}

/* The outcome named in the table as a C result: "ok" 0, "wait" 0 (a
 * zero-timeout receive that finds nothing), or an error code's name. */
static int outcome_named(const char *name) {
  if (strcmp(name, "ok") == 0 || strcmp(name, "wait") == 0)
    return 0;
  for (int err = -1; err >= -9; err--)
    if (strcmp(name, shmrpc_err_name(err)) == 0)
      return err;
  fail_msg("unknown outcome %s", name);
  return 0;
}

/* Calls fn for each row of section `name` (a line holding `marker`). */
static int for_each_row(const char *name, const char *marker,
                        void (*fn)(const char *row)) {
  char heading[48];
  snprintf(heading, sizeof heading, "\"%s\": [", name);
  const char *row = strstr(table, heading);
  assert_non_null(row);
  const char *end = strstr(row, "]");
  int rows = 0;
  while ((row = strstr(row + 1, marker)) != NULL && row < end) {
    fn(row);
    rows++;
  }
  return rows;
}

static uint32_t *wait_word(uint8_t *mem, int i) {
  static const uint32_t offsets[] = {
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT,
      SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT};
  return (uint32_t *)(void *)(mem + offsets[i]);
}

/* --- transitions: the server side ("self") goes from `from` by `event` --- */

static void apply(shmrpc_channel_t *server, uint8_t *mem, const char *event) {
  static const shmrpc_parking_t parking = {0};
  if (strcmp(event, "open") == 0)
    assert_int_equal(shmrpc_channel_open(server, mem,
                                         shmrpc_segment_size(CAP, CAP),
                                         SHMRPC_SIDE_SERVER, NULL),
                     0);
  else if (strcmp(event, "close") == 0)
    shmrpc_channel_close(server);
  else if (strcmp(event, "violation") == 0)
    assert_int_equal(shmrpc__channel_fail(server), SHMRPC_EPROTO);
  else if (strcmp(event, "mark_dead") == 0)
    shmrpc_segment_mark_dead(mem, SHMRPC_SIDE_SERVER, &parking);
  else
    fail_msg("unknown event %s", event);
}

static void check_transition(const char *row) {
  char event[16];
  snprintf(event, sizeof event, "%s", field(row, "event"));
  uint32_t from = state_named(field(row, "from"));
  uint32_t to = state_named(field(row, "to"));
  bool wakes_all = strcmp(field(row, "wakes_all"), "true") == 0;

  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  uint32_t *server_state = test_word(&pair, SHMRPC_OFF_SERVER_STATE);
  /* Bring the server to `from` the way the protocol gets there. */
  if (from == SHMRPC_STATE_ABSENT) {
    shmrpc_channel_destroy(&pair.server);
    *server_state = SHMRPC_STATE_ABSENT;
  } else if (from == SHMRPC_STATE_CLOSED) {
    apply(&pair.server, pair.mem, "close");
  } else if (from == SHMRPC_STATE_FAILED) {
    apply(&pair.server, pair.mem, "violation");
  } else if (from == SHMRPC_STATE_DEAD) {
    apply(&pair.server, pair.mem, "mark_dead");
  }
  assert_int_equal(*server_state, from);
  for (int i = 0; i < 4; i++)
    *wait_word(pair.mem, i) = SHMRPC_WAIT_FUTEX;

  apply(&pair.server, pair.mem, event);
  if (*server_state != to)
    fail_msg("%s from %s: state %u, table says %u", event,
             field(row, "from"), *server_state, to);
  for (int i = 0; i < 4; i++)
    assert_int_equal(*wait_word(pair.mem, i),
                     wakes_all ? SHMRPC_WAIT_NONE : SHMRPC_WAIT_FUTEX);
  if (from == SHMRPC_STATE_ABSENT && strcmp(event, "open") != 0) {
    /* The server was never opened: nothing of it to release. */
    shmrpc_channel_close(&pair.client);
    shmrpc_channel_destroy(&pair.client);
    free(pair.mem);
  } else {
    test_pair_free(&pair);
  }
}

static void state_table_transitions(void **state) {
  (void)state;
  assert_int_equal(for_each_row("transitions", "{\"event\"", check_transition),
                   11);
}

/* --- what the server does on seeing each client state --- */

typedef struct parked_recv_s {
  shmrpc_channel_t *ch;
  int timeout_ms;
  int result;
} parked_recv_t;

static void *recv_in_thread(void *arg) {
  parked_recv_t *p = arg;
  shmrpc_msg_t msg;
  p->result = shmrpc_channel_recv(p->ch, &msg, p->timeout_ms);
  return NULL;
}

/* Stores the client's state as a peer (or an observer) would. */
static void set_client_state(test_pair_t *pair, uint32_t value) {
  static const shmrpc_parking_t parking = {0};
  shmrpc__store_seq_cst(test_word(pair, SHMRPC_OFF_CLIENT_STATE), value);
  shmrpc_segment_wake_all(pair->mem, &parking);
}

static void check_peer_state(const char *row) {
  uint32_t peer = number(row, "peer");
  int send = outcome_named(field(row, "send"));
  int receive_empty = outcome_named(field(row, "receive_empty"));
  assert_string_equal(field(row, "receive_published"), "deliver");

  /* Published before the state changed: delivered, then the outcome. */
  test_pair_t pair;
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  assert_int_equal(shmrpc_channel_send(&pair.client, SHMRPC_TEXT, "hi", 2, 0),
                   0);
  set_client_state(&pair, peer);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_memory_equal(msg.data, "hi", 2);
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), receive_empty);
  assert_int_equal(shmrpc_channel_send(&pair.server, SHMRPC_TEXT, "x", 1, 0),
                   send);
  test_pair_free(&pair);

  /* A receive parked before the change ends with the same outcome (one
   * that goes on waiting runs into its timeout instead). */
  test_pair_open(&pair, CAP, CAP, NULL, NULL);
  parked_recv_t parked = {&pair.server, receive_empty == 0 ? 200 : -1, 1};
  pthread_t thread;
  test_thread_start(&thread, recv_in_thread, &parked);
  test_wait_for_word(wait_word(pair.mem, 0), SHMRPC_WAIT_FUTEX);
  set_client_state(&pair, peer);
  pthread_join(thread, NULL);
  assert_int_equal(parked.result, receive_empty);
  test_pair_free(&pair);
}

static void state_table_on_peer_state(void **state) {
  (void)state;
  assert_int_equal(for_each_row("on_peer_state", "{\"peer\"", check_peer_state),
                   7);
}

/* --- a waker on each wait value --- */

static void check_wake(const char *row) {
  uint32_t value = number(row, "word");
  const char *action = field(row, "action");
  bool wake = strcmp(action, "wake") == 0;
  bool wake_loop = strcmp(action, "wake_loop") == 0;
  test_counting_t c;
  test_counting_init(&c);
  shmrpc_parking_t parking = test_counting_parking(&c, true);
  uint32_t word = value;
  shmrpc_wake(&word, &parking);
  assert_int_equal(test_count(&c.wakes), wake ? 1 : 0);
  assert_int_equal(test_count(&c.loop_wakes), wake_loop ? 1 : 0);
  assert_int_equal(word, number(row, "after"));
}

static void state_table_wake(void **state) {
  (void)state;
  assert_int_equal(for_each_row("wake", "{\"word\"", check_wake), 5);
}

static void state_table_state_values(void **state) {
  (void)state;
  assert_non_null(strstr(table, "\"states\": {\"ABSENT\": 0, \"OPEN\": 1, "
                                "\"CLOSED\": 2, \"FAILED\": 3, \"DEAD\": 4}"));
  assert_int_equal(SHMRPC_STATE_DEAD, 4);
}

static int load_table(void **state) {
  (void)state;
  size_t len;
  uint8_t *bytes = test_read_vector("state/transitions.json", &len);
  table = realloc(bytes, len + 1);
  assert_non_null(table);
  table[len] = '\0';
  return 0;
}

static int free_table(void **state) {
  (void)state;
  free(table);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(state_table_state_values),
      cmocka_unit_test(state_table_transitions),
      cmocka_unit_test(state_table_on_peer_state),
      cmocka_unit_test(state_table_wake),
  };
  return cmocka_run_group_tests(tests, load_table, free_table);
}
