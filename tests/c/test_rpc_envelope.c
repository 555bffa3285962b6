/* The RPC envelope header: encoding, parsing, the golden vectors of
 * tests/vectors/rpc/ (written by make_rpc_vectors.py) and malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shmrpc/envelope.h"
#include "test_support.h"

/* The fields make_rpc_vectors.py put in each well-formed vector. */
typedef struct golden_s {
  const char *file;
  shmrpc_envelope_t env; /* body/body_len: the expected body */
} golden_t;

#define BODY(s) (const uint8_t *)(s), sizeof(s) - 1

static const golden_t golden[] = {
    {"rpc/request_echo.bin",
     {SHMRPC_RPC_REQUEST, 7, 0x8dfc25f3, 0xfa6ca88b, 0, 250000, 0,
      BODY("\x0a\x02hi")}},
    {"rpc/request_count.bin",
     {SHMRPC_RPC_REQUEST, 9, 0x4bda6049, 0xf26f4f39, 0, 0, 16,
      BODY("\x08\x03")}},
    {"rpc/response.bin",
     {SHMRPC_RPC_RESPONSE, 7, 0, 0, 0, 0, 0, BODY("\x0a\x02hi\x18\x07")}},
    {"rpc/error.bin",
     {SHMRPC_RPC_ERROR, 7, 0, 0, 12, 0, 0,
      BODY("unknown method id 0x00000001")}},
    {"rpc/cancel.bin", {SHMRPC_RPC_CANCEL, 7, 0, 0, 0, 0, 0, BODY("")}},
    {"rpc/stream_message.bin",
     {SHMRPC_RPC_STREAM_MESSAGE, 9, 0, 0, 0, 0, 0, BODY("\x08\x02")}},
    {"rpc/stream_end_ok.bin",
     {SHMRPC_RPC_STREAM_END, 9, 0, 0, 0, 0, 0, BODY("")}},
    {"rpc/stream_end_cancelled.bin",
     {SHMRPC_RPC_STREAM_END, 9, 0, 0, 1, 0, 0, BODY("CANCELLED")}},
    {"rpc/event.bin",
     {SHMRPC_RPC_EVENT, 0, 0xef824f57, 0, 0, 0, 0, BODY("\x08\x09\x10\x03")}},
    {"rpc/credit.bin", {SHMRPC_RPC_CREDIT, 9, 0, 0, 0, 0, 8, BODY("")}},
    /* request streams: a client-streaming and a bidirectional call open,
     * the server grants request credit, a message, the half-close */
    {"rpc/request_sum.bin",
     {SHMRPC_RPC_REQUEST, 11, 0x88405efd, 0xd5c7d2c2, 0, 1000000, 0,
      BODY("")}},
    {"rpc/request_chat.bin",
     {SHMRPC_RPC_REQUEST, 12, 0x2f8da81c, 0x2a244671, 0, 0, 64, BODY("")}},
    {"rpc/credit_request_stream.bin",
     {SHMRPC_RPC_CREDIT, 11, 0, 0, 0, 0, 16, BODY("")}},
    {"rpc/request_message.bin",
     {SHMRPC_RPC_REQUEST_MESSAGE, 11, 0, 0, 0, 0, 0, BODY("\x08\x05")}},
    {"rpc/request_end.bin",
     {SHMRPC_RPC_REQUEST_END, 11, 0, 0, 0, 0, 0, BODY("")}},
    {"rpc/request_max_fields.bin",
     {SHMRPC_RPC_REQUEST, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
      0xffffffff, 0xffffffff, BODY("")}},
};

static void assert_same_header(const shmrpc_envelope_t *a,
                               const shmrpc_envelope_t *b) {
  assert_int_equal(a->kind, b->kind);
  assert_int_equal(a->call_id, b->call_id);
  assert_int_equal(a->method_id, b->method_id);
  assert_int_equal(a->schema_hash, b->schema_hash);
  assert_int_equal(a->status, b->status);
  assert_int_equal(a->timeout_us, b->timeout_us);
  assert_int_equal(a->credit, b->credit);
}

