/* The RPC dispatcher against a fake client (rpc_fake_client.h): the test
 * writes envelopes into a real segment through the client side of a
 * channel pair and reads what the server (shmrpc_server_run on its own
 * thread) answers. Handlers are
 * the rpctest.RpcTest glue generated from tests/services/rpc_test.proto,
 * with behaviour the tests steer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_fake_client.h"
#include "rpc_test.shmrpc.h"
#define ECHO_HASH rpctest_RpcTest_Echo_SCHEMA_HASH
#define ECHO_DEFERRED_HASH rpctest_RpcTest_EchoDeferred_SCHEMA_HASH
#define HANG_HASH rpctest_RpcTest_Hang_SCHEMA_HASH
#define COUNT_HASH rpctest_RpcTest_Count_SCHEMA_HASH
#define COUNT_DEFERRED_HASH rpctest_RpcTest_CountDeferred_SCHEMA_HASH
#define STREAM_STOPPED_EVENT "rpctest.RpcTest/StreamStopped"

/* --- handlers --- */

#define MAX_HELD 256

/* Calls the EchoDeferred handler deferred, for the test to finish. */
static struct {
  pthread_mutex_t lock;
  shmrpc_call_t *held[MAX_HELD];
  rpctest_EchoReply *held_res[MAX_HELD];
  size_t held_count;
  int hooks_run;
  int last_hook_cancelled;
  int stream_status; /* what the last stream's write returned */
  uint32_t stream_sent;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  if (req->status != 0) {
    if (req->error_message != NULL)
      shmrpc_call_set_error(call, "%s", req->error_message);
    /* -1 would read as SHMRPC_DEFERRED: the call would never be answered. */
    return req->status == SHMRPC_DEFERRED ? SHMRPC_STATUS_UNKNOWN : req->status;
  }
  res->call_id = shmrpc_call_id(call);
  res->text = req->text != NULL ? strdup(req->text) : NULL;
  if (req->payload != NULL) {
    res->payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(req->payload->size));
    res->payload->size = req->payload->size;
    memcpy(res->payload->bytes, req->payload->bytes, req->payload->size);
  }
  int64_t left = shmrpc_call_time_left_us(call);
  res->time_left_ms = left < 0 ? -1 : left / 1000;
  return SHMRPC_STATUS_OK;
}

static int echo_deferred(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                         rpctest_EchoReply *res) {
  (void)req;
  pthread_mutex_lock(&g.lock);
  assert_true(g.held_count < MAX_HELD);
  g.held_res[g.held_count] = res;
  g.held[g.held_count++] = call;
  pthread_mutex_unlock(&g.lock);
  return SHMRPC_DEFERRED;
}

static void hang_hook(shmrpc_call_t *call, void *user) {
  (void)user;
  pthread_mutex_lock(&g.lock);
  g.hooks_run++;
  g.last_hook_cancelled = shmrpc_call_cancelled(call);
  pthread_mutex_unlock(&g.lock);
  assert_int_not_equal(shmrpc_call_finish(call, SHMRPC_STATUS_OK, NULL),
                       SHMRPC_STATUS_OK);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_hook, NULL);
  return SHMRPC_DEFERRED;
}

static int stream(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  rpctest_CountItem item = rpctest_CountItem_init_zero;
  int status = SHMRPC_STATUS_OK;
  uint32_t i = 0;
  for (; i < req->count; i++) {
    item.index = i;
    status = rpctest_RpcTest_Count_write(call, &item);
    if (status != SHMRPC_STATUS_OK)
      break;
  }
  pthread_mutex_lock(&g.lock);
  g.stream_status = status;
  g.stream_sent = i;
  pthread_mutex_unlock(&g.lock);
  /* Fails with ECLOSED once the client has gone; the tests that expect the
   * event check that it arrives. */
  rpctest_StreamStopped stopped = {shmrpc_call_id(call), i, status};
  (void)shmrpc_server_emit(shmrpc_call_server(call),
                           shmrpc_event_id(STREAM_STOPPED_EVENT),
                           rpctest_StreamStopped_fields, &stopped);
  return status;
}

