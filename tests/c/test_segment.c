/* Segment size, creation and the attach checks (docs/PROTOCOL.md 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

static uint32_t get_u32(const uint8_t *mem, uint32_t offset) {
  uint32_t v;
  memcpy(&v, mem + offset, 4);
  return v;
}

static void put_u32(uint8_t *mem, uint32_t offset, uint32_t v) {
  memcpy(mem + offset, &v, 4);
}

static void segment_size_valid_capacities(void **state) {
  (void)state;
  assert_int_equal(shmrpc_segment_size(64, 64), 384 + 128);
  assert_int_equal(shmrpc_segment_size(64, 128), 576);
  assert_int_equal(shmrpc_segment_size(1u << 30, 1u << 30),
                   (size_t)384 + (2ull << 30));
}

static void segment_size_invalid_capacities(void **state) {
  (void)state;
  const uint32_t bad[] = {0, 1, 32, 63, 65, 96, 100, 1u << 31, UINT32_MAX};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(shmrpc_segment_size(bad[i], 64), 0);
    assert_int_equal(shmrpc_segment_size(64, bad[i]), 0);
  }
}

static void segment_init_writes_header(void **state) {
  (void)state;
  size_t size = shmrpc_segment_size(256, 1024);
  uint8_t *mem = test_segment_alloc(size);
  memset(mem, 0xAA, size);
  assert_int_equal(shmrpc_segment_init(mem, size, 256, 1024), 0);
  assert_memory_equal(mem, "SHMR", 4);
  assert_int_equal(get_u32(mem, 0), SHMRPC_SEGMENT_MAGIC);
  assert_int_equal(mem[4] | mem[5] << 8, 1); /* version_major */
  assert_int_equal(mem[6] | mem[7] << 8, 0); /* version_minor */
  assert_int_equal(get_u32(mem, SHMRPC_OFF_CAPACITY_C2S), 256);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_CAPACITY_S2C), 1024);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SEGMENT_BYTES), size);
  for (size_t i = SHMRPC_OFF_FLAGS; i < size; i++)
    assert_int_equal(mem[i], 0);
  free(mem);
}

static void segment_init_rejects_bad_arguments(void **state) {
  (void)state;
  size_t size = shmrpc_segment_size(64, 64);
  uint8_t *mem = test_segment_alloc(size + 64);
  assert_int_equal(shmrpc_segment_init(NULL, size, 64, 64), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_segment_init(mem, size - 1, 64, 64), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_segment_init(mem, size + 1, 64, 64), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_segment_init(mem, size, 96, 64), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_segment_init(mem + 4, size, 64, 64), SHMRPC_EINVAL);
  free(mem);
}

/* A freshly initialized 64/64 segment. */
static uint8_t *fresh_segment(size_t *size) {
  *size = shmrpc_segment_size(64, 64);
  uint8_t *mem = test_segment_alloc(*size);
  assert_int_equal(shmrpc_segment_init(mem, *size, 64, 64), 0);
  return mem;
}

static int open_server(uint8_t *mem, size_t size) {
  shmrpc_channel_t ch;
  int rc = shmrpc_channel_open(&ch, mem, size, SHMRPC_SIDE_SERVER, NULL);
  if (rc == 0) {
    shmrpc_channel_close(&ch);
    shmrpc_channel_destroy(&ch);
  }
  return rc;
}

static void segment_open_publishes_limit_then_open(void **state) {
  (void)state;
  size_t size;
  uint8_t *mem = fresh_segment(&size);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  assert_int_equal(opts.spin_ns, 50000);
  assert_int_equal(opts.max_message_bytes, 64u << 20);
  opts.max_message_bytes = 12345;
  shmrpc_channel_t ch;
  assert_int_equal(
      shmrpc_channel_open(&ch, mem, size, SHMRPC_SIDE_SERVER, &opts), 0);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_STATE), SHMRPC_STATE_OPEN);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_MAX_MESSAGE), 12345);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_CLIENT_STATE), SHMRPC_STATE_ABSENT);
  assert_false(shmrpc_channel_peer_closed(&ch));
  shmrpc_channel_close(&ch);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_STATE), SHMRPC_STATE_CLOSED);
  shmrpc_channel_close(&ch); /* idempotent */
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_STATE), SHMRPC_STATE_CLOSED);
  shmrpc_channel_destroy(&ch);
  free(mem);
}

static void segment_open_rejects_bad_arguments(void **state) {
  (void)state;
  size_t size;
  uint8_t *mem = fresh_segment(&size);
  shmrpc_channel_t ch;
  assert_int_equal(shmrpc_channel_open(NULL, mem, size, SHMRPC_SIDE_CLIENT,
                                       NULL),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_channel_open(&ch, NULL, size, SHMRPC_SIDE_CLIENT,
                                       NULL),
                   SHMRPC_EINVAL);
  assert_int_equal(
      shmrpc_channel_open(&ch, mem, size, (shmrpc_side_t)2, NULL),
      SHMRPC_EINVAL);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_CLIENT_STATE), SHMRPC_STATE_ABSENT);
  free(mem);
}

