/* The service the channel benchmark talks to. Its config string picks the
 * mode:
 *   "echo"  sends every message back unchanged;
 *   "sink"  counts TEXT and BINARY messages and bytes; a COMMAND message asks
 *           for the totals, answered as COMMAND {"messages":N,"bytes":B}
 *           after which the totals restart from zero. */
#include <stdio.h>
#include <string.h>

#include <shmrpc/host.h>

typedef struct sink_s {
  shmrpc_channel_t *ch;
  unsigned long long messages;
  unsigned long long bytes;
} sink_t;

static void echo(void *user, const shmrpc_msg_t *msg) {
  (void)shmrpc_channel_send(user, msg->type, msg->data, msg->len, -1);
}

static void count(void *user, const shmrpc_msg_t *msg) {
  sink_t *sink = user;
  if (msg->type != SHMRPC_COMMAND) {
    sink->messages++;
    sink->bytes += msg->len;
    return;
  }
  char report[96];
  int len = snprintf(report, sizeof report, "{\"messages\":%llu,\"bytes\":%llu}",
                     sink->messages, sink->bytes);
  sink->messages = sink->bytes = 0;
  (void)shmrpc_channel_send(sink->ch, SHMRPC_COMMAND, report, (size_t)len, -1);
}

SHMRPC_EXTERN int shmrpc_serve(const shmrpc_host_t *host) {
  shmrpc_channel_t ch;
  int rc = shmrpc_host_open_channel(host, &ch);
  if (rc < 0)
    return rc;
  if (host->config != NULL && strcmp(host->config, "sink") == 0) {
    sink_t sink = {.ch = &ch};
    rc = shmrpc_host_run(&ch, count, &sink);
  } else {
    rc = shmrpc_host_run(&ch, echo, &ch);
  }
  shmrpc_channel_destroy(&ch);
  return rc;
}
