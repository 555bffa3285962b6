/* C-to-C round trips through a shmrpc channel (two threads pinned to
 * different cores, both spinning): the floor under the JavaScript echo
 * figures. Prints {"name":"c_channel_echo","p50_us":..,"p99_us":..}.
 * Usage: bench_channel_pingpong [rounds] */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include <shmrpc.h>

#include "bench_util.h"

#define CAPACITY (64u << 10)

static void *segment;
static size_t segment_bytes;

static void echo(void *user, const shmrpc_msg_t *msg) {
  (void)shmrpc_channel_send(user, msg->type, msg->data, msg->len, -1);
}

static void *server(void *arg) {
  (void)arg;
  bench_pin(1);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 1000000000u;
  shmrpc_channel_t ch;
  if (shmrpc_channel_open(&ch, segment, segment_bytes, SHMRPC_SIDE_SERVER, &opts) < 0)
    abort();
  while (shmrpc_channel_dispatch(&ch, echo, &ch, -1) >= 0) {
  }
  shmrpc_channel_close(&ch);
  shmrpc_channel_destroy(&ch);
  return NULL;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 200000;
  segment_bytes = shmrpc_segment_size(CAPACITY, CAPACITY);
  segment = aligned_alloc(64, segment_bytes);
  if (segment == NULL || shmrpc_segment_init(segment, segment_bytes, CAPACITY, CAPACITY) < 0)
    return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, server, NULL);
  bench_pin(0);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = 1000000000u;
  shmrpc_channel_t ch;
  if (shmrpc_channel_open(&ch, segment, segment_bytes, SHMRPC_SIDE_CLIENT, &opts) < 0)
    return 1;
  uint8_t payload[16] = {0};
  shmrpc_msg_t reply;
  long warmup = rounds / 10;
  double *samples = malloc(sizeof(double) * (size_t)rounds);
  for (long i = -warmup; i < rounds; i++) {
    uint64_t start = bench_now_ns();
    if (shmrpc_channel_send(&ch, SHMRPC_BINARY, payload, sizeof payload, -1) < 0 ||
        shmrpc_channel_recv(&ch, &reply, -1) != 1)
      return 1;
    if (i >= 0)
      samples[i] = (double)(bench_now_ns() - start) / 1000.0;
  }
  shmrpc_channel_close(&ch);
  pthread_join(thread, NULL);
  shmrpc_channel_destroy(&ch);
  bench_print_latency("c_channel_echo", samples, (size_t)rounds);
  free(samples);
  free(segment);
  return 0;
}
