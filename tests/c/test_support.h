/* Helpers shared by the channel-level tests: an exact-size segment (so
 * AddressSanitizer flags any byte read past it), a connected client/server
 * pair, golden-vector files, and threads. */
#ifndef SHMRPC_TEST_SUPPORT_H
#define SHMRPC_TEST_SUPPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shmrpc.h"

typedef struct test_pair_s {
  uint8_t *mem;
  size_t size;
  shmrpc_channel_t client;
  shmrpc_channel_t server;
} test_pair_t;

/* 64-byte aligned, exactly `size` bytes; free with free(). */
uint8_t *test_segment_alloc(size_t size);

/* Creates a segment and opens both sides. Either options pointer may be
 * NULL for the defaults. Fails the test on error. */
void test_pair_open(test_pair_t *pair, uint32_t c2s, uint32_t s2c,
                    const shmrpc_channel_options_t *client_opts,
                    const shmrpc_channel_options_t *server_opts);
/* Closes and destroys both sides and frees the segment. */
void test_pair_free(test_pair_t *pair);

/* The shared word at `offset` in the segment. */
uint32_t *test_word(test_pair_t *pair, uint32_t offset);

/* Reads tests/vectors/<name> into a malloc'd buffer. Fails the test when
 * it cannot. */
uint8_t *test_read_vector(const char *name, size_t *len);

/* Fills `buf` with bytes derived from `seed` (xorshift). */
void test_fill(uint8_t *buf, size_t len, uint64_t seed);

/* Milliseconds on CLOCK_MONOTONIC. */
double test_now_ms(void);

/* Waits (polling, up to 5 s) until another thread stores `value` into
 * the shared word, e.g. a wait word when a peer parks. Fails the test on
 * timeout. */
void test_wait_for_word(uint32_t *word, uint32_t value);

/* Starts a thread; fails the test on error. */
void test_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* A shmrpc_waiter_t that counts its calls and sleeps on the default
 * (futex) waiter, plus a wake_loop hook that counts. Counters are atomic:
 * read them with test_count. */
typedef struct test_counting_s {
  shmrpc_waiter_t waiter;
  unsigned waits, wakes, loop_wakes;
  uint32_t *last_woken;
} test_counting_t;

void test_counting_init(test_counting_t *c);
/* Parking over the counting waiter, with the counting wake_loop hook when
 * `with_loop`. */
shmrpc_parking_t test_counting_parking(test_counting_t *c, bool with_loop);
unsigned test_count(const unsigned *counter);

#endif /* SHMRPC_TEST_SUPPORT_H */
