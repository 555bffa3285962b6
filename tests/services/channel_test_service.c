/* A service for the channel's end-to-end tests (tests/js/in-process.test.ts).
 * Its config string picks the behaviour:
 *   "echo"       sends every message back unchanged;
 *   "slow-sink"  takes each TEXT/BINARY message slowly (50 µs), folding its
 *                type and bytes into a running FNV-1a hash; a COMMAND asks
 *                for {"messages":N,"bytes":B,"hash":H} (COMMAND reply);
 *   "refuse"     returns SHMRPC_EINVAL at once without opening the channel;
 *   "vanish"     takes one message, then returns without answering or
 *                closing (a service that died: the host marks it DEAD).
 *   "exit-thread" takes one message, then ends its thread with pthread_exit
 *                (the host still sees it end and marks it DEAD). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <shmrpc/host.h>

typedef struct sink_s {
  shmrpc_channel_t *ch;
  unsigned long long messages, bytes;
  uint32_t hash;
} sink_t;

static uint32_t fnv1a(uint32_t hash, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; i++)
    hash = (hash ^ data[i]) * 16777619u;
  return hash;
}

static void echo(void *user, const shmrpc_msg_t *msg) {
  (void)shmrpc_channel_send(user, msg->type, msg->data, msg->len, -1);
}

static void slow_sink(void *user, const shmrpc_msg_t *msg) {
  sink_t *sink = user;
  if (msg->type == SHMRPC_COMMAND) {
    char report[128];
    int len = snprintf(report, sizeof report,
                       "{\"messages\":%llu,\"bytes\":%llu,\"hash\":%u}",
                       sink->messages, sink->bytes, sink->hash);
    (void)shmrpc_channel_send(sink->ch, SHMRPC_COMMAND, report, (size_t)len, -1);
    return;
  }
  struct timespec pause = {.tv_nsec = 50000};
  nanosleep(&pause, NULL);
  sink->messages++;
  sink->bytes += msg->len;
  sink->hash = fnv1a(sink->hash, &msg->type, 1);
  sink->hash = fnv1a(sink->hash, msg->data, msg->len);
}

SHMRPC_EXTERN int shmrpc_serve(const shmrpc_host_t *host) {
  const char *mode = host->config != NULL ? host->config : "echo";
  if (strcmp(mode, "refuse") == 0)
    return SHMRPC_EINVAL;
  shmrpc_channel_t ch;
  int rc = shmrpc_host_open_channel(host, &ch);
  if (rc < 0)
    return rc;
  if (strcmp(mode, "vanish") == 0) {
    shmrpc_msg_t msg;
    rc = shmrpc_channel_recv(&ch, &msg, -1);
    shmrpc_channel_destroy(&ch);
    return rc == 1 ? 0 : rc;
  }
  if (strcmp(mode, "exit-thread") == 0) {
    shmrpc_msg_t msg;
    (void)shmrpc_channel_recv(&ch, &msg, -1);
    pthread_exit(NULL);
  }
  if (strcmp(mode, "slow-sink") == 0) {
    sink_t sink = {.ch = &ch, .hash = 2166136261u};
    rc = shmrpc_host_run(&ch, slow_sink, &sink);
  } else {
    rc = shmrpc_host_run(&ch, echo, &ch);
  }
  shmrpc_channel_destroy(&ch);
  return rc;
}