static int count(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  return stream(call, req);
}

typedef struct stream_job_s {
  shmrpc_call_t *call;
  rpctest_CountRequest req;
} stream_job_t;

static pthread_t stream_thread;
static bool stream_thread_started;

static void *stream_main(void *arg) {
  stream_job_t *job = arg;
  int status = stream(job->call, &job->req);
  shmrpc_call_finish(job->call, status, NULL);
  free(job);
  return NULL;
}

static int count_deferred(shmrpc_call_t *call,
                          const rpctest_CountRequest *req) {
  stream_job_t *job = malloc(sizeof *job);
  job->call = call;
  job->req = *req;
  test_thread_start(&stream_thread, stream_main, job);
  stream_thread_started = true;
  return SHMRPC_DEFERRED;
}

static int get_stats(shmrpc_call_t *call, const rpctest_StatsRequest *req,
                     rpctest_Stats *res) {
  (void)req;
  res->calls_in_flight =
      (uint32_t)shmrpc_server_calls_in_flight(shmrpc_call_server(call));
  return SHMRPC_STATUS_OK;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Echo = echo,
    .EchoDeferred = echo_deferred,
    .Hang = hang,
    .Count = count,
    .CountDeferred = count_deferred,
    .GetStats = get_stats,
};

/* --- fixture: the fake client (rpc_fake_client.h) with these handlers --- */

static fixture_t *fixture_start(uint32_t capacity, uint32_t max_calls) {
  shmrpc_server_options_t opts;
  shmrpc_server_options_init(&opts);
  opts.max_calls = max_calls;
  fixture_t *f = fixture_create(capacity, &opts);
  assert_int_equal(shmrpc_server_register(f->server, &rpctest_RpcTest_service,
                                          &handlers, &g),
                   0);
  pthread_mutex_lock(&g.lock);
  g.held_count = 0;
  g.hooks_run = 0;
  g.stream_status = -1;
  g.stream_sent = 0;
  pthread_mutex_unlock(&g.lock);
  fixture_run(f);
  return f;
}

/* Closes the client side, waits for the server to return and checks that
 * no call is left. */
static void fixture_stop(fixture_t *f) {
  fixture_close(f);
  if (stream_thread_started) {
    pthread_join(stream_thread, NULL);
    stream_thread_started = false;
  }
  fixture_free(f);
}

/* --- the fake client's envelopes for these methods --- */

static void send_echo(fixture_t *f, uint32_t call_id, uint32_t method_id,
                      uint32_t hash, const rpctest_EchoRequest *req,
                      uint32_t timeout_us) {
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = call_id,
                         .method_id = method_id,
                         .schema_hash = hash,
                         .timeout_us = timeout_us};
  send_envelope(f, &h, rpctest_EchoRequest_fields, req);
}

static void send_count(fixture_t *f, uint32_t call_id, uint32_t method_id,
                       uint32_t hash, uint32_t n, uint32_t credit) {
  rpctest_CountRequest req = {.count = n};
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = call_id,
                         .method_id = method_id,
                         .schema_hash = hash,
                         .credit = credit};
  send_envelope(f, &h, rpctest_CountRequest_fields, &req);
}

static void expect_echo(fixture_t *f, uint32_t call_id, const char *text) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
  assert_int_equal(r.env.call_id, call_id);
  rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
  decode(&r, rpctest_EchoReply_fields, &reply);
  assert_string_equal(reply.text != NULL ? reply.text : "", text);
  pb_release(rpctest_EchoReply_fields, &reply);
  free(r.body);
}

