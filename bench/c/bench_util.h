/* Timing and statistics shared by the C benchmark peers. */
#ifndef SHMRPC_BENCH_UTIL_H
#define SHMRPC_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

uint64_t bench_now_ns(void);
/* Sorts `samples` in place and returns the value at quantile q (0..1). */
double bench_quantile(double *samples, size_t count, double q);
/* Prints {"name":..,"p50_us":..,"p99_us":..} for latencies in µs, the line
 * bench/lib/peers.ts reads (sorts `samples`). */
void bench_print_latency(const char *name, double *samples, size_t count);
/* Pins the calling thread to `cpu`; returns 0 or an errno value. */
int bench_pin(int cpu);

#endif
