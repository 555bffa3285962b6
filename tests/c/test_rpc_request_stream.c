/* The dispatcher's request streams (client-streaming and bidirectional
 * calls, docs/PROTOCOL.md section 7) against the fake client of
 * rpc_fake_client.h: credit granted and granted back, the rules a client
 * must keep (each break answered INVALID_ARGUMENT), cancel and deadline
 * reaching a handler blocked in a read, on the dispatch thread (Sum) and
 * on another thread (Chat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_fake_client.h"
#include "rpc_test.shmrpc.h"

#define WINDOW 4u
#define SUM_ID rpctest_RpcTest_Sum_ID
#define SUM_HASH rpctest_RpcTest_Sum_SCHEMA_HASH
#define CHAT_ID rpctest_RpcTest_Chat_ID
#define CHAT_HASH rpctest_RpcTest_Chat_SCHEMA_HASH

/* --- handlers --- */

static struct {
  pthread_mutex_t lock;
  uint32_t delay_ms; /* Sum sleeps this long before its first read */
  int ended;         /* handlers that returned */
  int status;        /* what the last read returned when its loop ended */
  uint32_t read;     /* messages the last handler read */
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record(int status, uint32_t read) {
  pthread_mutex_lock(&g.lock);
  g.ended++;
  g.status = status;
  g.read = read;
  pthread_mutex_unlock(&g.lock);
}

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static int sum(shmrpc_call_t *call, rpctest_SumReply *res) {
  if (g.delay_ms > 0)
    sleep_ms(g.delay_ms);
  const rpctest_SumItem *item;
  int status;
  while ((status = rpctest_RpcTest_Sum_read(call, &item)) ==
             SHMRPC_STATUS_OK &&
         item != NULL) {
    res->count++;
    res->total += item->value;
  }
  record(status, res->count);
  return status;
}

static pthread_t chat_thread;
static bool chat_started;

static void *chat_main(void *arg) {
  shmrpc_call_t *call = arg;
  rpctest_SumReply totals = rpctest_SumReply_init_zero;
  const rpctest_SumItem *item;
  int status;
  while ((status = rpctest_RpcTest_Chat_read(call, &item)) ==
             SHMRPC_STATUS_OK &&
         item != NULL) {
    totals.count++;
    totals.total += item->value;
    status = rpctest_RpcTest_Chat_write(call, &totals);
    if (status != SHMRPC_STATUS_OK)
      break;
  }
  record(status, totals.count);
  rpctest_RpcTest_Chat_finish(call, status);
  return NULL;
}

static int chat(shmrpc_call_t *call) {
  test_thread_start(&chat_thread, chat_main, call);
  chat_started = true;
  return SHMRPC_DEFERRED;
}

/* Never answers; a cancel (or a protocol violation) finishes it. */
static void hang_cancelled(shmrpc_call_t *call, void *user) {
  (void)user;
  shmrpc_call_finish(call, SHMRPC_STATUS_CANCELLED, NULL);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_cancelled, NULL);
  return SHMRPC_DEFERRED;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Sum = sum, .Chat = chat, .Hang = hang};

/* --- fixture and envelopes --- */

static fixture_t *start(void) {
  shmrpc_server_options_t opts;
  shmrpc_server_options_init(&opts);
  opts.request_window = WINDOW;
  fixture_t *f = fixture_create(1 << 16, &opts);
  assert_int_equal(shmrpc_server_register(f->server, &rpctest_RpcTest_service,
                                          &handlers, NULL),
                   0);
  g.delay_ms = 0;
  g.ended = 0;
  g.status = -1;
  g.read = 0;
  fixture_run(f);
  return f;
}

static void stop(fixture_t *f) {
  fixture_close(f);
  if (chat_started) {
    pthread_join(chat_thread, NULL);
    chat_started = false;
  }
  fixture_free(f);
}

/* Opens a request-streaming call: a REQUEST without a body. */
static void open_call(fixture_t *f, uint32_t call_id, uint32_t method_id,
                      uint32_t hash, uint32_t timeout_us, uint32_t credit) {
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = call_id,
                         .method_id = method_id,
                         .schema_hash = hash,
                         .timeout_us = timeout_us,
                         .credit = credit};
  send_envelope(f, &h, NULL, NULL);
}

static void send_item(fixture_t *f, uint32_t call_id, int64_t value) {
  rpctest_SumItem item = {.value = value};
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST_MESSAGE,
                         .call_id = call_id};
  send_envelope(f, &h, rpctest_SumItem_fields, &item);
}

static void expect_credit(fixture_t *f, uint32_t call_id, uint32_t credit) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_CREDIT);
  assert_int_equal(r.env.call_id, call_id);
  assert_int_equal(r.env.credit, credit);
  assert_int_equal(r.env.body_len, 0);
  free(r.body);
}

