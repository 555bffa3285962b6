/* The fake RPC client of the dispatcher tests: see rpc_fake_client.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pb_decode.h>
#include <pb_encode.h>

#include "rpc_fake_client.h"

static void *server_main(void *arg) {
  fixture_t *f = arg;
  f->run_result = shmrpc_server_run(f->server);
  return NULL;
}

static void count_other(void *user, const shmrpc_msg_t *msg) {
  (void)msg;
  __atomic_add_fetch(&((fixture_t *)user)->other_messages, 1, __ATOMIC_RELAXED);
}


void send_raw(fixture_t *f, const void *data, size_t len) {
  assert_int_equal(
      shmrpc_channel_send(&f->pair.client, SHMRPC_COMMAND, data, len, 1000), 0);
}

void send_envelope(fixture_t *f, const shmrpc_envelope_t *header,
                          const pb_msgdesc_t *fields, const void *message) {
  size_t body = 0;
  if (fields != NULL)
    assert_true(pb_get_encoded_size(&body, fields, message));
  uint8_t *buf = malloc(SHMRPC_ENVELOPE_HEADER_BYTES + body);
  shmrpc_envelope_write_header(header, buf);
  if (fields != NULL) {
    pb_ostream_t os =
        pb_ostream_from_buffer(buf + SHMRPC_ENVELOPE_HEADER_BYTES, body);
    assert_true(pb_encode(&os, fields, message));
  }
  send_raw(f, buf, SHMRPC_ENVELOPE_HEADER_BYTES + body);
  free(buf);
}


void send_control(fixture_t *f, uint8_t kind, uint32_t call_id,
                         uint32_t credit) {
  shmrpc_envelope_t h = {.kind = kind, .call_id = call_id, .credit = credit};
  send_envelope(f, &h, NULL, NULL);
}

/* Receives the next envelope, or returns false after `timeout_ms`. */
bool try_recv(fixture_t *f, reply_t *out, int timeout_ms) {
  shmrpc_msg_t msg;
  int rc = shmrpc_channel_recv(&f->pair.client, &msg, timeout_ms);
  assert_true(rc >= 0);
  if (rc == 0)
    return false;
  assert_int_equal(msg.type, SHMRPC_COMMAND);
  assert_int_equal(shmrpc_envelope_parse(msg.data, msg.len, &out->env, NULL),
                   0);
  out->body = malloc(out->env.body_len + 1);
  memcpy(out->body, out->env.body, out->env.body_len);
  out->body[out->env.body_len] = 0; /* status texts read as strings */
  out->env.body = out->body;
  return true;
}

reply_t recv_reply(fixture_t *f) {
  reply_t r;
  assert_true(try_recv(f, &r, RECV_TIMEOUT_MS));
  return r;
}

void expect_error(fixture_t *f, uint32_t call_id, uint32_t status,
                         const char *text) {
  reply_t r = recv_reply(f);
  assert_int_equal(r.env.kind, SHMRPC_RPC_ERROR);
  assert_int_equal(r.env.call_id, call_id);
  assert_int_equal(r.env.status, status);
  if (text != NULL)
    assert_string_equal((const char *)r.body, text);
  free(r.body);
}

void expect_nothing(fixture_t *f, int ms) {
  reply_t r;
  if (try_recv(f, &r, ms))
    fail_msg("unexpected envelope kind %u for call %u", r.env.kind,
             r.env.call_id);
}

void decode(const reply_t *r, const pb_msgdesc_t *fields, void *out) {
  pb_istream_t is = pb_istream_from_buffer(r->body, r->env.body_len);
  assert_true(pb_decode(&is, fields, out));
}

fixture_t *fixture_create(uint32_t capacity, shmrpc_server_options_t *opts) {
  fixture_t *f = calloc(1, sizeof *f);
  test_pair_open(&f->pair, capacity, capacity, NULL, NULL);
  opts->peer = "test";
  opts->on_other_message = count_other;
  opts->on_other_message_user = f;
  assert_int_equal(shmrpc_server_create(&f->pair.server, opts, &f->server), 0);
  return f;
}

void fixture_run(fixture_t *f) { test_thread_start(&f->thread, server_main, f); }

void fixture_close(fixture_t *f) {
  shmrpc_channel_close(&f->pair.client);
  pthread_join(f->thread, NULL);
}

void fixture_free(fixture_t *f) {
  assert_int_equal(f->run_result, 0);
  assert_int_equal(shmrpc_server_calls_in_flight(f->server), 0);
  assert_int_equal(shmrpc_server_calls_alive(f->server), 0);
  shmrpc_server_destroy(f->server);
  test_pair_free(&f->pair);
  free(f);
}
