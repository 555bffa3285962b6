/* The RPC server: creation, the dispatch loop, and what happens to each
 * envelope a client sends (docs/PROTOCOL.md section 7). Every check on
 * client input ends in an ERROR for the call or in silence, never in a
 * crash: the envelope is parsed from fixed offsets with its length checked,
 * the request is decoded by nanopb from exactly its body bytes, and the
 * number of calls (and so the memory) is bounded by max_calls. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pb_decode.h>

#include "rpc_internal.h"

#define DEFAULT_MAX_CALLS 65536u
#define DEFAULT_REQUEST_WINDOW 16u
/* Request bytes kept while a handler waits for credit: beyond this a
 * client could make the server copy without bound. */
#define MAX_BACKLOG_BYTES ((size_t)64 << 20)
/* Messages handled per pump before deadlines are looked at again. */
#define PUMP_BATCH 256

/* The server whose poll/run is on this thread's stack, if any. */
static __thread shmrpc_server_t *dispatching;

uint64_t shmrpc__rpc_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool shmrpc__on_dispatch_thread(const shmrpc_server_t *server) {
  return dispatching == server;
}

void shmrpc_server_options_init(shmrpc_server_options_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->max_calls = DEFAULT_MAX_CALLS;
  opts->peer = "unknown";
  opts->request_window = DEFAULT_REQUEST_WINDOW;
}

/* --- creation (registration: rpc_routes.c) --- */

int shmrpc_server_create(shmrpc_channel_t *ch,
                         const shmrpc_server_options_t *opts,
                         shmrpc_server_t **out) {
  if (ch == NULL || out == NULL)
    return SHMRPC_EINVAL;
  *out = NULL;
  shmrpc_server_options_t defaults;
  shmrpc_server_options_init(&defaults);
  if (opts == NULL)
    opts = &defaults;
  if (opts->max_calls == 0 || opts->request_window == 0)
    return SHMRPC_EINVAL;
  shmrpc_server_t *server = calloc(1, sizeof *server);
  if (server == NULL)
    return SHMRPC_ENOMEM;
  server->channel = ch;
  server->max_calls = opts->max_calls;
  server->request_window = opts->request_window;
  server->on_other_message = opts->on_other_message;
  server->on_other_message_user = opts->on_other_message_user;
  server->peer = strdup(opts->peer != NULL ? opts->peer : defaults.peer);
  if (server->peer == NULL)
    goto err_peer;
  if (shmrpc__call_table_init(&server->table) != 0)
    goto err_table;
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0)
    goto err_cond;
  /* Writers wait with call deadlines, which are CLOCK_MONOTONIC. */
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&server->changed, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0)
    goto err_cond;
  if (pthread_mutex_init(&server->lock, NULL) != 0)
    goto err_mutex;
  *out = server;
  return 0;

err_mutex:
  pthread_cond_destroy(&server->changed);
err_cond:
  shmrpc__call_table_free(&server->table);
err_table:
  free(server->peer);
err_peer:
  free(server);
  return SHMRPC_ENOMEM;
}

/* --- stopping calls: cancel, deadline, close --- */

/* Marks a call that can no longer send, takes it out of the table and
 * queues its cancel hook on `hooks` (with a reference that keeps it alive
 * until the hook has run). Lock held. */
void shmrpc__call_stop_locked(shmrpc_server_t *server, shmrpc_call_t *call,
                              uint32_t status, shmrpc_call_t **hooks) {
  __atomic_store_n(&call->stop_status, status, __ATOMIC_RELEASE);
  if (!call->finished) {
    server->abandoned++;
    if (call->on_cancel != NULL) {
      call->refs++;
      call->hook_next = *hooks;
      *hooks = call;
    }
  }
  shmrpc__call_untrack_locked(call);
  pthread_cond_broadcast(&server->changed);
}

/* Runs queued cancel hooks (lock not held). A hook runs only if the call
 * has not finished in the meantime, and at most once. */
void shmrpc__run_cancel_hooks(shmrpc_server_t *server, shmrpc_call_t *hooks) {
  while (hooks != NULL) {
    shmrpc_call_t *call = hooks;
    hooks = call->hook_next;
    pthread_mutex_lock(&server->lock);
    shmrpc_cancel_fn fn = call->finished ? NULL : call->on_cancel;
    void *user = call->on_cancel_user;
    call->on_cancel = NULL;
    pthread_mutex_unlock(&server->lock);
    if (fn != NULL)
      fn(call, user);
    pthread_mutex_lock(&server->lock);
    shmrpc__call_unref_locked(call);
    pthread_mutex_unlock(&server->lock);
  }
}