/* Expects a RESPONSE (Sum) or STREAM_MESSAGE (Chat) with these totals. */
static void expect_totals(fixture_t *f, uint8_t kind, uint32_t call_id,
                          int64_t total, uint32_t count) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, kind);
  assert_int_equal(r.env.call_id, call_id);
  rpctest_SumReply reply = rpctest_SumReply_init_zero;
  decode(&r, rpctest_SumReply_fields, &reply);
  assert_int_equal(reply.total, total);
  assert_int_equal(reply.count, count);
  free(r.body);
}

static void wait_ended(int n) {
  double until = test_now_ms() + RECV_TIMEOUT_MS;
  for (;;) {
    pthread_mutex_lock(&g.lock);
    int ended = g.ended;
    pthread_mutex_unlock(&g.lock);
    if (ended >= n)
      return;
    assert_true(test_now_ms() < until);
    sleep_ms(1);
  }
}

/* --- tests --- */

static void request_stream_sum_reads_until_end(void **state) {
  (void)state;
  fixture_t *f = start();
  open_call(f, 1, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 1, WINDOW);
  send_item(f, 1, 1);
  send_item(f, 1, 2);
  send_item(f, 1, 3);
  send_control(f, SHMRPC_RPC_REQUEST_END, 1, 0);
  /* Half a window read: granted back. */
  expect_credit(f, 1, WINDOW / 2);
  expect_totals(f, SHMRPC_RPC_RESPONSE, 1, 6, 3);
  expect_nothing(f, 20);
  assert_int_equal(g.status, SHMRPC_STATUS_OK);
  stop(f);
}

static void request_stream_credit_granted_back_as_read(void **state) {
  (void)state;
  fixture_t *f = start();
  open_call(f, 2, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 2, WINDOW);
  /* Three rounds of a whole window: each only after its credit came. */
  uint32_t sent = 0;
  for (int round = 0; round < 3; round++) {
    for (uint32_t i = 0; i < WINDOW; i++)
      send_item(f, 2, ++sent);
    expect_credit(f, 2, WINDOW / 2);
    expect_credit(f, 2, WINDOW / 2);
  }
  send_control(f, SHMRPC_RPC_REQUEST_END, 2, 0);
  expect_totals(f, SHMRPC_RPC_RESPONSE, 2, (int64_t)sent * (sent + 1) / 2,
                sent);
  stop(f);
}

static void request_stream_beyond_credit_fails_call(void **state) {
  (void)state;
  fixture_t *f = start();
  g.delay_ms = 100; /* everything below arrives before the first read */
  open_call(f, 3, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 3, WINDOW);
  for (uint32_t i = 0; i <= WINDOW; i++)
    send_item(f, 3, 1);
  expect_error(f, 3, SHMRPC_STATUS_INVALID_ARGUMENT,
               "protocol violation: more request messages than the credit "
               "granted");
  wait_ended(1);
  assert_int_equal(g.status, SHMRPC_STATUS_INVALID_ARGUMENT);
  expect_nothing(f, 20);
  stop(f);
}

static void request_stream_message_after_end_fails_call(void **state) {
  (void)state;
  fixture_t *f = start();
  g.delay_ms = 100;
  open_call(f, 4, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 4, WINDOW);
  send_control(f, SHMRPC_RPC_REQUEST_END, 4, 0);
  send_item(f, 4, 1);
  expect_error(f, 4, SHMRPC_STATUS_INVALID_ARGUMENT,
               "protocol violation: a request stream message after "
               "REQUEST_END");
  wait_ended(1);
  assert_int_equal(g.status, SHMRPC_STATUS_INVALID_ARGUMENT);
  stop(f);
}

static void request_stream_message_for_unary_call_fails_it(void **state) {
  (void)state;
  fixture_t *f = start();
  rpctest_EchoRequest req = rpctest_EchoRequest_init_zero;
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = 5,
                         .method_id = rpctest_RpcTest_Hang_ID,
                         .schema_hash = rpctest_RpcTest_Hang_SCHEMA_HASH};
  send_envelope(f, &h, rpctest_EchoRequest_fields, &req);
  send_item(f, 5, 1);
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT,
               "protocol violation: a request stream message for a call "
               "without a request stream");
  /* For a call not in flight: dropped, as a late CANCEL or CREDIT is. */
  send_item(f, 77, 1);
  send_control(f, SHMRPC_RPC_REQUEST_END, 78, 0);
  expect_nothing(f, 50);
  stop(f);
}

static void request_stream_request_with_body_refused(void **state) {
  (void)state;
  fixture_t *f = start();
  rpctest_SumItem item = {.value = 1};
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = 6,
                         .method_id = SUM_ID,
                         .schema_hash = SUM_HASH};
  send_envelope(f, &h, rpctest_SumItem_fields, &item);
  expect_error(f, 6, SHMRPC_STATUS_INVALID_ARGUMENT,
               "rpctest.RpcTest/Sum: protocol violation: the REQUEST of a "
               "call with a request stream carries a body");
  assert_int_equal(g.ended, 0);
  stop(f);
}

