/* The call context a handler works with: accessors, cancellation, the
 * stream writer with credit, and finishing a call (possibly deferred, from
 * any thread). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pb_decode.h>

#include "rpc_internal.h"

/* --- lifetime (lock held) --- */

void shmrpc__call_untrack_locked(shmrpc_call_t *call) {
  shmrpc_server_t *server = call->server;
  if (!call->in_table)
    return;
  call->in_table = false;
  shmrpc__call_table_remove(&server->table, call);
  shmrpc__deadline_heap_remove(&server->deadlines, call);
  shmrpc__call_unref_locked(call);
}

void shmrpc__call_unref_locked(shmrpc_call_t *call) {
  if (--call->refs > 0)
    return;
  shmrpc_server_t *server = call->server;
  if (call->prev != NULL)
    call->prev->next = call->next;
  else
    server->live = call->next;
  if (call->next != NULL)
    call->next->prev = call->prev;
  server->live_count--;
  shmrpc__request_stream_free(call);
  free(call);
}

/* --- accessors --- */

uint32_t shmrpc_call_id(const shmrpc_call_t *call) { return call->id; }

const shmrpc_method_t *shmrpc_call_method(const shmrpc_call_t *call) {
  return call->method;
}

void *shmrpc_call_user_data(const shmrpc_call_t *call) {
  return call->registration->user_data;
}

shmrpc_server_t *shmrpc_call_server(const shmrpc_call_t *call) {
  return call->server;
}

const char *shmrpc_call_peer(const shmrpc_call_t *call) {
  return call->server->peer;
}

uint64_t shmrpc_call_deadline_ns(const shmrpc_call_t *call) {
  return call->deadline_ns;
}

int64_t shmrpc_call_time_left_us(const shmrpc_call_t *call) {
  if (call->deadline_ns == 0)
    return -1;
  uint64_t now = shmrpc__rpc_now_ns();
  return now >= call->deadline_ns ? 0
                                  : (int64_t)((call->deadline_ns - now) / 1000);
}

static bool deadline_passed(const shmrpc_call_t *call) {
  return call->deadline_ns != 0 && shmrpc__rpc_now_ns() >= call->deadline_ns;
}

static uint32_t stop_status(const shmrpc_call_t *call) {
  return __atomic_load_n(&call->stop_status, __ATOMIC_ACQUIRE);
}

bool shmrpc_call_cancelled(const shmrpc_call_t *call) {
  return stop_status(call) != 0 || deadline_passed(call);
}

void shmrpc_call_on_cancel(shmrpc_call_t *call, shmrpc_cancel_fn fn,
                           void *user) {
  shmrpc_server_t *server = call->server;
  pthread_mutex_lock(&server->lock);
  bool stopped = call->stop_status != 0;
  if (!stopped) {
    call->on_cancel = fn;
    call->on_cancel_user = user;
  }
  pthread_mutex_unlock(&server->lock);
  if (stopped && fn != NULL)
    fn(call, user);
}

int shmrpc_call_set_error(shmrpc_call_t *call, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int len = vsnprintf(NULL, 0, fmt, args);
  va_end(args);
  if (len < 0)
    return SHMRPC_EINVAL;
  char *text = malloc((size_t)len + 1);
  if (text == NULL)
    return SHMRPC_ENOMEM;
  va_start(args, fmt);
  vsnprintf(text, (size_t)len + 1, fmt, args);
  va_end(args);
  free(call->error_message);
  call->error_message = text;
  return 0;
}

/* --- sending --- */

/* The status a handler sees for a failed send of the channel layer. */
static int send_status(int rc) {
  switch (rc) {
  case 0:
    return SHMRPC_STATUS_OK;
  case SHMRPC_EMSGSIZE:
  case SHMRPC_ENOMEM:
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  case SHMRPC_EINVAL:
    return SHMRPC_STATUS_INTERNAL;
  default: /* ECLOSED, EPROTO */
    return SHMRPC_STATUS_UNAVAILABLE;
  }
}

/* Waits until the call has credit (and takes one) or cannot send. Lock
 * held on entry and return. Returns OK or the status that stops it. */
static int take_credit_locked(shmrpc_call_t *call) {
  for (;;) {
    int stopped = shmrpc__call_stopped_locked(call);
    if (stopped != SHMRPC_STATUS_OK)
      return stopped;
    if (call->credit > 0) {
      call->credit--;
      return SHMRPC_STATUS_OK;
    }
    int rc = shmrpc__call_wait_locked(call);
    if (rc != SHMRPC_STATUS_OK)
      return rc;
  }
}

int shmrpc__call_stopped_locked(const shmrpc_call_t *call) {
  if (call->stop_status != 0)
    return (int)call->stop_status;
  return deadline_passed(call) ? SHMRPC_STATUS_DEADLINE_EXCEEDED
                               : SHMRPC_STATUS_OK;
}