/* Removes the REQUEST for `id` from the backlog, if it waits there: its
 * client gave up before the call started, so it never starts. (Dispatched
 * later, a stream would wait for credit the client never sends, and the
 * dispatch thread with it: issue 18.) The backlog is the dispatch
 * thread's, like every caller of this. */
static void drop_queued_request(shmrpc_server_t *server, uint32_t id) {
  shmrpc__backlog_item_t *prev = NULL;
  for (shmrpc__backlog_item_t *item = server->backlog_head; item != NULL;
       prev = item, item = item->next) {
    if (item->call_id != id)
      continue;
    if (prev != NULL)
      prev->next = item->next;
    else
      server->backlog_head = item->next;
    if (server->backlog_tail == item)
      server->backlog_tail = prev;
    server->backlog_count--;
    server->backlog_bytes -= item->len;
    free(item);
    return;
  }
}

static void cancel_call(shmrpc_server_t *server, uint32_t id) {
  shmrpc_call_t *hooks = NULL;
  pthread_mutex_lock(&server->lock);
  shmrpc_call_t *call = shmrpc__call_table_find(&server->table, id);
  if (call != NULL)
    shmrpc__call_stop_locked(server, call, SHMRPC_STATUS_CANCELLED, &hooks);
  pthread_mutex_unlock(&server->lock);
  if (call == NULL)
    drop_queued_request(server, id);
  shmrpc__run_cancel_hooks(server, hooks);
}

static void add_credit(shmrpc_server_t *server, uint32_t id, uint32_t credit) {
  pthread_mutex_lock(&server->lock);
  shmrpc_call_t *call = shmrpc__call_table_find(&server->table, id);
  if (call != NULL && credit > 0) {
    call->credit =
        credit > UINT32_MAX - call->credit ? UINT32_MAX : call->credit + credit;
    pthread_cond_broadcast(&server->changed);
  }
  pthread_mutex_unlock(&server->lock);
}

/* Fails every call whose deadline has passed with DEADLINE_EXCEEDED: the
 * client has given up or is about to, and a client whose timer fires late
 * learns it from the ERROR. */
static void expire_deadlines(shmrpc_server_t *server) {
  if (shmrpc__deadline_heap_empty_unlocked(&server->deadlines))
    return;
  uint64_t now = shmrpc__rpc_now_ns();
  for (;;) {
    shmrpc_call_t *hooks = NULL;
    pthread_mutex_lock(&server->lock);
    shmrpc_call_t *call = shmrpc__deadline_heap_top(&server->deadlines);
    if (call == NULL || call->deadline_ns > now) {
      pthread_mutex_unlock(&server->lock);
      return;
    }
    uint32_t id = call->id;
    shmrpc__call_stop_locked(server, call, SHMRPC_STATUS_DEADLINE_EXCEEDED, &hooks);
    pthread_mutex_unlock(&server->lock);
    (void)shmrpc__send_error(server->channel, id,
                             SHMRPC_STATUS_DEADLINE_EXCEEDED,
                             "deadline exceeded");
    shmrpc__run_cancel_hooks(server, hooks);
  }
}

static void drop_backlog(shmrpc_server_t *server) {
  while (server->backlog_head != NULL) {
    shmrpc__backlog_item_t *item = server->backlog_head;
    server->backlog_head = item->next;
    free(item);
  }
  server->backlog_tail = NULL;
  server->backlog_count = 0;
  server->backlog_bytes = 0;
}

/* The channel closed or failed: every call fails with UNAVAILABLE. */
static void shut_down(shmrpc_server_t *server) {
  shmrpc_call_t *hooks = NULL;
  pthread_mutex_lock(&server->lock);
  __atomic_store_n(&server->closed, true, __ATOMIC_RELEASE);
  for (shmrpc_call_t *call = server->live; call != NULL; call = call->next)
    if (call->in_table)
      shmrpc__call_stop_locked(server, call, SHMRPC_STATUS_UNAVAILABLE, &hooks);
  pthread_cond_broadcast(&server->changed);
  pthread_mutex_unlock(&server->lock);
  drop_backlog(server);
  shmrpc_channel_close(server->channel);
  shmrpc__run_cancel_hooks(server, hooks);
}

/* --- requests --- */

static size_t aligned(size_t size) {
  const size_t align = _Alignof(max_align_t);
  return (size + align - 1) / align * align;
}