static void request_stream_undecodable_message(void **state) {
  (void)state;
  fixture_t *f = start();
  open_call(f, 7, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 7, WINDOW);
  uint8_t buf[SHMRPC_ENVELOPE_HEADER_BYTES + 2];
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST_MESSAGE, .call_id = 7};
  shmrpc_envelope_write_header(&h, buf);
  buf[SHMRPC_ENVELOPE_HEADER_BYTES] = 0x22;     /* field 4, length-delimited */
  buf[SHMRPC_ENVELOPE_HEADER_BYTES + 1] = 0x7f; /* running past the end */
  send_raw(f, buf, sizeof buf);
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_ERROR);
  assert_int_equal(r.env.call_id, 7);
  assert_int_equal(r.env.status, SHMRPC_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr((const char *)r.body,
                         "request message does not decode: "));
  free(r.body);
  stop(f);
}

static void request_stream_cancel_reaches_blocked_read(void **state) {
  (void)state;
  fixture_t *f = start();
  open_call(f, 8, SUM_ID, SUM_HASH, 0, 0);
  expect_credit(f, 8, WINDOW);
  send_item(f, 8, 5);
  sleep_ms(20); /* the handler read it and waits for more */
  send_control(f, SHMRPC_RPC_CANCEL, 8, 0);
  wait_ended(1);
  assert_int_equal(g.status, SHMRPC_STATUS_CANCELLED);
  expect_nothing(f, 20); /* nothing for a cancelled call */
  stop(f);
}

static void request_stream_deadline_reaches_blocked_read(void **state) {
  (void)state;
  fixture_t *f = start();
  double started = test_now_ms();
  open_call(f, 9, SUM_ID, SUM_HASH, 50000, 0);
  expect_credit(f, 9, WINDOW);
  send_item(f, 9, 5);
  expect_error(f, 9, SHMRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
  double elapsed = test_now_ms() - started;
  assert_true(elapsed >= 49 && elapsed < 2000);
  wait_ended(1);
  assert_int_equal(g.status, SHMRPC_STATUS_DEADLINE_EXCEEDED);
  stop(f);
}

static void request_stream_bidi_on_another_thread(void **state) {
  (void)state;
  fixture_t *f = start();
  open_call(f, 10, CHAT_ID, CHAT_HASH, 0, 2); /* two responses at first */
  expect_credit(f, 10, WINDOW);
  send_item(f, 10, 1);
  send_item(f, 10, 2);
  send_item(f, 10, 3);
  /* Read two of three: half the window granted back; two answers. */
  reply_t r[3];
  for (int i = 0; i < 3; i++)
    r[i] = recv_reply(f);
  int credits = 0, messages = 0;
  for (int i = 0; i < 3; i++) {
    credits += r[i].env.kind == SHMRPC_RPC_CREDIT;
    messages += r[i].env.kind == SHMRPC_RPC_STREAM_MESSAGE;
    free(r[i].body);
  }
  assert_int_equal(credits, 1);
  assert_int_equal(messages, 2);
  /* The writer waits for response credit. */
  expect_nothing(f, 30);
  send_control(f, SHMRPC_RPC_CREDIT, 10, 1);
  expect_totals(f, SHMRPC_RPC_STREAM_MESSAGE, 10, 6, 3);
  send_control(f, SHMRPC_RPC_REQUEST_END, 10, 0);
  reply_t end = recv_reply(f);
  assert_int_equal(end.env.kind, SHMRPC_RPC_STREAM_END);
  assert_int_equal(end.env.status, SHMRPC_STATUS_OK);
  free(end.body);
  wait_ended(1);
  assert_int_equal(g.read, 3);
  stop(f);
}

static void request_stream_read_refused_for_other_kinds(void **state) {
  (void)state;
  const void *message = (const void *)1;
  assert_int_equal(shmrpc_call_read(NULL, &message),
                   SHMRPC_STATUS_FAILED_PRECONDITION);
  assert_null(message);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(request_stream_sum_reads_until_end),
      cmocka_unit_test(request_stream_credit_granted_back_as_read),
      cmocka_unit_test(request_stream_beyond_credit_fails_call),
      cmocka_unit_test(request_stream_message_after_end_fails_call),
      cmocka_unit_test(request_stream_message_for_unary_call_fails_it),
      cmocka_unit_test(request_stream_request_with_body_refused),
      cmocka_unit_test(request_stream_undecodable_message),
      cmocka_unit_test(request_stream_cancel_reaches_blocked_read),
      cmocka_unit_test(request_stream_deadline_reaches_blocked_read),
      cmocka_unit_test(request_stream_bidi_on_another_thread),
      cmocka_unit_test(request_stream_read_refused_for_other_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
