/* The echo service: sends every message back with the same type. Built as a
 * shared library that the Node addon (or any host) loads; no Node-API here. */
#include <shmrpc/host.h>

static void echo(void *user, const shmrpc_msg_t *msg) {
  shmrpc_channel_t *ch = user;
  /* Blocks while JavaScript's ring is full; fails only once it closed. */
  (void)shmrpc_channel_send(ch, msg->type, msg->data, msg->len, -1);
}

SHMRPC_EXTERN int shmrpc_serve(const shmrpc_host_t *host) {
  shmrpc_channel_t ch;
  int rc = shmrpc_host_open_channel(host, &ch);
  if (rc < 0)
    return rc;
  rc = shmrpc_host_run(&ch, echo, &ch);
  shmrpc_channel_destroy(&ch);
  return rc;
}
