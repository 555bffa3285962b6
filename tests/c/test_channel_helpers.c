#include <stdlib.h>
#include <string.h>

#include "test_channel_helpers.h"

void collect(void *user, const shmrpc_msg_t *msg) {
  collector_t *c = user;
  c->count++;
  c->bytes += msg->len;
  free(c->last);
  c->last = malloc(msg->len + 1);
  memcpy(c->last, msg->data, msg->len);
  c->last_len = msg->len;
  c->last_type = msg->type;
  for (size_t i = 0; i < msg->len; i++)
    c->checksum = c->checksum * 31 + msg->data[i];
}

void *collect_until_closed(void *arg) {
  collector_t *c = arg;
  int rc;
  do
    rc = shmrpc_channel_dispatch(c->ch, collect, c, -1);
  while (rc >= 0);
  c->result = rc;
  return NULL;
}

void *send_in_thread(void *arg) {
  blocked_send_t *b = arg;
  uint8_t *payload = calloc(1, b->len + 1);
  b->result =
      shmrpc_channel_send(b->ch, SHMRPC_BINARY, payload, b->len, b->timeout_ms);
  free(payload);
  return NULL;
}