static shmrpc_call_t *new_call(shmrpc_server_t *server,
                               const shmrpc__route_t *route,
                               const shmrpc_envelope_t *env) {
  const shmrpc_method_t *m = route->method;
  size_t response_size =
      shmrpc__streams_responses(m) ? 0 : aligned(m->response_size);
  shmrpc_call_t *call = calloc(1, aligned(sizeof *call) +
                                      aligned(m->request_size) + response_size);
  if (call == NULL)
    return NULL;
  call->server = server;
  call->method = m;
  call->registration = route->registration;
  call->id = env->call_id;
  call->credit = env->credit;
  call->heap_index = SIZE_MAX;
  call->request = (uint8_t *)call + aligned(sizeof *call);
  if (response_size > 0)
    call->response = (uint8_t *)call->request + aligned(m->request_size);
  if (env->timeout_us != 0)
    call->deadline_ns = shmrpc__rpc_now_ns() + (uint64_t)env->timeout_us * 1000;
  return call;
}

/* Puts a decoded call into the table. Returns 0, or the status to answer
 * the REQUEST with. Lock held. */
static int track_locked(shmrpc_server_t *server, shmrpc_call_t *call) {
  if (server->closed)
    return SHMRPC_STATUS_UNAVAILABLE;
  if (shmrpc__call_table_find(&server->table, call->id) != NULL)
    return SHMRPC_STATUS_INVALID_ARGUMENT;
  if (server->table.count >= server->max_calls)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  if (shmrpc__call_table_insert(&server->table, call) != 0)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  if (call->deadline_ns != 0 &&
      shmrpc__deadline_heap_push(&server->deadlines, call) != 0) {
    shmrpc__call_table_remove(&server->table, call);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  call->in_table = true;
  call->refs = 2; /* the table's and the handler's */
  call->next = server->live;
  if (server->live != NULL)
    server->live->prev = call;
  server->live = call;
  server->live_count++;
  return 0;
}

static void reject(shmrpc_server_t *server, uint32_t id, int status,
                   const char *fmt, const char *detail) {
  char text[256];
  snprintf(text, sizeof text, fmt, detail);
  (void)shmrpc__send_error(server->channel, id, status, text);
}

static int normalize_status(int status) {
  return status >= 0 && status <= SHMRPC_STATUS_UNAUTHENTICATED
             ? status
             : SHMRPC_STATUS_UNKNOWN;
}

static void handle_request(shmrpc_server_t *server,
                           const shmrpc_envelope_t *env) {
  /* Call id 0 cannot be answered: the client breaks the protocol, and
   * nobody waits for a reply. */
  if (env->call_id == 0)
    return;
  const shmrpc__route_t *route = shmrpc__server_find_route(server, env->method_id);
  if (route == NULL) {
    char id[16];
    snprintf(id, sizeof id, "0x%08" PRIx32, env->method_id);
    reject(server, env->call_id, SHMRPC_STATUS_UNIMPLEMENTED,
           "unknown method id %s", id);
    return;
  }
  const shmrpc_method_t *m = route->method;
  if (env->schema_hash != m->schema_hash) {
    reject(server, env->call_id, SHMRPC_STATUS_FAILED_PRECONDITION,
           "%s: the client's request or response type or call kind differs "
           "from the server's; generate both from compatible .proto files "
           "(docs/PROTOCOL.md section 8)",
           m->path);
    return;
  }
  /* A request stream's messages come one by one (REQUEST_MESSAGE), so
   * its REQUEST carries none. */
  bool streams_requests = shmrpc__streams_requests(m);
  if (streams_requests && env->body_len != 0) {
    reject(server, env->call_id, SHMRPC_STATUS_INVALID_ARGUMENT,
           "%s: protocol violation: the REQUEST of a call with a request "
           "stream carries a body",
           m->path);
    return;
  }
  shmrpc_call_t *call = new_call(server, route, env);
  if (call == NULL) {
    reject(server, env->call_id, SHMRPC_STATUS_RESOURCE_EXHAUSTED,
           "%s: out of memory", m->path);
    return;
  }
  pb_istream_t stream = pb_istream_from_buffer(env->body, env->body_len);
  if (!streams_requests && !pb_decode(&stream, m->request_fields, call->request)) {
    reject(server, env->call_id, SHMRPC_STATUS_INVALID_ARGUMENT,
           "request does not decode: %s", PB_GET_ERROR(&stream));
    pb_release(m->request_fields, call->request);
    free(call);
    return;
  }
  pthread_mutex_lock(&server->lock);
  int refused = track_locked(server, call);
  pthread_mutex_unlock(&server->lock);
  if (refused != 0) {
    reject(server, env->call_id, refused, "%s",
           refused == SHMRPC_STATUS_INVALID_ARGUMENT
               ? "call id already in flight"
           : refused == SHMRPC_STATUS_UNAVAILABLE ? "server closed"
                                                  : "too many calls");
    pb_release(m->request_fields, call->request);
    free(call);
    return;
  }
  if (streams_requests)
    shmrpc__request_stream_open(server, call);
  int status = m->invoke(call->registration->handlers, call,
                         streams_requests ? NULL : call->request,
                         call->response);
  if (status != SHMRPC_DEFERRED)
    (void)shmrpc_call_finish(call, normalize_status(status), call->response);
}

/* Keeps a REQUEST for after the handler that is waiting for credit. */
static void defer_request(shmrpc_server_t *server, const shmrpc_msg_t *msg,
                          uint32_t call_id) {
  pthread_mutex_lock(&server->lock);
  bool full =
      server->table.count + server->backlog_count >= server->max_calls ||
      msg->len > MAX_BACKLOG_BYTES - server->backlog_bytes;
  pthread_mutex_unlock(&server->lock);
  shmrpc__backlog_item_t *item = full ? NULL : malloc(sizeof *item + msg->len);
  if (item == NULL) {
    (void)shmrpc__send_error(server->channel, call_id,
                             SHMRPC_STATUS_RESOURCE_EXHAUSTED,
                             "too many calls");
    return;
  }
  item->next = NULL;
  item->call_id = call_id;
  item->len = msg->len;
  memcpy(item->data, msg->data, msg->len);
  if (server->backlog_tail != NULL)
    server->backlog_tail->next = item;
  else
    server->backlog_head = item;
  server->backlog_tail = item;
  server->backlog_count++;
  server->backlog_bytes += msg->len;
}

static void handle_message(shmrpc_server_t *server, const shmrpc_msg_t *msg,
                           bool nested) {
  if (msg->type != SHMRPC_COMMAND) {
    if (server->on_other_message != NULL)
      server->on_other_message(server->on_other_message_user, msg);
    return;
  }
  shmrpc_envelope_t env;
  const char *why = NULL;
  if (shmrpc_envelope_parse(msg->data, msg->len, &env, &why) != 0) {
    if (env.call_id != 0)
      (void)shmrpc__send_error(server->channel, env.call_id,
                               SHMRPC_STATUS_INVALID_ARGUMENT, why);
    return;
  }
  switch (env.kind) {
  case SHMRPC_RPC_REQUEST:
    if (nested)
      defer_request(server, msg, env.call_id);
    else
      handle_request(server, &env);
    return;
  case SHMRPC_RPC_CANCEL:
    cancel_call(server, env.call_id);
    return;
  case SHMRPC_RPC_CREDIT:
    add_credit(server, env.call_id, env.credit);
    return;
  case SHMRPC_RPC_REQUEST_MESSAGE:
  case SHMRPC_RPC_REQUEST_END:
    shmrpc__request_stream_receive(server, &env);
    return;
  default:
    if (env.call_id != 0)
      (void)shmrpc__send_error(server->channel, env.call_id,
                               SHMRPC_STATUS_INVALID_ARGUMENT,
                               "envelope kind not sent by clients");
    return;
  }
}

/* Handles REQUESTs kept while a handler waited for credit, in order. */
static int drain_backlog(shmrpc_server_t *server) {
  int handled = 0;
  while (server->backlog_head != NULL) {
    shmrpc__backlog_item_t *item = server->backlog_head;
    server->backlog_head = item->next;
    if (server->backlog_head == NULL)
      server->backlog_tail = NULL;
    server->backlog_count--;
    server->backlog_bytes -= item->len;
    shmrpc_msg_t msg = {SHMRPC_COMMAND, item->data, item->len};
    handle_message(server, &msg, false);
    free(item);
    handled++;
  }
  return handled;
}

/* --- the dispatch loop --- */

int shmrpc__server_wait_ms(shmrpc_server_t *server, uint64_t extra_ns) {
  uint64_t at = extra_ns;
  if (!shmrpc__deadline_heap_empty_unlocked(&server->deadlines)) {
    pthread_mutex_lock(&server->lock);
    shmrpc_call_t *top = shmrpc__deadline_heap_top(&server->deadlines);
    if (top != NULL && (at == 0 || top->deadline_ns < at))
      at = top->deadline_ns;
    pthread_mutex_unlock(&server->lock);
  }
  if (at == 0)
    return -1;
  uint64_t now = shmrpc__rpc_now_ns();
  if (at <= now)
    return 0;
  /* Rounded up, so that the wait ends at or after the deadline. */
  uint64_t ms = (at - now + 999999) / 1000000;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int shmrpc__server_pump(shmrpc_server_t *server, int timeout_ms, bool nested) {
  int handled = 0;
  if (!nested)
    handled += drain_backlog(server);
  for (int i = 0; i < PUMP_BATCH; i++) {
    shmrpc_msg_t msg;
    /* Wait only for the first message; then take what is there. */
    int rc = shmrpc_channel_recv(server->channel, &msg,
                                 i == 0 && handled == 0 ? timeout_ms : 0);
    if (rc < 0) {
      shut_down(server);
      return rc;
    }
    if (rc == 0)
      break;
    handle_message(server, &msg, nested);
    handled++;
    if (!nested)
      handled += drain_backlog(server);
  }
  expire_deadlines(server);
  return handled;
}

int shmrpc_server_poll(shmrpc_server_t *server, int timeout_ms) {
  if (server == NULL || timeout_ms < -1)
    return SHMRPC_EINVAL;
  if (__atomic_load_n(&server->closed, __ATOMIC_ACQUIRE))
    return SHMRPC_ECLOSED;
  uint64_t until = timeout_ms > 0
                       ? shmrpc__rpc_now_ns() + (uint64_t)timeout_ms * 1000000
                       : 0;
  shmrpc_server_t *outer = dispatching;
  dispatching = server;
  int rc;
  for (;;) {
    /* Wake for the earliest call deadline too, to expire it. */
    int wait = timeout_ms == 0 ? 0 : shmrpc__server_wait_ms(server, until);
    rc = shmrpc__server_pump(server, wait, false);
    if (rc != 0 || timeout_ms == 0 ||
        (until != 0 && shmrpc__rpc_now_ns() >= until))
      break;
  }
  dispatching = outer;
  return rc;
}

int shmrpc_server_run(shmrpc_server_t *server) {
  int rc;
  do {
    rc = shmrpc_server_poll(server, -1);
  } while (rc >= 0);
  return rc == SHMRPC_ECLOSED ? 0 : rc;
}

/* --- events, counters, teardown --- */

int shmrpc_server_emit(shmrpc_server_t *server, uint32_t event_id,
                       const pb_msgdesc_t *fields, const void *message) {
  if (server == NULL || fields == NULL || message == NULL)
    return SHMRPC_EINVAL;
  shmrpc_envelope_t header = {.kind = SHMRPC_RPC_EVENT, .method_id = event_id};
  const char *why;
  return shmrpc__send_message(server->channel, &header, fields, message, &why);
}

size_t shmrpc_server_calls_in_flight(shmrpc_server_t *server) {
  pthread_mutex_lock(&server->lock);
  size_t n = server->table.count;
  pthread_mutex_unlock(&server->lock);
  return n;
}

size_t shmrpc_server_calls_alive(shmrpc_server_t *server) {
  pthread_mutex_lock(&server->lock);
  size_t n = server->live_count;
  pthread_mutex_unlock(&server->lock);
  return n;
}

uint64_t shmrpc_server_calls_abandoned(shmrpc_server_t *server) {
  pthread_mutex_lock(&server->lock);
  uint64_t n = server->abandoned;
  pthread_mutex_unlock(&server->lock);
  return n;
}

void shmrpc_server_destroy(shmrpc_server_t *server) {
  if (server == NULL)
    return;
  while (server->live != NULL) {
    shmrpc_call_t *call = server->live;
    server->live = call->next;
    pb_release(call->method->request_fields, call->request);
    if (call->response != NULL)
      pb_release(call->method->response_fields, call->response);
    free(call->error_message);
    shmrpc__request_stream_free(call);
    free(call);
  }
  drop_backlog(server);
  shmrpc__call_table_free(&server->table);
  shmrpc__deadline_heap_free(&server->deadlines);
  for (size_t i = 0; i < server->registration_count; i++)
    free(server->registrations[i]);
  free(server->registrations);
  free(server->routes);
  free(server->peer);
  pthread_mutex_destroy(&server->lock);
  pthread_cond_destroy(&server->changed);
  free(server);
}
