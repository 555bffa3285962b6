/* What a caller at a UI's rate costs at the least: the CPU time of two C
 * threads on different cores (both sleep between calls) that make one
 * futex round trip per tick of a `rate` per second clock, beside the same
 * clock loop without calls; medians of three alternated rounds. Read from
 * the threads' run times (/proc/self/task/<tid>/schedstat), as
 * bench/lib/cpu-load.ts reads shmrpc's. Prints one JSON line:
 *   {"name":"c_futex_rate","rate":..,"bare_percent":..,"calls_percent":..}
 * Usage: bench_futex_rate [rate] [milliseconds per round] */
#define _GNU_SOURCE
#include <dirent.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

static _Atomic uint32_t request;
static _Atomic uint32_t reply;

static void futex_wait(_Atomic uint32_t *word, uint32_t value) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Answers every request; sleeps in between. */
static void *server(void *arg) {
  (void)arg;
  bench_pin(1);
  for (uint32_t seen = 0;;) {
    while (atomic_load(&request) == seen) futex_wait(&request, seen);
    seen = atomic_load(&request);
    atomic_store(&reply, seen);
    futex_wake(&reply);
  }
  return NULL;
}

/* Nanoseconds every thread of this process has run so far. */
static double run_time_ns(void) {
  double total = 0;
  DIR *tasks = opendir("/proc/self/task");
  if (tasks == NULL) return 0;
  for (struct dirent *entry; (entry = readdir(tasks)) != NULL;) {
    if (entry->d_name[0] == '.') continue;
    char path[300];
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", entry->d_name);
    FILE *file = fopen(path, "r");
    if (file == NULL) continue;
    double ns;
    if (fscanf(file, "%lf", &ns) == 1) total += ns;
    fclose(file);
  }
  closedir(tasks);
  return total;
}

/* Percent of one core over `ms` of ticks at `rate`, with a round trip per tick or not. */
static double percent_at_rate(int calls, long rate, long ms) {
  double began = (double)bench_now_ns();
  double ran = run_time_ns();
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long tick = 0; tick < rate * ms / 1000; tick++) {
    next.tv_nsec += 1000000000L / rate;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    if (!calls) continue;
    uint32_t sent = atomic_load(&request) + 1;
    atomic_store(&request, sent);
    futex_wake(&request);
    while (atomic_load(&reply) != sent) futex_wait(&reply, sent - 1);
  }
  return 100.0 * (run_time_ns() - ran) / ((double)bench_now_ns() - began);
}

int main(int argc, char **argv) {
  long rate = argc > 1 ? atol(argv[1]) : 100;
  long ms = argc > 2 ? atol(argv[2]) : 3000;
  bench_pin(0);
  pthread_t thread;
  pthread_create(&thread, NULL, server, NULL);
  double bare[3], calls[3];
  for (int round = 0; round < 3; round++) {
    bare[round] = percent_at_rate(0, rate, ms);
    calls[round] = percent_at_rate(1, rate, ms);
  }
  printf("{\"name\":\"c_futex_rate\",\"rate\":%ld,\"bare_percent\":%.3f,\"calls_percent\":%.3f}\n", rate,
         bench_quantile(bare, 3, 0.5), bench_quantile(calls, 3, 0.5));
  return 0; /* the server thread sleeps in its futex: exit ends it */
}