static uint32_t expect_stats_in_flight(fixture_t *f, uint32_t call_id) {
  rpctest_StatsRequest req = rpctest_StatsRequest_init_zero;
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = call_id,
                         .method_id = rpctest_RpcTest_GetStats_ID,
                         .schema_hash = rpctest_RpcTest_GetStats_SCHEMA_HASH};
  send_envelope(f, &h, rpctest_StatsRequest_fields, &req);
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
  assert_int_equal(r.env.call_id, call_id);
  rpctest_Stats stats = rpctest_Stats_init_zero;
  decode(&r, rpctest_Stats_fields, &stats);
  free(r.body);
  return stats.calls_in_flight - 1; /* not counting GetStats itself */
}

static size_t held_count(void) {
  pthread_mutex_lock(&g.lock);
  size_t n = g.held_count;
  pthread_mutex_unlock(&g.lock);
  return n;
}

static void wait_held(size_t n) {
  double until = test_now_ms() + RECV_TIMEOUT_MS;
  while (held_count() < n) {
    assert_true(test_now_ms() < until);
    sched_yield();
  }
}

/* Waits until no call is alive: a call is freed after its cancel hook
 * returns, so a hook that has run does not mean its call is gone yet. */
static void wait_no_call_alive(shmrpc_server_t *server) {
  double until = test_now_ms() + RECV_TIMEOUT_MS;
  while (shmrpc_server_calls_alive(server) != 0) {
    assert_true(test_now_ms() < until);
    sched_yield();
  }
}

static void wait_hooks(int n) {
  double until = test_now_ms() + RECV_TIMEOUT_MS;
  for (;;) {
    pthread_mutex_lock(&g.lock);
    int run = g.hooks_run;
    pthread_mutex_unlock(&g.lock);
    assert_true(run <= n);
    if (run == n)
      return;
    assert_true(test_now_ms() < until);
    sched_yield();
  }
}

/* --- tests --- */

static void server_unary_ok(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "hello"};
  send_echo(f, 1, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
  assert_int_equal(r.env.call_id, 1);
  rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
  decode(&r, rpctest_EchoReply_fields, &reply);
  assert_string_equal(reply.text, "hello");
  assert_int_equal(reply.call_id, 1);
  assert_int_equal(reply.time_left_ms, -1);
  pb_release(rpctest_EchoReply_fields, &reply);
  free(r.body);
  fixture_stop(f);
}

static void server_deadline_reaches_handler(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "x"};
  send_echo(f, 2, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 5000000);
  reply_t r = recv_reply(f);
  rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
  decode(&r, rpctest_EchoReply_fields, &reply);
  assert_true(reply.time_left_ms > 4000 && reply.time_left_ms <= 5000);
  pb_release(rpctest_EchoReply_fields, &reply);
  free(r.body);
  fixture_stop(f);
}

static void server_unknown_method_unimplemented(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "x"};
  send_echo(f, 3, 0x00000001, ECHO_HASH, &req, 0);
  expect_error(f, 3, SHMRPC_STATUS_UNIMPLEMENTED,
               "unknown method id 0x00000001");
  fixture_stop(f);
}

static void server_schema_mismatch_failed_precondition(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "x"};
  send_echo(f, 4, rpctest_RpcTest_Echo_ID, ECHO_HASH ^ 1, &req, 0);
  expect_error(f, 4, SHMRPC_STATUS_FAILED_PRECONDITION,
               "rpctest.RpcTest/Echo: the client's request or response type or "
               "call kind differs from the server's; generate both from "
               "compatible .proto files (docs/PROTOCOL.md section 8)");
  fixture_stop(f);
}

