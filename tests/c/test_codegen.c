/* Tests of protoc-gen-shmrpc's C output for the schema in tests/proto/:
 * nanopb (with fallback_type:FT_POINTER) reproduces the independent golden
 * vectors byte for byte, and the generated service descriptor, ids and
 * invoke thunks are what the dispatcher expects. Built by
 * tests/codegen/CMakeLists.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shmrpc/test/service.shmrpc.h"
#include "shmrpc/test/streams.shmrpc.h"

static const char *const vectors[] = {
    "empty",         "scalars_max",       "scalars_min",      "full",
    "unicode",       "special_floats",    "deep_tree",        "oneof_number_zero",
    "oneof_text_empty", "oneof_money_empty", "oneof_blob_empty", "oneof_color_zero",
    "oneof_big_min",
};

typedef struct {
  unsigned char *data;
  size_t len;
} blob_t;

static blob_t read_vector(const char *name) {
  char path[512];
  snprintf(path, sizeof(path), "%s/messages/%s.bin", SHMRPC_VECTORS_DIR, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  blob_t b = {malloc(1 << 16), 0};
  assert_non_null(b.data);
  b.len = fread(b.data, 1, 1 << 16, f);
  assert_true(feof(f));
  fclose(f);
  return b;
}

static void decode_vector(const char *name, shmrpc_test_Everything *msg) {
  blob_t b = read_vector(name);
  memset(msg, 0, sizeof(*msg));
  pb_istream_t is = pb_istream_from_buffer(b.data, b.len);
  bool ok = pb_decode(&is, shmrpc_test_Everything_fields, msg);
  free(b.data);
  assert_true(ok);
}

/* ---- nanopb round trips of the golden vectors ---------------------------- */

/* Decodes `in` and encodes it again into `out` (capacity 64 KiB). */
static size_t reencode(const char *name, const unsigned char *in, size_t len, unsigned char *out) {
  shmrpc_test_Everything msg = shmrpc_test_Everything_init_zero;
  pb_istream_t is = pb_istream_from_buffer(in, len);
  if (!pb_decode(&is, shmrpc_test_Everything_fields, &msg)) {
    fail_msg("%s: nanopb cannot decode it: %s", name, PB_GET_ERROR(&is));
  }
  pb_ostream_t os = pb_ostream_from_buffer(out, 1 << 16);
  if (!pb_encode(&os, shmrpc_test_Everything_fields, &msg)) {
    fail_msg("%s: nanopb cannot encode it: %s", name, PB_GET_ERROR(&os));
  }
  pb_release(shmrpc_test_Everything_fields, &msg);
  return os.bytes_written;
}

/* Every vector but "full" comes back byte for byte. "full" has map entries
 * whose key or value is a default, which the Python encoder (like ours)
 * writes and nanopb leaves out: both are valid, so there the re-encoding
 * must only be stable. The TypeScript tests compare the values. */
static void codegen_vectors_reencode_identically(void **state) {
  (void)state;
  unsigned char *once = malloc(1 << 16), *twice = malloc(1 << 16);
  for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
    blob_t b = read_vector(vectors[i]);
    size_t n1 = reencode(vectors[i], b.data, b.len, once);
    size_t n2 = reencode(vectors[i], once, n1, twice);
    if (n1 != n2 || memcmp(once, twice, n1) != 0) fail_msg("%s: re-encoding unstable", vectors[i]);
    bool identical = n1 == b.len && memcmp(once, b.data, b.len) == 0;
    if (strcmp(vectors[i], "full") == 0) {
      assert_int_equal(b.len - n1, 12); /* 6 default keys/values, 2 bytes each */
    } else if (!identical) {
      fail_msg("%s: re-encoding differs (%zu of %zu bytes)", vectors[i], n1, b.len);
    }
    free(b.data);
  }
  free(once);
  free(twice);
}