static void segment_open_accepts_other_minor_version(void **state) {
  (void)state;
  size_t size;
  uint8_t *mem = fresh_segment(&size);
  mem[SHMRPC_OFF_VERSION_MINOR] = 7;
  assert_int_equal(open_server(mem, size), 0);
  free(mem);
}

static void segment_open_rejects_other_major_version(void **state) {
  (void)state;
  size_t size;
  uint8_t *mem = fresh_segment(&size);
  mem[SHMRPC_OFF_VERSION_MAJOR] = 2;
  assert_int_equal(open_server(mem, size), SHMRPC_EVERSION);
  assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_STATE), SHMRPC_STATE_ABSENT);
  free(mem);
}

static void segment_open_rejects_corrupt_header(void **state) {
  (void)state;
  struct {
    uint32_t offset;
    uint32_t value;
  } corruptions[] = {
      {SHMRPC_OFF_MAGIC, 0x524D4854u},      /* "THMR" */
      {SHMRPC_OFF_FLAGS, 1},                /* unknown flag */
      {SHMRPC_OFF_CAPACITY_C2S, 96},        /* not a power of two */
      {SHMRPC_OFF_CAPACITY_S2C, 32},        /* below the minimum */
      {SHMRPC_OFF_CAPACITY_C2S, 128},       /* disagrees with the size */
      {SHMRPC_OFF_SEGMENT_BYTES, 511},      /* disagrees with the total */
      {SHMRPC_OFF_SEGMENT_BYTES, 1u << 31}, /* huge */
  };
  for (size_t i = 0; i < sizeof corruptions / sizeof corruptions[0]; i++) {
    size_t size;
    uint8_t *mem = fresh_segment(&size);
    put_u32(mem, corruptions[i].offset, corruptions[i].value);
    assert_int_equal(open_server(mem, size), SHMRPC_EPROTO);
    assert_int_equal(get_u32(mem, SHMRPC_OFF_SERVER_STATE),
                     SHMRPC_STATE_ABSENT);
    free(mem);
  }
}

static void segment_open_rejects_wrong_memory_size(void **state) {
  (void)state;
  size_t size;
  uint8_t *mem = fresh_segment(&size);
  assert_int_equal(open_server(mem, size - 64), SHMRPC_EPROTO);
  assert_int_equal(open_server(mem, 100), SHMRPC_EPROTO); /* < header */
  assert_int_equal(open_server(mem, size), 0);
  free(mem);
}

static void segment_open_rejects_uninitialized_memory(void **state) {
  (void)state;
  size_t size = shmrpc_segment_size(64, 64);
  uint8_t *mem = test_segment_alloc(size);
  memset(mem, 0, size);
  assert_int_equal(open_server(mem, size), SHMRPC_EPROTO);
  free(mem);
}

/* The header is read once at open: rewriting it later changes nothing. */
static void segment_header_rewrite_after_open_is_ignored(void **state) {
  (void)state;
  test_pair_t pair;
  test_pair_open(&pair, 64, 64, NULL, NULL);
  put_u32(pair.mem, SHMRPC_OFF_CAPACITY_C2S, 1u << 30);
  put_u32(pair.mem, SHMRPC_OFF_CAPACITY_S2C, 1u << 30);
  put_u32(pair.mem, SHMRPC_OFF_MAGIC, 0);
  for (int i = 0; i < 20; i++) {
    uint8_t byte = (uint8_t)i;
    assert_int_equal(
        shmrpc_channel_send(&pair.client, SHMRPC_BINARY, &byte, 1, 0), 0);
    shmrpc_msg_t msg;
    assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
    assert_int_equal(msg.len, 1);
    assert_int_equal(msg.data[0], byte);
  }
  test_pair_free(&pair);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(segment_size_valid_capacities),
      cmocka_unit_test(segment_size_invalid_capacities),
      cmocka_unit_test(segment_init_writes_header),
      cmocka_unit_test(segment_init_rejects_bad_arguments),
      cmocka_unit_test(segment_open_publishes_limit_then_open),
      cmocka_unit_test(segment_open_rejects_bad_arguments),
      cmocka_unit_test(segment_open_accepts_other_minor_version),
      cmocka_unit_test(segment_open_rejects_other_major_version),
      cmocka_unit_test(segment_open_rejects_corrupt_header),
      cmocka_unit_test(segment_open_rejects_wrong_memory_size),
      cmocka_unit_test(segment_open_rejects_uninitialized_memory),
      cmocka_unit_test(segment_header_rewrite_after_open_is_ignored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