static void server_undecodable_request_invalid_argument(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  static const struct {
    uint8_t bytes[8];
    size_t len;
  } bodies[] = {
      {{0x0a, 0x7f, 'h', 'i'}, 4}, /* string length past the end */
      {{0x0a, 0xf0, 0xff, 0xff, 0xff, 0x0f}, 6}, /* a 4 GiB string */
      {{0x12, 0xff, 0xff, 0x03}, 4}, /* 64 KiB of bytes in a 4-byte body */
      {{0x1a, 0x01, 0x00}, 3},       /* delay_ms with wire type 2 */
      {{0x18, 0xff, 0xff, 0xff}, 4}, /* varint cut short */
      {{0x07, 0x00}, 2},             /* wire type 7 */
  };
  for (uint32_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    uint8_t buf[SHMRPC_ENVELOPE_HEADER_BYTES + 8];
    shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                           .call_id = 10 + i,
                           .method_id = rpctest_RpcTest_Echo_ID,
                           .schema_hash = ECHO_HASH};
    shmrpc_envelope_write_header(&h, buf);
    memcpy(buf + SHMRPC_ENVELOPE_HEADER_BYTES, bodies[i].bytes, bodies[i].len);
    send_raw(f, buf, SHMRPC_ENVELOPE_HEADER_BYTES + bodies[i].len);
    reply_t r = recv_reply(f);
    assert_int_equal(r.env.kind, SHMRPC_RPC_ERROR);
    assert_int_equal(r.env.call_id, 10 + i);
    assert_int_equal(r.env.status, SHMRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr((const char *)r.body, "request does not decode"));
    free(r.body);
  }
  assert_int_equal(expect_stats_in_flight(f, 20), 0);
  fixture_stop(f);
}

