#include "test_support.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

uint8_t *test_segment_alloc(size_t size) {
  void *mem = NULL;
  assert_int_equal(posix_memalign(&mem, 64, size), 0);
  return mem;
}

void test_pair_open(test_pair_t *pair, uint32_t c2s, uint32_t s2c,
                    const shmrpc_channel_options_t *client_opts,
                    const shmrpc_channel_options_t *server_opts) {
  memset(pair, 0, sizeof *pair);
  pair->size = shmrpc_segment_size(c2s, s2c);
  assert_true(pair->size > 0);
  pair->mem = test_segment_alloc(pair->size);
  assert_int_equal(shmrpc_segment_init(pair->mem, pair->size, c2s, s2c), 0);
  assert_int_equal(shmrpc_channel_open(&pair->client, pair->mem, pair->size,
                                       SHMRPC_SIDE_CLIENT, client_opts),
                   0);
  assert_int_equal(shmrpc_channel_open(&pair->server, pair->mem, pair->size,
                                       SHMRPC_SIDE_SERVER, server_opts),
                   0);
}

void test_pair_free(test_pair_t *pair) {
  shmrpc_channel_close(&pair->client);
  shmrpc_channel_close(&pair->server);
  shmrpc_channel_destroy(&pair->client);
  shmrpc_channel_destroy(&pair->server);
  free(pair->mem);
  pair->mem = NULL;
}

uint32_t *test_word(test_pair_t *pair, uint32_t offset) {
  return (uint32_t *)(void *)(pair->mem + offset);
}

uint8_t *test_read_vector(const char *name, size_t *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SHMRPC_VECTORS_DIR, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open golden vector %s", path);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long size = ftell(f);
  assert_true(size >= 0);
  rewind(f);
  uint8_t *buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  *len = (size_t)size;
  return buf;
}

void test_fill(uint8_t *buf, size_t len, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (uint8_t)(x >> 24);
  }
}

double test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void test_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg) {
  assert_int_equal(pthread_create(thread, NULL, fn, arg), 0);
}

void test_wait_for_word(uint32_t *word, uint32_t value) {
  double give_up = test_now_ms() + 5000;
  while (__atomic_load_n(word, __ATOMIC_SEQ_CST) != value) {
    if (test_now_ms() > give_up)
      fail_msg("shared word never became %u", value);
  }
}

static void counting_wait(void *user, uint32_t *word, uint32_t expected,
                          uint64_t deadline_ns) {
  test_counting_t *c = user;
  __atomic_add_fetch(&c->waits, 1, __ATOMIC_SEQ_CST);
  const shmrpc_waiter_t *futex = shmrpc_default_waiter();
  futex->wait(futex->user, word, expected, deadline_ns);
}

static void counting_wake(void *user, uint32_t *word) {
  test_counting_t *c = user;
  __atomic_add_fetch(&c->wakes, 1, __ATOMIC_SEQ_CST);
  c->last_woken = word;
  const shmrpc_waiter_t *futex = shmrpc_default_waiter();
  futex->wake(futex->user, word);
}

static void counting_wake_loop(void *user) {
  test_counting_t *c = user;
  __atomic_add_fetch(&c->loop_wakes, 1, __ATOMIC_SEQ_CST);
}

void test_counting_init(test_counting_t *c) {
  memset(c, 0, sizeof *c);
  c->waiter = (shmrpc_waiter_t){counting_wait, counting_wake, c};
}

shmrpc_parking_t test_counting_parking(test_counting_t *c, bool with_loop) {
  return (shmrpc_parking_t){&c->waiter, with_loop ? counting_wake_loop : NULL,
                            c};
}

unsigned test_count(const unsigned *counter) {
  return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}
