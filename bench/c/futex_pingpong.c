/* C-to-C round trips between two threads pinned to different cores, through
 * a futex (both sides sleep: the cost of a kernel wake-up each way) and by
 * spinning (the floor of any shared-memory hand-off). Prints JSON lines:
 *   {"name":"c_futex_pingpong","p50_us":..,"p99_us":..}
 * Usage: bench_futex_pingpong [rounds] */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"

static _Atomic uint32_t ball; /* odd: the pong side's turn, even: ping's */
static int use_futex;
static long rounds;

static void wait_for_turn(uint32_t want) {
  uint32_t seen;
  while ((seen = atomic_load(&ball)) != want) {
    if (use_futex)
      syscall(SYS_futex, &ball, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
  }
}

static void pass_to(uint32_t next) {
  atomic_store(&ball, next);
  if (use_futex)
    syscall(SYS_futex, &ball, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pong(void *arg) {
  (void)arg;
  bench_pin(1);
  for (long i = 0; i < rounds; i++) {
    wait_for_turn((uint32_t)(2 * i + 1));
    pass_to((uint32_t)(2 * i + 2));
  }
  return NULL;
}

static void run(const char *name, int futex, long count) {
  use_futex = futex;
  rounds = count;
  atomic_store(&ball, 0);
  double *samples = malloc(sizeof(double) * (size_t)count);
  pthread_t thread;
  pthread_create(&thread, NULL, pong, NULL);
  bench_pin(0);
  for (long i = 0; i < count; i++) {
    uint64_t start = bench_now_ns();
    pass_to((uint32_t)(2 * i + 1));
    wait_for_turn((uint32_t)(2 * i + 2));
    samples[i] = (double)(bench_now_ns() - start) / 1000.0;
  }
  pthread_join(thread, NULL);
  bench_print_latency(name, samples, (size_t)count);
  free(samples);
}

int main(int argc, char **argv) {
  long count = argc > 1 ? atol(argv[1]) : 20000;
  run("c_futex_pingpong", 1, count);
  run("c_spin_pingpong", 0, count * 10);
  return 0;
}