static void server_handler_status_passed_through(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  for (int status = 1; status <= 16; status++) {
    rpctest_EchoRequest req = {.status = status, .error_message = "because"};
    send_echo(f, (uint32_t)status, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
    expect_error(f, (uint32_t)status, (uint32_t)status, "because");
  }
  rpctest_EchoRequest plain = {.status = SHMRPC_STATUS_PERMISSION_DENIED};
  send_echo(f, 30, rpctest_RpcTest_Echo_ID, ECHO_HASH, &plain, 0);
  expect_error(f, 30, SHMRPC_STATUS_PERMISSION_DENIED, "PERMISSION_DENIED");
  rpctest_EchoRequest odd = {.status = 99};
  send_echo(f, 31, rpctest_RpcTest_Echo_ID, ECHO_HASH, &odd, 0);
  expect_error(f, 31, SHMRPC_STATUS_UNKNOWN, "UNKNOWN");
  fixture_stop(f);
}

static void server_malformed_envelopes_answered_or_dropped(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  uint8_t buf[SHMRPC_ENVELOPE_HEADER_BYTES];
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_CANCEL, .call_id = 5};
  shmrpc_envelope_write_header(&h, buf);

  send_raw(f, buf, 7); /* no call id: dropped */
  send_raw(f, buf, 0);
  send_raw(f, buf, 12); /* call id readable: answered */
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT,
               "envelope shorter than its 28-byte header");

  buf[0] = 2;
  send_raw(f, buf, sizeof buf);
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT,
               "unsupported envelope version");
  buf[0] = 1;
  buf[1] = 200;
  send_raw(f, buf, sizeof buf);
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT, "unknown envelope kind");
  buf[1] = SHMRPC_RPC_RESPONSE; /* a kind only servers send */
  send_raw(f, buf, sizeof buf);
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT,
               "envelope kind not sent by clients");

  /* Call id 0 cannot be answered; CANCEL and CREDIT for unknown calls are
   * ignored; TEXT and BINARY go to on_other_message. */
  rpctest_EchoRequest req = {.text = "x"};
  send_echo(f, 0, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  send_control(f, SHMRPC_RPC_CANCEL, 77, 0);
  send_control(f, SHMRPC_RPC_CREDIT, 78, 5);
  assert_int_equal(
      shmrpc_channel_send(&f->pair.client, SHMRPC_TEXT, "hi", 2, 1000), 0);
  assert_int_equal(
      shmrpc_channel_send(&f->pair.client, SHMRPC_BINARY, "\x01", 1, 1000), 0);
  expect_nothing(f, 50);
  assert_int_equal(__atomic_load_n(&f->other_messages, __ATOMIC_RELAXED), 2);
  send_echo(f, 6, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  expect_echo(f, 6, "x");
  fixture_stop(f);
}

/* Random garbage in COMMAND messages never crashes the server and never
 * stops it from answering a valid call afterwards. */
static void server_random_envelopes_survived(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  uint8_t buf[96];
  for (uint64_t seed = 1; seed <= 2000; seed++) {
    test_fill(buf, sizeof buf, seed);
    size_t len = (size_t)(seed % sizeof buf);
    buf[0] = 1;                            /* mostly the right version, */
    buf[1] = (uint8_t)(seed % 10);         /* kinds 0-9, */
    buf[4] = buf[5] = buf[6] = buf[7] = 0; /* call id 0: nothing answers */
    if (seed % 3 == 0) {                   /* except a third of them */
      buf[4] = (uint8_t)(100 + seed % 50);
    }
    send_raw(f, buf, len);
    reply_t r;
    while (try_recv(f, &r, 0))
      free(r.body);
  }
  /* Whatever is still queued arrives before this reply. */
  rpctest_EchoRequest req = {.text = "alive"};
  send_echo(f, 99999, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  for (;;) {
    reply_t r = recv_reply(f);
    bool done = r.env.call_id == 99999;
    if (done)
      assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
    free(r.body);
    if (done)
      break;
  }
  fixture_stop(f);
}

static void server_duplicate_call_id_rejected(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest first = {.text = "first"};
  send_echo(f, 5, rpctest_RpcTest_EchoDeferred_ID, ECHO_DEFERRED_HASH, &first,
            0);
  wait_held(1);
  rpctest_EchoRequest second = {.text = "second"};
  send_echo(f, 5, rpctest_RpcTest_Echo_ID, ECHO_HASH, &second, 0);
  expect_error(f, 5, SHMRPC_STATUS_INVALID_ARGUMENT,
               "call id already in flight");
  /* The first call is undisturbed. */
  g.held_res[0]->text = strdup("first");
  assert_int_equal(
      shmrpc_call_finish(g.held[0], SHMRPC_STATUS_OK, g.held_res[0]),
      SHMRPC_STATUS_OK);
  expect_echo(f, 5, "first");
  fixture_stop(f);
}

static void *finish_all_reversed(void *arg) {
  (void)arg;
  for (size_t i = g.held_count; i-- > 0;) {
    char text[32];
    snprintf(text, sizeof text, "#%zu", i);
    g.held_res[i]->text = strdup(text);
    assert_int_equal(
        shmrpc_call_finish(g.held[i], SHMRPC_STATUS_OK, g.held_res[i]),
        SHMRPC_STATUS_OK);
  }
  return NULL;
}

static void server_deferred_finish_from_another_thread(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 1024);
  const size_t n = 200;
  for (size_t i = 0; i < n; i++) {
    rpctest_EchoRequest req = {.text = "deferred"};
    send_echo(f, (uint32_t)(1000 + i), rpctest_RpcTest_EchoDeferred_ID,
              ECHO_DEFERRED_HASH, &req, 0);
  }
  wait_held(n);
  pthread_t finisher;
  test_thread_start(&finisher, finish_all_reversed, NULL);
  for (size_t k = 0; k < n; k++) {
    size_t i = n - 1 - k; /* finished in reverse: replies come out of order */
    char text[32];
    snprintf(text, sizeof text, "#%zu", i);
    expect_echo(f, (uint32_t)(1000 + i), text);
  }
  pthread_join(finisher, NULL);
  fixture_stop(f);
}

static void server_cancel_drops_reply(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "late"};
  send_echo(f, 8, rpctest_RpcTest_EchoDeferred_ID, ECHO_DEFERRED_HASH, &req, 0);
  wait_held(1);
  assert_false(shmrpc_call_cancelled(g.held[0]));
  send_control(f, SHMRPC_RPC_CANCEL, 8, 0);
  double until = test_now_ms() + RECV_TIMEOUT_MS;
  while (!shmrpc_call_cancelled(g.held[0]))
    assert_true(test_now_ms() < until);
  assert_int_equal(expect_stats_in_flight(f, 9), 0);
  g.held_res[0]->text = strdup("late");
  assert_int_equal(
      shmrpc_call_finish(g.held[0], SHMRPC_STATUS_OK, g.held_res[0]),
      SHMRPC_STATUS_CANCELLED);
  expect_nothing(f, 50);
  assert_int_equal(shmrpc_server_calls_abandoned(f->server), 1);
  fixture_stop(f);
}