static void codegen_full_vector_decodes_every_kind_of_field(void **state) {
  (void)state;
  shmrpc_test_Everything m;
  decode_vector("full", &m);
  assert_true(m.has_scalars);
  assert_int_equal(m.scalars.f_int64, INT64_MAX);
  assert_true(m.scalars.f_uint64 == UINT64_MAX);
  assert_int_equal(m.scalars.f_sint32, INT32_MAX);
  assert_string_equal(m.scalars.f_string, "max");
  assert_int_equal(m.scalars.f_bytes->size, 3);
  assert_int_equal(m.scalars.f_enum, shmrpc_test_common_Color_COLOR_GREEN);
  /* proto3 optional: present although zero */
  assert_true(m.optionals.has_o_int64);
  assert_int_equal(m.optionals.o_int64, 0);
  /* A present optional string or bytes is a non-NULL pointer. */
  assert_non_null(m.optionals.o_string);
  assert_string_equal(m.optionals.o_string, "");
  assert_non_null(m.optionals.o_bytes);
  assert_int_equal(m.optionals.o_bytes->size, 0);
  assert_true(m.optionals.has_o_sint32);
  assert_int_equal(m.optionals.o_sint32, -1);
  /* repeated: packed and unpacked, strings, messages, open enums */
  assert_int_equal(m.repeateds.r_int32_count, 6);
  assert_int_equal(m.repeateds.r_int32[5], INT32_MIN);
  assert_int_equal(m.repeateds.r_string_count, 3);
  assert_string_equal(m.repeateds.r_string[2], "ünïcödé");
  assert_int_equal(m.repeateds.r_bytes[2]->size, 200);
  assert_int_equal(m.repeateds.r_enum[4], 99);
  assert_int_equal(m.repeateds.r_int32_unpacked_count, 3);
  assert_int_equal(m.repeateds.r_money_count, 2);
  assert_string_equal(m.repeateds.r_money[0].currency, "EUR");
  /* maps */
  assert_int_equal(m.maps.string_to_string_count, 2);
  assert_string_equal(m.maps.string_to_string[0].key, "a");
  assert_string_equal(m.maps.string_to_string[0].value, "alpha");
  assert_int_equal(m.maps.int64_to_money_count, 2);
  assert_string_equal(m.maps.int64_to_money[0].value.currency, "CHF");
  /* oneofs */
  assert_int_equal(m.oneofs.which_choice, shmrpc_test_Oneofs_money_tag);
  assert_int_equal(m.oneofs.choice.money.units, 12);
  assert_int_equal(m.oneofs.which_other, shmrpc_test_Oneofs_ratio_tag);
  /* nesting, recursion, well-known types, large field numbers */
  assert_string_equal(m.outer.inner.deepest.note, "deep");
  assert_int_equal(m.outer.by_name_count, 2);
  assert_string_equal(m.tree.children[0].children[0].children[0].label, "a1x");
  assert_int_equal(m.created_at.seconds, 1700000000);
  assert_int_equal(m.ttl.nanos, -500);
  assert_true(m.has_nothing);
  assert_string_equal(m.far_away, "far");
  assert_true(m.farthest == UINT32_MAX);
  pb_release(shmrpc_test_Everything_fields, &m);
}

/* Every prefix of a vector either decodes (a cut between top-level fields
 * is a valid shorter message) or fails, and pb_release frees whatever a
 * failed decode allocated (run under ASAN or valgrind to see leaks). */
static void codegen_truncated_vector_fails_cleanly(void **state) {
  (void)state;
  blob_t b = read_vector("full");
  size_t failures = 0;
  for (size_t len = 0; len < b.len; len++) {
    shmrpc_test_Everything msg = shmrpc_test_Everything_init_zero;
    pb_istream_t is = pb_istream_from_buffer(b.data, len);
    if (!pb_decode(&is, shmrpc_test_Everything_fields, &msg)) failures++;
    pb_release(shmrpc_test_Everything_fields, &msg);
  }
  /* Only the cuts between the 12 top-level fields are whole messages. */
  assert_int_equal(failures, b.len - 12);
  free(b.data);
}

/* ---- service descriptor ------------------------------------------------ */

static uint32_t fnv1a32(const char *s) {
  uint32_t h = 0x811c9dc5u;
  for (; *s != '\0'; s++) h = (h ^ (unsigned char)*s) * 0x01000193u;
  return h;
}

