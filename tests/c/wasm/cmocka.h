/* The part of cmocka's API that the C protocol tests use, for the
 * WebAssembly build (tests/c/wasm/CMakeLists.txt). cmocka itself needs
 * setjmp/longjmp, which clang 14's wasm32 target and Debian's wasi-libc
 * lack, so a failed assertion here prints where and why and ends the
 * program with status 1 instead of unwinding to the next test: a test file
 * passes only when every test in it passes, as under ctest. Native builds
 * use the real cmocka. */
#ifndef SHMRPC_WASM_CMOCKA_H
#define SHMRPC_WASM_CMOCKA_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct CMUnitTest {
  const char *name;
  void (*test)(void **state);
  int (*setup)(void **state);
  int (*teardown)(void **state);
};

#define cmocka_unit_test(f) {#f, f, NULL, NULL}
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                    \
  {#f, f, setup, teardown}

__attribute__((noreturn, format(printf, 3, 4))) static inline void
cm_fail(const char *file, int line, const char *fmt, ...) {
  __builtin_va_list args;
  __builtin_va_start(args, fmt);
  fprintf(stderr, "%s:%d: ", file, line);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  __builtin_va_end(args);
  fflush(stdout);
  exit(1);
}

#define fail_msg(...) cm_fail(__FILE__, __LINE__, __VA_ARGS__)
#define fail() fail_msg("failed")
#define assert_true(c)                                                         \
  do {                                                                         \
    if (!(c))                                                                  \
      fail_msg("%s is false", #c);                                             \
  } while (0)
#define assert_false(c)                                                        \
  do {                                                                         \
    if (c)                                                                     \
      fail_msg("%s is true", #c);                                              \
  } while (0)
#define assert_int_equal(a, b)                                                 \
  do {                                                                         \
    uintmax_t cm_a = (uintmax_t)(a), cm_b = (uintmax_t)(b);                    \
    if (cm_a != cm_b)                                                          \
      fail_msg("%jd != %jd (%s, %s)", (intmax_t)cm_a, (intmax_t)cm_b, #a, #b); \
  } while (0)
#define assert_int_not_equal(a, b)                                             \
  do {                                                                         \
    if ((uintmax_t)(a) == (uintmax_t)(b))                                      \
      fail_msg("%s == %s", #a, #b);                                            \
  } while (0)
#define assert_ptr_equal(a, b)                                                 \
  do {                                                                         \
    if ((const void *)(a) != (const void *)(b))                                \
      fail_msg("%s != %s", #a, #b);                                            \
  } while (0)
#define assert_null(p) assert_ptr_equal(p, NULL)
#define assert_non_null(p)                                                     \
  do {                                                                         \
    if ((const void *)(p) == NULL)                                             \
      fail_msg("%s is NULL", #p);                                              \
  } while (0)
#define assert_memory_equal(a, b, n)                                           \
  do {                                                                         \
    if (memcmp((a), (b), (n)) != 0)                                            \
      fail_msg("%zu bytes of %s and %s differ", (size_t)(n), #a, #b);          \
  } while (0)
#define assert_string_equal(a, b)                                              \
  do {                                                                         \
    if (strcmp((a), (b)) != 0)                                                 \
      fail_msg("\"%s\" != \"%s\"", (a), (b));                                  \
  } while (0)
#define assert_string_not_equal(a, b)                                          \
  do {                                                                         \
    if (strcmp((a), (b)) == 0)                                                 \
      fail_msg("\"%s\" == \"%s\"", (a), (b));                                  \
  } while (0)

static inline int cm_run_group(const char *group, const struct CMUnitTest *tests,
                               size_t count) {
  printf("[==========] %s: running %zu test(s)\n", group, count);
  for (size_t i = 0; i < count; i++) {
    void *state = NULL;
    printf("[ RUN      ] %s\n", tests[i].name);
    if (tests[i].setup != NULL && tests[i].setup(&state) != 0)
      cm_fail(__FILE__, __LINE__, "setup of %s failed", tests[i].name);
    tests[i].test(&state);
    if (tests[i].teardown != NULL && tests[i].teardown(&state) != 0)
      cm_fail(__FILE__, __LINE__, "teardown of %s failed", tests[i].name);
    printf("[       OK ] %s\n", tests[i].name);
  }
  printf("[  PASSED  ] %zu test(s).\n", count);
  return 0;
}

#define cmocka_run_group_tests(tests, group_setup, group_teardown)             \
  cm_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]))

#endif /* SHMRPC_WASM_CMOCKA_H */