static void server_deadline_expires_hanging_call(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "never"};
  double start = test_now_ms();
  send_echo(f, 11, rpctest_RpcTest_Hang_ID, HANG_HASH, &req, 30000);
  expect_error(f, 11, SHMRPC_STATUS_DEADLINE_EXCEEDED, "deadline exceeded");
  double elapsed = test_now_ms() - start;
  assert_true(elapsed >= 29.0);
  assert_true(elapsed < 1000.0);
  /* The ERROR goes out first, then the hook runs. */
  wait_hooks(1);
  pthread_mutex_lock(&g.lock);
  bool cancelled = g.last_hook_cancelled;
  pthread_mutex_unlock(&g.lock);
  assert_true(cancelled);
  assert_int_equal(shmrpc_server_calls_in_flight(f->server), 0);
  wait_no_call_alive(f->server);
  fixture_stop(f);
}

static void server_cancel_runs_hook(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "never"};
  send_echo(f, 12, rpctest_RpcTest_Hang_ID, HANG_HASH, &req, 0);
  expect_nothing(f, 20);
  assert_int_equal(shmrpc_server_calls_in_flight(f->server), 1);
  send_control(f, SHMRPC_RPC_CANCEL, 12, 0);
  assert_int_equal(expect_stats_in_flight(f, 13), 0);
  wait_hooks(1);
  expect_nothing(f, 20);
  fixture_stop(f);
}

static void expect_items(fixture_t *f, uint32_t call_id, uint32_t from,
                         uint32_t n) {
  for (uint32_t i = from; i < from + n; i++) {
    reply_t r = recv_reply(f);
    assert_int_equal(r.env.kind, SHMRPC_RPC_STREAM_MESSAGE);
    assert_int_equal(r.env.call_id, call_id);
    rpctest_CountItem item = rpctest_CountItem_init_zero;
    decode(&r, rpctest_CountItem_fields, &item);
    assert_int_equal(item.index, i);
    pb_release(rpctest_CountItem_fields, &item);
    free(r.body);
  }
}

static void expect_stopped_event(fixture_t *f, uint32_t call_id, uint32_t sent,
                                 int status) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_EVENT);
  assert_int_equal(r.env.method_id, shmrpc_event_id(STREAM_STOPPED_EVENT));
  rpctest_StreamStopped ev = rpctest_StreamStopped_init_zero;
  decode(&r, rpctest_StreamStopped_fields, &ev);
  assert_int_equal(ev.call_id, call_id);
  assert_int_equal(ev.sent, sent);
  assert_int_equal(ev.status, status);
  free(r.body);
}

static void expect_stream_end(fixture_t *f, uint32_t call_id, uint32_t status) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_STREAM_END);
  assert_int_equal(r.env.call_id, call_id);
  assert_int_equal(r.env.status, status);
  free(r.body);
}

/* On the dispatch thread the writer reads CREDIT itself, and queues a new
 * request until the stream handler returns. */
