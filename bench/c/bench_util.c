#define _GNU_SOURCE
#include "bench_util.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_quantile(double *samples, size_t count, double q) {
  qsort(samples, count, sizeof *samples, compare_double);
  size_t index = (size_t)(q * (double)(count - 1) + 0.5);
  return samples[index];
}

void bench_print_latency(const char *name, double *samples, size_t count) {
  printf("{\"name\":\"%s\",\"p50_us\":%.3f,\"p99_us\":%.3f}\n", name,
         bench_quantile(samples, count, 0.5), bench_quantile(samples, count, 0.99));
}

int bench_pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
