/* Error names and messages (docs/PROTOCOL.md section 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shmrpc.h"

static void errors_values_match_protocol(void **state) {
  (void)state;
  assert_int_equal(SHMRPC_EINVAL, -1);
  assert_int_equal(SHMRPC_EAGAIN, -2);
  assert_int_equal(SHMRPC_ETIMEDOUT, -3);
  assert_int_equal(SHMRPC_ECLOSED, -4);
  assert_int_equal(SHMRPC_EPROTO, -5);
  assert_int_equal(SHMRPC_EMSGSIZE, -6);
  assert_int_equal(SHMRPC_ENOMEM, -7);
  assert_int_equal(SHMRPC_EVERSION, -8);
  assert_int_equal(SHMRPC_EPEERDEAD, -9);
}

static void errors_name_every_code(void **state) {
  (void)state;
  static const char *const names[] = {"EINVAL",  "EAGAIN",   "ETIMEDOUT",
                                      "ECLOSED", "EPROTO",   "EMSGSIZE",
                                      "ENOMEM",  "EVERSION", "EPEERDEAD"};
  for (int i = 0; i < 9; i++)
    assert_string_equal(shmrpc_err_name(-1 - i), names[i]);
}

static void errors_strerror_every_code(void **state) {
  (void)state;
  assert_string_equal(shmrpc_strerror(SHMRPC_EPROTO),
                      "protocol violation by peer");
  assert_string_equal(shmrpc_strerror(SHMRPC_ECLOSED), "channel closed");
  for (int err = -9; err <= -1; err++)
    assert_string_not_equal(shmrpc_strerror(err), "unknown error");
}

/* The cross-process transport's codes (docs/PROTOCOL.md section 9). */
static void errors_cross_process_codes(void **state) {
  (void)state;
  assert_int_equal(SHMRPC_ENOSERVER, -10);
  assert_int_equal(SHMRPC_EACCES, -11);
  assert_int_equal(SHMRPC_EINUSE, -12);
  assert_int_equal(SHMRPC_ESYSTEM, -13);
  static const char *const names[] = {"ENOSERVER", "EACCES", "EINUSE",
                                      "ESYSTEM"};
  for (int i = 0; i < 4; i++) {
    assert_string_equal(shmrpc_err_name(-10 - i), names[i]);
    assert_string_not_equal(shmrpc_strerror(-10 - i), "unknown error");
  }
}

static void errors_unknown_codes(void **state) {
  (void)state;
  const int unknown[] = {0, 1, -14, -1000, 42};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_string_equal(shmrpc_strerror(unknown[i]), "unknown error");
    assert_string_equal(shmrpc_err_name(unknown[i]), "UNKNOWN");
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(errors_values_match_protocol),
      cmocka_unit_test(errors_name_every_code),
      cmocka_unit_test(errors_cross_process_codes),
      cmocka_unit_test(errors_strerror_every_code),
      cmocka_unit_test(errors_unknown_codes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
