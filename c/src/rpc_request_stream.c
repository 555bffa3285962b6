/* The request stream of client-streaming and bidirectional calls
 * (docs/PROTOCOL.md section 7, "Request streams"): REQUEST_MESSAGEs wait
 * in their call's inbox, as copies of their bodies, until the handler
 * reads them; the server grants the client credit for a window of them
 * when the call starts and grants back what the handler read, so a slow
 * handler slows the client and at most a window of messages waits per
 * call. A message beyond the credit, or after REQUEST_END, ends the call
 * with INVALID_ARGUMENT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>

#include "rpc_internal.h"

static void send_credit(shmrpc_server_t *server, uint32_t call_id,
                        uint32_t credit) {
  shmrpc_envelope_t header = {
      .kind = SHMRPC_RPC_CREDIT, .call_id = call_id, .credit = credit};
  /* A failure means the channel is ending: the call's read sees it. */
  (void)shmrpc__send_bytes(server->channel, &header, NULL, 0);
}

void shmrpc__request_stream_open(shmrpc_server_t *server, shmrpc_call_t *call) {
  pthread_mutex_lock(&server->lock);
  call->request_credit = server->request_window;
  pthread_mutex_unlock(&server->lock);
  send_credit(server, call->id, server->request_window);
}

void shmrpc__request_stream_free(shmrpc_call_t *call) {
  while (call->inbox_head != NULL) {
    shmrpc__inbox_item_t *item = call->inbox_head;
    call->inbox_head = item->next;
    free(item);
  }
  call->inbox_tail = NULL;
}

/* Why the client may not send `kind` for `call` now, or NULL. Lock held. */
static const char *stream_violation(const shmrpc_call_t *call, uint8_t kind) {
  if (!shmrpc__streams_requests(call->method))
    return "a request stream message for a call without a request stream";
  if (call->request_ended)
    return "a request stream message after REQUEST_END";
  if (kind == SHMRPC_RPC_REQUEST_MESSAGE && call->request_credit == 0)
    return "more request messages than the credit granted";
  return NULL;
}

void shmrpc__request_stream_receive(shmrpc_server_t *server,
                                    const shmrpc_envelope_t *env) {
  shmrpc__inbox_item_t *item = NULL;
  if (env->kind == SHMRPC_RPC_REQUEST_MESSAGE) {
    item = malloc(sizeof *item + env->body_len);
    if (item != NULL) {
      item->next = NULL;
      item->len = env->body_len;
      if (env->body_len > 0)
        memcpy(item->data, env->body, env->body_len);
    }
  }
  shmrpc_call_t *hooks = NULL;
  const char *violation = NULL;
  int stop = 0;
  pthread_mutex_lock(&server->lock);
  shmrpc_call_t *call = shmrpc__call_table_find(&server->table, env->call_id);
  if (call == NULL) {
    /* The call ended (answered, cancelled, expired) while the client was
     * still sending: nothing waits for this message. */
  } else if ((violation = stream_violation(call, env->kind)) != NULL) {
    stop = SHMRPC_STATUS_INVALID_ARGUMENT;
  } else if (env->kind == SHMRPC_RPC_REQUEST_END) {
    call->request_ended = true;
    pthread_cond_broadcast(&server->changed);
  } else if (item == NULL) {
    stop = SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  } else {
    call->request_credit--;
    if (call->inbox_tail != NULL)
      call->inbox_tail->next = item;
    else
      call->inbox_head = item;
    call->inbox_tail = item;
    item = NULL;
    pthread_cond_broadcast(&server->changed);
  }
  if (stop != 0)
    shmrpc__call_stop_locked(server, call, (uint32_t)stop, &hooks);
  pthread_mutex_unlock(&server->lock);
  free(item);
  if (stop == SHMRPC_STATUS_INVALID_ARGUMENT) {
    char text[160];
    snprintf(text, sizeof text, "protocol violation: %s", violation);
    (void)shmrpc__send_error(server->channel, env->call_id, stop, text);
  } else if (stop != 0) {
    (void)shmrpc__send_error(server->channel, env->call_id, stop,
                             "out of memory for a request message");
  }
  shmrpc__run_cancel_hooks(server, hooks);
}

/* Takes the next message of the inbox, waiting for one. Lock held on entry
 * and return. Sets *out to NULL at the end of the stream. Returns OK or the
 * status that stops the call. */
static int next_locked(shmrpc_call_t *call, shmrpc__inbox_item_t **out) {
  for (;;) {
    int stopped = shmrpc__call_stopped_locked(call);
    if (stopped != SHMRPC_STATUS_OK)
      return stopped;
    shmrpc__inbox_item_t *item = call->inbox_head;
    if (item != NULL) {
      call->inbox_head = item->next;
      if (call->inbox_head == NULL)
        call->inbox_tail = NULL;
      *out = item;
      return SHMRPC_STATUS_OK;
    }
    if (call->request_ended) {
      *out = NULL;
      return SHMRPC_STATUS_OK;
    }
    int rc = shmrpc__call_wait_locked(call);
    if (rc != SHMRPC_STATUS_OK)
      return rc;
  }
}

int shmrpc_call_read(shmrpc_call_t *call, const void **message) {
  if (message != NULL)
    *message = NULL;
  if (call == NULL || message == NULL ||
      !shmrpc__streams_requests(call->method))
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  shmrpc_server_t *server = call->server;
  const shmrpc_method_t *m = call->method;
  shmrpc__inbox_item_t *item = NULL;
  uint32_t grant = 0;
  pthread_mutex_lock(&server->lock);
  int status = call->finished ? SHMRPC_STATUS_FAILED_PRECONDITION
                              : next_locked(call, &item);
  /* Grant back what the handler read, in batches of half a window (at
   * least one message), as the client does for response streams. */
  if (item != NULL && ++call->request_read * 2 >= server->request_window) {
    grant = call->request_read;
    call->request_read = 0;
    call->request_credit += grant;
  }
  pthread_mutex_unlock(&server->lock);
  if (status != SHMRPC_STATUS_OK || item == NULL)
    return status;
  if (grant > 0)
    send_credit(server, call->id, grant);
  /* The previous message's pointer fields go before the next is decoded
   * into the same struct. */
  pb_release(m->request_fields, call->request);
  memset(call->request, 0, m->request_size);
  pb_istream_t stream = pb_istream_from_buffer(item->data, item->len);
  bool ok = pb_decode(&stream, m->request_fields, call->request);
  free(item);
  if (!ok) {
    (void)shmrpc_call_set_error(call, "request message does not decode: %s",
                                PB_GET_ERROR(&stream));
    pb_release(m->request_fields, call->request);
    memset(call->request, 0, m->request_size);
    return SHMRPC_STATUS_INVALID_ARGUMENT;
  }
  *message = call->request;
  return SHMRPC_STATUS_OK;
}
