/* Frame header encoding and decoding (docs/PROTOCOL.md section 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shmrpc.h"

static void frame_encode_text_length_2(void **state) {
  (void)state;
  uint8_t out[5];
  shmrpc_frame_header_encode(out, SHMRPC_TEXT, false, 2);
  /* type TEXT, MORE clear | length 2, big-endian */
  const uint8_t want[5] = {0x00, 0x00, 0x00, 0x00, 0x02};
  assert_memory_equal(out, want, 5);
}

static void frame_encode_more_and_big_endian_length(void **state) {
  (void)state;
  uint8_t out[5];
  shmrpc_frame_header_encode(out, SHMRPC_BINARY, true, 0x01020304u);
  /* type BINARY | MORE (0x80) | length 0x01020304, most significant first */
  const uint8_t want[5] = {0x81, 0x01, 0x02, 0x03, 0x04};
  assert_memory_equal(out, want, 5);
}

static void frame_encode_max_length(void **state) {
  (void)state;
  uint8_t out[5];
  shmrpc_frame_header_encode(out, SHMRPC_COMMAND, false, UINT32_MAX);
  const uint8_t want[5] = {0x02, 0xff, 0xff, 0xff, 0xff};
  assert_memory_equal(out, want, 5);
}

static void frame_decode_roundtrip_every_type_and_flag(void **state) {
  (void)state;
  const uint32_t lengths[] = {0, 1, 255, 256, 65536, 0x7fffffffu, UINT32_MAX};
  for (unsigned type = 0; type <= 2; type++) {
    for (int more = 0; more <= 1; more++) {
      for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        uint8_t raw[5];
        shmrpc_frame_header_encode(raw, (uint8_t)type, more, lengths[i]);
        shmrpc_frame_header_t header;
        assert_int_equal(shmrpc_frame_header_decode(raw, &header), 0);
        assert_int_equal(header.type, type);
        assert_int_equal(header.more, more);
        assert_int_equal(header.length, lengths[i]);
      }
    }
  }
}

static void frame_decode_reserved_types_fail(void **state) {
  (void)state;
  for (unsigned byte = 0; byte <= 0xff; byte++) {
    uint8_t raw[5] = {(uint8_t)byte, 0, 0, 0, 1};
    shmrpc_frame_header_t header;
    int rc = shmrpc_frame_header_decode(raw, &header);
    unsigned type = byte & 0x7f;
    assert_int_equal(rc, type <= 2 ? 0 : SHMRPC_EPROTO);
  }
}

static void frame_type_valid_only_for_defined_types(void **state) {
  (void)state;
  assert_true(shmrpc_frame_type_valid(SHMRPC_TEXT));
  assert_true(shmrpc_frame_type_valid(SHMRPC_BINARY));
  assert_true(shmrpc_frame_type_valid(SHMRPC_COMMAND));
  assert_false(shmrpc_frame_type_valid(3));
  assert_false(shmrpc_frame_type_valid(127));
  assert_false(shmrpc_frame_type_valid(0x80));
  assert_false(shmrpc_frame_type_valid(0x81));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_encode_text_length_2),
      cmocka_unit_test(frame_encode_more_and_big_endian_length),
      cmocka_unit_test(frame_encode_max_length),
      cmocka_unit_test(frame_decode_roundtrip_every_type_and_flag),
      cmocka_unit_test(frame_decode_reserved_types_fail),
      cmocka_unit_test(frame_type_valid_only_for_defined_types),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