static void envelope_golden_vectors_parse(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
    size_t len;
    uint8_t *data = test_read_vector(golden[i].file, &len);
    shmrpc_envelope_t env;
    assert_int_equal(shmrpc_envelope_parse(data, len, &env, NULL), 0);
    assert_same_header(&env, &golden[i].env);
    assert_int_equal(env.body_len, golden[i].env.body_len);
    assert_memory_equal(env.body, golden[i].env.body, env.body_len);
    assert_ptr_equal(env.body, data + SHMRPC_ENVELOPE_HEADER_BYTES);
    free(data);
  }
}

static void envelope_golden_vectors_encode(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
    size_t len;
    uint8_t *data = test_read_vector(golden[i].file, &len);
    uint8_t head[SHMRPC_ENVELOPE_HEADER_BYTES];
    memset(head, 0xAA, sizeof head);
    shmrpc_envelope_write_header(&golden[i].env, head);
    assert_int_equal(len, sizeof head + golden[i].env.body_len);
    assert_memory_equal(head, data, sizeof head);
    free(data);
  }
}

static void envelope_header_layout_fixed_offsets(void **state) {
  (void)state;
  shmrpc_envelope_t env = {.kind = SHMRPC_RPC_REQUEST,
                           .call_id = 0x04030201,
                           .method_id = 0x08070605,
                           .schema_hash = 0x0c0b0a09,
                           .status = 0x100f0e0d,
                           .timeout_us = 0x14131211,
                           .credit = 0x18171615};
  uint8_t head[28];
  shmrpc_envelope_write_header(&env, head);
  static const uint8_t expected[28] = {
      1,    1,    0,    0,    /* version, kind, reserved */
      0x01, 0x02, 0x03, 0x04, /* call_id */
      0x05, 0x06, 0x07, 0x08, /* method_id */
      0x09, 0x0a, 0x0b, 0x0c, /* schema_hash */
      0x0d, 0x0e, 0x0f, 0x10, /* status */
      0x11, 0x12, 0x13, 0x14, /* timeout_us */
      0x15, 0x16, 0x17, 0x18, /* credit */
  };
  assert_memory_equal(head, expected, sizeof expected);
}

/* Each malformed vector, with the call id a parser can still read. */
static void envelope_malformed_vectors_rejected(void **state) {
  (void)state;
  static const struct {
    const char *file;
    uint32_t call_id;
  } cases[] = {
      {"rpc/short_0.bin", 0},       {"rpc/short_7.bin", 0},
      {"rpc/short_8.bin", 5},       {"rpc/short_27.bin", 5},
      {"rpc/bad_version_0.bin", 5}, {"rpc/bad_version_2.bin", 5},
      {"rpc/kind_0.bin", 5},        {"rpc/kind_11.bin", 5},
      {"rpc/kind_255.bin", 5},      {"rpc/error_status_0.bin", 5},
      {"rpc/error_status_17.bin", 5}, {"rpc/error_status_max.bin", 5},
      {"rpc/stream_end_status_17.bin", 5},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len;
    uint8_t *data = test_read_vector(cases[i].file, &len);
    /* An exact-size copy, so a read past the end is caught by ASan. */
    uint8_t *exact = malloc(len > 0 ? len : 1);
    memcpy(exact, data, len);
    shmrpc_envelope_t env;
    const char *why = NULL;
    assert_int_equal(shmrpc_envelope_parse(exact, len, &env, &why),
                     SHMRPC_EPROTO);
    assert_non_null(why);
    assert_int_equal(env.call_id, cases[i].call_id);
    assert_int_equal(env.kind, 0);
    free(exact);
    free(data);
  }
}

/* A refused status is named: the description says why, out->status
 * holds the value. The edges of the table still parse. */