int shmrpc__call_wait_locked(shmrpc_call_t *call) {
  shmrpc_server_t *server = call->server;
  if (shmrpc__on_dispatch_thread(server)) {
    /* Nobody else reads the channel: read CREDIT, CANCEL and request
     * messages here, until this call's deadline at the latest. */
    pthread_mutex_unlock(&server->lock);
    int wait = shmrpc__server_wait_ms(server, call->deadline_ns);
    int rc = shmrpc__server_pump(server, wait, true);
    pthread_mutex_lock(&server->lock);
    if (rc < 0 && call->stop_status == 0)
      return SHMRPC_STATUS_UNAVAILABLE;
  } else if (call->deadline_ns == 0) {
    pthread_cond_wait(&server->changed, &server->lock);
  } else {
    struct timespec at = {(time_t)(call->deadline_ns / 1000000000u),
                          (long)(call->deadline_ns % 1000000000u)};
    pthread_cond_timedwait(&server->changed, &server->lock, &at);
  }
  return SHMRPC_STATUS_OK;
}

int shmrpc_call_write(shmrpc_call_t *call, const void *message) {
  if (call == NULL || message == NULL ||
      !shmrpc__streams_responses(call->method))
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  shmrpc_server_t *server = call->server;
  pthread_mutex_lock(&server->lock);
  int status = call->finished ? SHMRPC_STATUS_FAILED_PRECONDITION
                              : take_credit_locked(call);
  pthread_mutex_unlock(&server->lock);
  if (status != SHMRPC_STATUS_OK)
    return status;
  shmrpc_envelope_t header = {.kind = SHMRPC_RPC_STREAM_MESSAGE,
                              .call_id = call->id};
  const char *why;
  return send_status(shmrpc__send_message(
      server->channel, &header, call->method->response_fields, message, &why));
}

/* Sends the call's last envelope. Returns the status the client sees. */
static int send_reply(shmrpc_call_t *call, int status, const void *response) {
  shmrpc_channel_t *ch = call->server->channel;
  const shmrpc_method_t *m = call->method;
  const char *text = call->error_message;
  if (shmrpc__streams_responses(m)) {
    shmrpc_envelope_t header = {.kind = SHMRPC_RPC_STREAM_END,
                                .call_id = call->id,
                                .status = (uint32_t)status};
    if (text == NULL)
      text = status == SHMRPC_STATUS_OK ? "" : shmrpc_status_name(status);
    return send_status(shmrpc__send_bytes(ch, &header, text, strlen(text)));
  }
  if (status != SHMRPC_STATUS_OK || response == NULL) {
    if (status == SHMRPC_STATUS_OK) {
      status = SHMRPC_STATUS_INTERNAL;
      text = "the handler finished with OK but no response";
    }
    return send_status(shmrpc__send_error(ch, call->id, status, text));
  }
  shmrpc_envelope_t header = {.kind = SHMRPC_RPC_RESPONSE, .call_id = call->id};
  const char *why = NULL;
  int rc =
      shmrpc__send_message(ch, &header, m->response_fields, response, &why);
  if (rc == SHMRPC_EMSGSIZE) {
    shmrpc__send_error(ch, call->id, SHMRPC_STATUS_RESOURCE_EXHAUSTED,
                       "response larger than the client accepts");
  } else if (rc == SHMRPC_EINVAL) {
    char detail[160];
    snprintf(detail, sizeof detail, "response does not encode: %s",
             why != NULL ? why : "?");
    shmrpc__send_error(ch, call->id, SHMRPC_STATUS_INTERNAL, detail);
  } else if (rc == SHMRPC_ENOMEM) {
    shmrpc__send_error(ch, call->id, SHMRPC_STATUS_RESOURCE_EXHAUSTED,
                       "out of memory");
  }
  return send_status(rc);
}

int shmrpc_call_finish(shmrpc_call_t *call, int status, const void *response) {
  if (call == NULL)
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  shmrpc_server_t *server = call->server;
  if (status < 0 || status > SHMRPC_STATUS_UNAUTHENTICATED)
    status = SHMRPC_STATUS_UNKNOWN;

  pthread_mutex_lock(&server->lock);
  if (call->finished) {
    pthread_mutex_unlock(&server->lock);
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  }
  call->finished = true;
  call->on_cancel = NULL;
  int result = (int)call->stop_status;
  /* Past its deadline but not yet expired by the dispatch loop: answer
   * as the loop would have. */
  bool expired_here = false;
  if (result == 0 && deadline_passed(call)) {
    result = SHMRPC_STATUS_DEADLINE_EXCEEDED;
    expired_here = call->in_table;
    server->abandoned++;
  }
  /* Out of the table before the reply goes out: the client may reuse the
   * id as soon as it has the reply. */
  shmrpc__call_untrack_locked(call);
  pthread_mutex_unlock(&server->lock);

  if (expired_here)
    (void)shmrpc__send_error(server->channel, call->id, result,
                             "deadline exceeded");
  else if (result == 0)
    result = send_reply(call, status, response);

  const shmrpc_method_t *m = call->method;
  pb_release(m->request_fields, call->request);
  if (call->response != NULL)
    pb_release(m->response_fields, call->response);
  free(call->error_message);
  call->error_message = NULL;

  pthread_mutex_lock(&server->lock);
  shmrpc__call_unref_locked(call);
  pthread_mutex_unlock(&server->lock);
  return result;
}