static void codegen_service_descriptor_matches_the_proto(void **state) {
  (void)state;
  const shmrpc_service_t *s = &shmrpc_test_api_Echo_service;
  assert_string_equal(s->name, "shmrpc.test.api.Echo");
  assert_true(s->fingerprint == shmrpc_test_api_Echo_FINGERPRINT);
  assert_int_equal(s->method_count, 3);

  const shmrpc_method_t *echo = &s->methods[0];
  assert_string_equal(echo->path, "shmrpc.test.api.Echo/Echo");
  assert_int_equal(echo->kind, SHMRPC_METHOD_UNARY);
  assert_ptr_equal(echo->request_fields, shmrpc_test_api_EchoRequest_fields);
  assert_int_equal(echo->request_size, sizeof(shmrpc_test_api_EchoRequest));
  assert_ptr_equal(echo->response_fields, shmrpc_test_Everything_fields);
  assert_int_equal(echo->response_size, sizeof(shmrpc_test_Everything));
  assert_int_equal(echo->schema_hash, shmrpc_test_api_Echo_Echo_SCHEMA_HASH);

  assert_string_equal(s->methods[1].path, "shmrpc.test.api.Echo/EchoStream");
  assert_int_equal(s->methods[1].kind, SHMRPC_METHOD_SERVER_STREAMING);
  assert_string_equal(s->methods[2].path, "shmrpc.test.api.Echo/Prices");
  assert_ptr_equal(s->methods[2].response_fields, shmrpc_test_common_Money_fields);

  /* Ids are FNV-1a 32 of the path, whoever computes them. */
  for (size_t i = 0; i < s->method_count; i++) {
    assert_int_equal(s->methods[i].id, fnv1a32(s->methods[i].path));
  }
  assert_int_equal(shmrpc_test_api_Echo_Prices_ID, fnv1a32("shmrpc.test.api.Echo/Prices"));
  /* Echo and EchoStream share request and response types but not the call
   * kind, so their schema hashes differ; Prices has other types. */
  assert_int_not_equal(s->methods[0].schema_hash, s->methods[1].schema_hash);
  assert_int_not_equal(s->methods[0].schema_hash, s->methods[2].schema_hash);
}

/* ---- invoke thunks ------------------------------------------------------ */

static int calls;
static const void *seen_request;
static const void *seen_response;

static int echo_handler(shmrpc_call_t *call, const shmrpc_test_api_EchoRequest *request,
                        shmrpc_test_Everything *response) {
  (void)call;
  calls++;
  seen_request = request;
  seen_response = response;
  response->farthest = request->repeat;
  return SHMRPC_STATUS_OK;
}

static int prices_handler(shmrpc_call_t *call, const shmrpc_test_api_PriceQuery *request) {
  (void)call;
  calls++;
  seen_request = request;
  return SHMRPC_DEFERRED;
}

static void codegen_invoke_calls_the_typed_handler(void **state) {
  (void)state;
  const shmrpc_test_api_Echo_handlers_t handlers = {.Echo = echo_handler, .Prices = prices_handler};
  const shmrpc_method_t *methods = shmrpc_test_api_Echo_service.methods;
  shmrpc_test_api_EchoRequest request = {.repeat = 42};
  shmrpc_test_Everything response = shmrpc_test_Everything_init_zero;
  calls = 0;

  assert_int_equal(methods[0].invoke(&handlers, NULL, &request, &response), SHMRPC_STATUS_OK);
  assert_int_equal(calls, 1);
  assert_ptr_equal(seen_request, &request);
  assert_ptr_equal(seen_response, &response);
  assert_int_equal(response.farthest, 42);

  shmrpc_test_api_PriceQuery query = {0};
  assert_int_equal(methods[2].invoke(&handlers, NULL, &query, NULL), SHMRPC_DEFERRED);
  assert_int_equal(calls, 2);
  assert_ptr_equal(seen_request, &query);

  /* EchoStream has no handler. */
  assert_int_equal(methods[1].invoke(&handlers, NULL, &request, NULL),
                   SHMRPC_STATUS_UNIMPLEMENTED);
  assert_int_equal(calls, 2);
}

/* Request streams: the handler of a client-streaming method gets the
 * response struct and no request, a bidirectional one neither (both read
 * their stream through the call). */
static int checkout_handler(shmrpc_call_t *call, shmrpc_test_streams_Receipt *response) {
  (void)call;
  calls++;
  seen_response = response;
  response->lines = 7;
  return SHMRPC_STATUS_OK;
}