static void envelope_bad_status_reported(void **state) {
  (void)state;
  static const struct {
    uint8_t kind;
    uint32_t status;
    int rc;
  } cases[] = {
      {SHMRPC_RPC_ERROR, 0, SHMRPC_EPROTO},
      {SHMRPC_RPC_ERROR, 1, 0},
      {SHMRPC_RPC_ERROR, 16, 0},
      {SHMRPC_RPC_ERROR, 17, SHMRPC_EPROTO},
      {SHMRPC_RPC_ERROR, UINT32_MAX, SHMRPC_EPROTO},
      {SHMRPC_RPC_STREAM_END, 0, 0},
      {SHMRPC_RPC_STREAM_END, 16, 0},
      {SHMRPC_RPC_STREAM_END, 17, SHMRPC_EPROTO},
      {SHMRPC_RPC_RESPONSE, 17, 0}, /* carries no status: ignored */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    shmrpc_envelope_t env = {.kind = cases[i].kind,
                             .call_id = 5,
                             .status = cases[i].status};
    uint8_t head[SHMRPC_ENVELOPE_HEADER_BYTES];
    shmrpc_envelope_write_header(&env, head);
    const char *why = NULL;
    assert_int_equal(shmrpc_envelope_parse(head, sizeof head, &env, &why),
                     cases[i].rc);
    assert_int_equal(env.status, cases[i].status);
    assert_int_equal(env.call_id, 5);
    if (cases[i].rc != 0)
      assert_non_null(strstr(why, cases[i].status == 0 ? "status 0 (OK)"
                                                       : "not a status code"));
  }
}

/* Every prefix of a valid envelope shorter than the header is refused
 * without reading past it. */
static void envelope_every_short_prefix_rejected(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = test_read_vector("rpc/request_echo.bin", &len);
  for (size_t n = 0; n < SHMRPC_ENVELOPE_HEADER_BYTES; n++) {
    uint8_t *exact = malloc(n > 0 ? n : 1);
    memcpy(exact, data, n);
    shmrpc_envelope_t env;
    assert_int_equal(shmrpc_envelope_parse(exact, n, &env, NULL),
                     SHMRPC_EPROTO);
    assert_int_equal(env.call_id, n >= 8 ? 7u : 0u);
    free(exact);
  }
  free(data);
}

static void envelope_reserved_bytes_ignored(void **state) {
  (void)state;
  size_t len;
  uint8_t *data = test_read_vector("rpc/cancel.bin", &len);
  data[2] = 0xff;
  data[3] = 0x7f;
  shmrpc_envelope_t env;
  assert_int_equal(shmrpc_envelope_parse(data, len, &env, NULL), 0);
  assert_int_equal(env.kind, SHMRPC_RPC_CANCEL);
  assert_int_equal(env.call_id, 7);
  free(data);
}

static void envelope_parse_null_data(void **state) {
  (void)state;
  shmrpc_envelope_t env;
  assert_int_equal(shmrpc_envelope_parse(NULL, 28, &env, NULL), SHMRPC_EPROTO);
  assert_int_equal(shmrpc_envelope_parse(NULL, 0, &env, NULL), SHMRPC_EPROTO);
}

static void envelope_status_names(void **state) {
  (void)state;
  assert_string_equal(shmrpc_status_name(SHMRPC_STATUS_OK), "OK");
  assert_string_equal(shmrpc_status_name(SHMRPC_STATUS_UNIMPLEMENTED),
                      "UNIMPLEMENTED");
  assert_string_equal(shmrpc_status_name(16), "UNAUTHENTICATED");
  assert_string_equal(shmrpc_status_name(17), "UNKNOWN");
  assert_string_equal(shmrpc_status_name(-1), "UNKNOWN");
}

static void envelope_event_id_is_fnv1a(void **state) {
  (void)state;
  assert_int_equal(shmrpc_event_id("rpctest.RpcTest/StreamStopped"),
                   0xef824f57u);
  assert_int_equal(shmrpc_event_id("rpctest.RpcTest/Echo"), 0x8dfc25f3u);
  assert_int_equal(shmrpc_event_id(""), 0x811c9dc5u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(envelope_golden_vectors_parse),
      cmocka_unit_test(envelope_golden_vectors_encode),
      cmocka_unit_test(envelope_header_layout_fixed_offsets),
      cmocka_unit_test(envelope_malformed_vectors_rejected),
      cmocka_unit_test(envelope_bad_status_reported),
      cmocka_unit_test(envelope_every_short_prefix_rejected),
      cmocka_unit_test(envelope_reserved_bytes_ignored),
      cmocka_unit_test(envelope_parse_null_data),
      cmocka_unit_test(envelope_status_names),
      cmocka_unit_test(envelope_event_id_is_fnv1a),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
