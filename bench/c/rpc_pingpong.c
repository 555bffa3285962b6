/* C-to-C unary calls through shmrpc's RPC server: a service library (the
 * one bench/rpc.ts calls) hosted on a thread pinned to CPU 1 the way the
 * addon hosts it, and a client on CPU 0 that writes each REQUEST envelope
 * by hand and spins for the RESPONSE. Both sides spin. This is the floor
 * under the JavaScript unary figures: the server's own cost plus two
 * cross-core hand-offs. Prints {"name":"c_rpc_echo","p50_us":..,"p99_us":..}.
 * Usage: bench_rpc_pingpong SERVICE.so [rounds] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmrpc.h>
#include <shmrpc/host.h>
#include <shmrpc/rpc.h>

#include "bench_util.h"
#include "rpc_bench.shmrpc.h"

#define CAPACITY (64u << 10)
#define SPIN_NS 1000000000u
#define PAYLOAD_BYTES 16

static shmrpc_host_t host = {
    .abi_version = SHMRPC_HOST_ABI_VERSION,
    .spin_ns = SPIN_NS,
};

static void *serve(void *entry) {
  bench_pin(1);
  int rc = ((shmrpc_serve_fn)entry)(&host);
  if (rc < 0)
    fprintf(stderr, "bench_rpc_pingpong: the service failed: %s\n",
            shmrpc_strerror(rc));
  return NULL;
}

/* The request: envelope header, then Blob{data: 16 zero bytes}. */
static size_t write_request(uint8_t *out, uint32_t call_id) {
  shmrpc_envelope_t env = {.kind = SHMRPC_RPC_REQUEST,
                           .call_id = call_id,
                           .method_id = bench_Bench_Echo_ID,
                           .schema_hash = bench_Bench_Echo_SCHEMA_HASH};
  shmrpc_envelope_write_header(&env, out);
  uint8_t *body = out + 28;
  body[0] = 0x0a; /* field 1, length-delimited */
  body[1] = PAYLOAD_BYTES;
  memset(body + 2, 0, PAYLOAD_BYTES);
  return 28 + 2 + PAYLOAD_BYTES;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SERVICE.so [rounds]\n", argv[0]);
    return 2;
  }
  long rounds = argc > 2 ? atol(argv[2]) : 200000;
  void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  void *entry = library != NULL ? dlsym(library, SHMRPC_SERVE_SYMBOL) : NULL;
  if (entry == NULL) {
    fprintf(stderr, "bench_rpc_pingpong: %s\n", dlerror());
    return 1;
  }
  host.segment_size = shmrpc_segment_size(CAPACITY, CAPACITY);
  host.segment = aligned_alloc(64, host.segment_size);
  if (host.segment == NULL ||
      shmrpc_segment_init(host.segment, host.segment_size, CAPACITY, CAPACITY) < 0)
    return 1;
  pthread_t thread;
  pthread_create(&thread, NULL, serve, entry);
  bench_pin(0);
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = SPIN_NS;
  shmrpc_channel_t ch;
  if (shmrpc_channel_open(&ch, host.segment, host.segment_size, SHMRPC_SIDE_CLIENT, &opts) < 0)
    return 1;
  uint8_t request[64];
  long warmup = rounds / 10;
  double *samples = malloc(sizeof(double) * (size_t)rounds);
  for (long i = -warmup; i < rounds; i++) {
    uint64_t start = bench_now_ns();
    size_t len = write_request(request, (uint32_t)(i + warmup + 1));
    shmrpc_msg_t reply;
    shmrpc_envelope_t env;
    if (shmrpc_channel_send(&ch, SHMRPC_COMMAND, request, len, -1) < 0 ||
        shmrpc_channel_recv(&ch, &reply, -1) != 1 ||
        shmrpc_envelope_parse(reply.data, reply.len, &env, NULL) != 0 ||
        env.kind != SHMRPC_RPC_RESPONSE || env.body_len != 2 + PAYLOAD_BYTES) {
      fprintf(stderr, "bench_rpc_pingpong: call %ld got no echo\n", i);
      return 1;
    }
    if (i >= 0)
      samples[i] = (double)(bench_now_ns() - start) / 1000.0;
  }
  shmrpc_channel_close(&ch);
  pthread_join(thread, NULL);
  shmrpc_channel_destroy(&ch);
  bench_print_latency("c_rpc_echo", samples, (size_t)rounds);
  free(samples);
  free(host.segment);
  return 0;
}