static int live_handler(shmrpc_call_t *call) {
  (void)call;
  calls++;
  return SHMRPC_DEFERRED;
}

static void codegen_request_streams_have_their_kinds_and_thunks(void **state) {
  (void)state;
  const shmrpc_service_t *s = &shmrpc_test_streams_Till_service;
  assert_int_equal(s->method_count, 4);
  assert_int_equal(s->methods[0].kind, SHMRPC_METHOD_UNARY);
  assert_int_equal(s->methods[1].kind, SHMRPC_METHOD_CLIENT_STREAMING);
  assert_int_equal(s->methods[2].kind, SHMRPC_METHOD_BIDI_STREAMING);
  assert_int_equal(s->methods[3].kind, SHMRPC_METHOD_SERVER_STREAMING);
  assert_string_equal(s->methods[1].path, "shmrpc.test.streams.Till/Checkout");
  assert_int_equal(s->methods[1].id, fnv1a32("shmrpc.test.streams.Till/Checkout"));
  assert_ptr_equal(s->methods[1].response_fields, shmrpc_test_streams_Receipt_fields);

  const shmrpc_test_streams_Till_handlers_t handlers = {.Checkout = checkout_handler,
                                                        .Live = live_handler};
  shmrpc_test_streams_Receipt receipt = shmrpc_test_streams_Receipt_init_zero;
  calls = 0;
  assert_int_equal(s->methods[1].invoke(&handlers, NULL, NULL, &receipt), SHMRPC_STATUS_OK);
  assert_int_equal(calls, 1);
  assert_ptr_equal(seen_response, &receipt);
  assert_int_equal(receipt.lines, 7);
  assert_int_equal(s->methods[2].invoke(&handlers, NULL, NULL, NULL), SHMRPC_DEFERRED);
  assert_int_equal(calls, 2);
  /* Price and Journal have no handler. */
  assert_int_equal(s->methods[0].invoke(&handlers, NULL, NULL, NULL), SHMRPC_STATUS_UNIMPLEMENTED);
  assert_int_equal(s->methods[3].invoke(&handlers, NULL, NULL, NULL), SHMRPC_STATUS_UNIMPLEMENTED);
  assert_int_equal(calls, 2);
}

static void codegen_request_and_response_helpers_round_trip(void **state) {
  (void)state;
  blob_t b = read_vector("unicode");
  /* An EchoRequest around the vector: field 1 (payload), length, bytes. */
  unsigned char wire[4096];
  size_t n = 0;
  wire[n++] = 0x0a;
  wire[n++] = (unsigned char)(0x80 | (b.len & 0x7f));
  wire[n++] = (unsigned char)(b.len >> 7);
  memcpy(wire + n, b.data, b.len);
  n += b.len;
  wire[n++] = 0x10; /* repeat = 3 */
  wire[n++] = 3;

  shmrpc_test_api_EchoRequest request = shmrpc_test_api_EchoRequest_init_zero;
  assert_true(shmrpc_test_api_Echo_Echo_decode_request(wire, n, &request));
  assert_int_equal(request.repeat, 3);
  assert_true(request.has_payload);

  unsigned char out[4096];
  size_t written = 0;
  assert_true(shmrpc_test_api_Echo_Echo_encode_response(&request.payload, out, sizeof(out), &written));
  assert_int_equal(written, b.len);
  assert_memory_equal(out, b.data, b.len);
  /* Too small a buffer fails instead of writing past it. */
  assert_false(shmrpc_test_api_Echo_Echo_encode_response(&request.payload, out, 10, &written));

  pb_release(shmrpc_test_api_EchoRequest_fields, &request);
  free(b.data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(codegen_vectors_reencode_identically),
      cmocka_unit_test(codegen_full_vector_decodes_every_kind_of_field),
      cmocka_unit_test(codegen_truncated_vector_fails_cleanly),
      cmocka_unit_test(codegen_service_descriptor_matches_the_proto),
      cmocka_unit_test(codegen_invoke_calls_the_typed_handler),
      cmocka_unit_test(codegen_request_streams_have_their_kinds_and_thunks),
      cmocka_unit_test(codegen_request_and_response_helpers_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
