/* C-to-C unary calls through shmrpc's RPC server: a service library (the
 * one bench/rpc.ts calls) hosted on a thread pinned to CPU 1 the way the
 * addon hosts it, and a client on CPU 0 that writes each REQUEST envelope
 * by hand and spins for the RESPONSE. Both sides spin. This is the floor
 * under the JavaScript unary figures: the server's own cost plus two
 * cross-core hand-offs. Prints {"name":"c_rpc_echo","p50_us":..,"p99_us":..}.
 *
 * With --xproc SHMRPC_HOST, the same library is served by the shmrpc-host
 * program in a process of its own (pinned to CPU 1) and the client attaches
 * to it across processes (docs/PROTOCOL.md section 9); prints
 * "c_rpc_echo_xproc". Only the setup differs: the rings, the spin and the
 * calls are the same.
 * Usage: bench_rpc_pingpong SERVICE.so [rounds] [--xproc SHMRPC_HOST] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shmrpc.h>
#include <shmrpc/host.h>
#include <shmrpc/rpc.h>
#include <shmrpc/xproc.h>

#include "bench_util.h"
#include "rpc_bench.shmrpc.h"

#define CAPACITY (64u << 10)
#define SPIN_NS 1000000000u
#define PAYLOAD_BYTES 16

static shmrpc_host_t host = {
    .abi_version = SHMRPC_HOST_ABI_VERSION,
    .spin_ns = SPIN_NS,
    .peer = "in-process",
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

/* Calls Echo `rounds` times (after a tenth as warm-up) and prints the
 * latencies under `name`. Returns 0, or 1 when a call went wrong. */
static int measure(shmrpc_channel_t *ch, long rounds, const char *name) {
  uint8_t request[64];
  long warmup = rounds / 10;
  double *samples = malloc(sizeof(double) * (size_t)rounds);
  if (samples == NULL)
    return 1;
  for (long i = -warmup; i < rounds; i++) {
    uint64_t start = bench_now_ns();
    size_t len = write_request(request, (uint32_t)(i + warmup + 1));
    shmrpc_msg_t reply;
    shmrpc_envelope_t env;
    if (shmrpc_channel_send(ch, SHMRPC_COMMAND, request, len, -1) < 0 ||
        shmrpc_channel_recv(ch, &reply, -1) != 1 ||
        shmrpc_envelope_parse(reply.data, reply.len, &env, NULL) != 0 ||
        env.kind != SHMRPC_RPC_RESPONSE || env.body_len != 2 + PAYLOAD_BYTES) {
      fprintf(stderr, "bench_rpc_pingpong: call %ld got no echo\n", i);
      free(samples);
      return 1;
    }
    if (i >= 0)
      samples[i] = (double)(bench_now_ns() - start) / 1000.0;
  }
  bench_print_latency(name, samples, (size_t)rounds);
  free(samples);
  return 0;
}

static shmrpc_channel_options_t spinning_client(void) {
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = SPIN_NS;
  return opts;
}

/* The service on a thread of this process, as the addon hosts it. */
static int in_process(const char *service, long rounds) {
  void *library = dlopen(service, RTLD_NOW | RTLD_LOCAL);
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
  shmrpc_channel_options_t opts = spinning_client();
  shmrpc_channel_t ch;
  if (shmrpc_channel_open(&ch, host.segment, host.segment_size, SHMRPC_SIDE_CLIENT, &opts) < 0)
    return 1;
  int rc = measure(&ch, rounds, "c_rpc_echo");
  shmrpc_channel_close(&ch);
  pthread_join(thread, NULL);
  shmrpc_channel_destroy(&ch);
  free(host.segment);
  return rc;
}

/* Starts `host_program` serving `service` as "bench" in `dir`, pinned to
 * CPU 1 (affinity survives exec), its service spinning like the thread's. */
static pid_t start_host(const char *host_program, const char *service,
                        const char *dir) {
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  bench_pin(1);
  /* Its connect/disconnect log would mix with the figures. */
  freopen("/dev/null", "w", stderr);
  char spin_us[16];
  snprintf(spin_us, sizeof spin_us, "%u", SPIN_NS / 1000);
  execl(host_program, host_program, "bench", service, "--runtime-dir", dir,
        "--spin-us", spin_us, (char *)NULL);
  _exit(127);
}

/* The service in a shmrpc-host process; this process attaches to it. */
static int cross_process(const char *service, long rounds,
                         const char *host_program) {
  char dir[] = "/tmp/shmrpc-bench-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return 1;
  pid_t host_pid = start_host(host_program, service, dir);
  shmrpc_xproc_connect_options_t copts;
  shmrpc_xproc_connect_options_init(&copts);
  copts.runtime_dir = dir;
  copts.capacity_c2s = copts.capacity_s2c = CAPACITY;
  shmrpc_xproc_connection_t conn;
  int rc = SHMRPC_ENOSERVER;
  for (int tries = 0; tries < 1000 && rc != 0; tries++) {
    rc = shmrpc_xproc_connect("bench", &copts, &conn);
    if (rc != 0)
      nanosleep(&(struct timespec){.tv_nsec = 5000000}, NULL);
  }
  if (rc != 0) {
    fprintf(stderr, "bench_rpc_pingpong: %s\n", conn.error);
  } else {
    bench_pin(0);
    shmrpc_channel_options_t opts = spinning_client();
    shmrpc_channel_t ch;
    rc = shmrpc_channel_open(&ch, conn.segment, conn.segment_size,
                             SHMRPC_SIDE_CLIENT, &opts);
    if (rc == 0) {
      rc = measure(&ch, rounds, "c_rpc_echo_xproc");
      shmrpc_channel_close(&ch);
      shmrpc_channel_destroy(&ch);
    }
    shmrpc_xproc_disconnect(&conn);
  }
  kill(host_pid, SIGTERM);
  waitpid(host_pid, NULL, 0);
  rmdir(dir);
  return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SERVICE.so [rounds] [--xproc SHMRPC_HOST]\n",
            argv[0]);
    return 2;
  }
  long rounds = argc > 2 ? atol(argv[2]) : 200000;
  if (argc > 4 && strcmp(argv[3], "--xproc") == 0)
    return cross_process(argv[1], rounds, argv[4]);
  return in_process(argv[1], rounds);
}