static void server_stream_credit_on_dispatch_thread(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  send_count(f, 21, rpctest_RpcTest_Count_ID, COUNT_HASH, 10, 3);
  expect_items(f, 21, 0, 3);
  expect_nothing(f, 30);
  rpctest_EchoRequest req = {.text = "queued"};
  send_echo(f, 22, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  expect_nothing(f, 30);
  send_control(f, SHMRPC_RPC_CREDIT, 21, 4);
  expect_items(f, 21, 3, 4);
  expect_nothing(f, 30);
  send_control(f, SHMRPC_RPC_CREDIT, 21, 100);
  expect_items(f, 21, 7, 3);
  expect_stopped_event(f, 21, 10, SHMRPC_STATUS_OK);
  expect_stream_end(f, 21, SHMRPC_STATUS_OK);
  expect_echo(f, 22, "queued");
  fixture_stop(f);
}

static void server_stream_cancel_while_waiting_for_credit(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  send_count(f, 23, rpctest_RpcTest_Count_ID, COUNT_HASH, 100, 2);
  expect_items(f, 23, 0, 2);
  send_control(f, SHMRPC_RPC_CANCEL, 23, 0);
  expect_stopped_event(f, 23, 2, SHMRPC_STATUS_CANCELLED);
  expect_nothing(f, 30); /* no STREAM_END after a cancel */
  assert_int_equal(expect_stats_in_flight(f, 24), 0);
  fixture_stop(f);
}

static void server_stream_credit_on_another_thread(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  send_count(f, 25, rpctest_RpcTest_CountDeferred_ID, COUNT_DEFERRED_HASH, 5,
             1);
  expect_items(f, 25, 0, 1);
  expect_nothing(f, 30);
  send_control(f, SHMRPC_RPC_CREDIT, 25, 10);
  expect_items(f, 25, 1, 4);
  expect_stopped_event(f, 25, 5, SHMRPC_STATUS_OK);
  expect_stream_end(f, 25, SHMRPC_STATUS_OK);
  fixture_stop(f);
}

static void server_stream_thread_sees_close(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  send_count(f, 26, rpctest_RpcTest_CountDeferred_ID, COUNT_DEFERRED_HASH, 5,
             1);
  expect_items(f, 26, 0, 1);
  fixture_stop(f); /* joins the stream thread, which must have stopped */
  assert_int_equal(g.stream_status, SHMRPC_STATUS_UNAVAILABLE);
  assert_int_equal(g.stream_sent, 1);
}

static void server_close_fails_calls_in_flight(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 64);
  rpctest_EchoRequest req = {.text = "never"};
  send_echo(f, 27, rpctest_RpcTest_Hang_ID, HANG_HASH, &req, 0);
  expect_nothing(f, 20);
  fixture_stop(f); /* asserts that no call is left */
  wait_hooks(1);
}

static void server_too_many_calls_resource_exhausted(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 16, 2);
  rpctest_EchoRequest req = {.text = "x"};
  send_echo(f, 31, rpctest_RpcTest_EchoDeferred_ID, ECHO_DEFERRED_HASH, &req,
            0);
  send_echo(f, 32, rpctest_RpcTest_EchoDeferred_ID, ECHO_DEFERRED_HASH, &req,
            0);
  send_echo(f, 33, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  expect_error(f, 33, SHMRPC_STATUS_RESOURCE_EXHAUSTED, "too many calls");
  wait_held(2);
  for (size_t i = 0; i < 2; i++)
    assert_int_equal(shmrpc_call_finish(g.held[i], SHMRPC_STATUS_ABORTED, NULL),
                     SHMRPC_STATUS_OK);
  expect_error(f, 31, SHMRPC_STATUS_ABORTED, "ABORTED");
  expect_error(f, 32, SHMRPC_STATUS_ABORTED, "ABORTED");
  send_echo(f, 34, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  expect_echo(f, 34, "x");
  fixture_stop(f);
}

/* Request and reply several times the ring: both go in fragments; the
 * reply is encoded into a buffer instead of the ring. */
static void server_messages_larger_than_ring(void **state) {
  (void)state;
  fixture_t *f = fixture_start(4096, 64);
  const size_t size = 50000;
  pb_bytes_array_t *payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(size));
  payload->size = (pb_size_t)size;
  test_fill(payload->bytes, size, 7);
  rpctest_EchoRequest req = {.text = "big", .payload = payload};
  send_echo(f, 41, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
  rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
  decode(&r, rpctest_EchoReply_fields, &reply);
  assert_int_equal(reply.payload->size, size);
  assert_memory_equal(reply.payload->bytes, payload->bytes, size);
  pb_release(rpctest_EchoReply_fields, &reply);
  free(r.body);
  free(payload);
  /* A small one after it still goes straight into the ring. */
  rpctest_EchoRequest small = {.text = "small"};
  send_echo(f, 42, rpctest_RpcTest_Echo_ID, ECHO_HASH, &small, 0);
  expect_echo(f, 42, "small");
  fixture_stop(f);
}

/* Bytes and string fields of 64 KiB and more: nanopb's 16-bit field sizes
 * refused them ("bytes overflow"); the build's nanopb has 32-bit sizes. */
static void server_fields_beyond_64k_round_trip(void **state) {
  (void)state;
  fixture_t *f = fixture_start(1 << 20, 64);
  static const size_t sizes[] = {65535, 65536, 70000, 1 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t size = sizes[i];
    pb_bytes_array_t *payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(size));
    payload->size = (pb_size_t)size;
    test_fill(payload->bytes, size, i + 1);
    char *text = malloc(size + 1);
    memset(text, 'a' + (int)i, size);
    text[size] = 0;
    rpctest_EchoRequest req = {.text = text, .payload = payload};
    uint32_t id = 50 + (uint32_t)i;
    send_echo(f, id, rpctest_RpcTest_Echo_ID, ECHO_HASH, &req, 0);
    reply_t r = recv_reply(f);
    assert_int_equal(r.env.kind, SHMRPC_RPC_RESPONSE);
    assert_int_equal(r.env.call_id, id);
    rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
    decode(&r, rpctest_EchoReply_fields, &reply);
    assert_int_equal(reply.payload->size, size);
    assert_memory_equal(reply.payload->bytes, payload->bytes, size);
    assert_string_equal(reply.text, text);
    pb_release(rpctest_EchoReply_fields, &reply);
    free(r.body);
    free(text);
    free(payload);
  }
  fixture_stop(f);
}

static void server_register_rejects_duplicates(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, 4096, 4096, NULL, NULL);
  shmrpc_server_t *server;
  assert_int_equal(shmrpc_server_create(&pair.server, NULL, &server), 0);
  assert_int_equal(
      shmrpc_server_register(server, &rpctest_RpcTest_service, &handlers, NULL),
      0);
  assert_int_equal(
      shmrpc_server_register(server, &rpctest_RpcTest_service, &handlers, NULL),
      SHMRPC_EINVAL);
  assert_int_equal(shmrpc_server_register(server, NULL, &handlers, NULL),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_server_poll(server, 0), 0);
  shmrpc_server_destroy(server);
  test_pair_free(&pair);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(server_unary_ok),
      cmocka_unit_test(server_deadline_reaches_handler),
      cmocka_unit_test(server_unknown_method_unimplemented),
      cmocka_unit_test(server_schema_mismatch_failed_precondition),
      cmocka_unit_test(server_undecodable_request_invalid_argument),
      cmocka_unit_test(server_handler_status_passed_through),
      cmocka_unit_test(server_malformed_envelopes_answered_or_dropped),
      cmocka_unit_test(server_random_envelopes_survived),
      cmocka_unit_test(server_duplicate_call_id_rejected),
      cmocka_unit_test(server_deferred_finish_from_another_thread),
      cmocka_unit_test(server_cancel_drops_reply),
      cmocka_unit_test(server_deadline_expires_hanging_call),
      cmocka_unit_test(server_cancel_runs_hook),
      cmocka_unit_test(server_stream_credit_on_dispatch_thread),
      cmocka_unit_test(server_stream_cancel_while_waiting_for_credit),
      cmocka_unit_test(server_stream_credit_on_another_thread),
      cmocka_unit_test(server_stream_thread_sees_close),
      cmocka_unit_test(server_close_fails_calls_in_flight),
      cmocka_unit_test(server_too_many_calls_resource_exhausted),
      cmocka_unit_test(server_messages_larger_than_ring),
      cmocka_unit_test(server_fields_beyond_64k_round_trip),
      cmocka_unit_test(server_register_rejects_duplicates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
