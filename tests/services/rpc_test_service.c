/* The RPC test service (rpc_test.proto), hosted by the Node addon in the
 * end-to-end tests. It owns threads (a timer thread that finishes deferred
 * calls, and one thread per deferred stream: CountDeferred, Chat): its setup hook starts them,
 * its teardown hook stops them before the server is destroyed. The config
 * "refuse" makes the setup refuse to serve (SHMRPC_EINVAL). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpc_test_common.h"

/* A deferred Echo waiting for its time. */
typedef struct pending_echo_s {
  uint64_t due_ns;
  shmrpc_call_t *call;
  const rpctest_EchoRequest *req;
  rpctest_EchoReply *res;
} pending_echo_t;

typedef struct stream_thread_s {
  struct stream_thread_s *next;
  pthread_t thread;
  struct service_s *service;
  shmrpc_call_t *call;
  rpctest_CountRequest req; /* CountDeferred's; Chat reads its requests */
  bool chat;
} stream_thread_t;

typedef struct service_s {
  shmrpc_server_t *server;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  pending_echo_t *echoes; /* min-heap on due_ns */
  size_t echo_count, echo_cap;
  bool stopping;
  pthread_t timer;
  stream_thread_t *streams;
  uint32_t hangs_cancelled;
} service_t;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  if (req->delay_ms > 0)
    sleep_ms(req->delay_ms);
  return rpctest_answer_echo(call, req, res);
}

/* --- deferred echoes: a timer thread over a min-heap --- */

static bool due_before(const pending_echo_t *a, const pending_echo_t *b) {
  return a->due_ns < b->due_ns;
}

static void heap_push(service_t *s, pending_echo_t item) {
  size_t i = s->echo_count++;
  while (i > 0 && due_before(&item, &s->echoes[(i - 1) / 2])) {
    s->echoes[i] = s->echoes[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  s->echoes[i] = item;
}

static pending_echo_t heap_pop(service_t *s) {
  pending_echo_t top = s->echoes[0];
  pending_echo_t last = s->echoes[--s->echo_count];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= s->echo_count)
      break;
    if (child + 1 < s->echo_count &&
        due_before(&s->echoes[child + 1], &s->echoes[child]))
      child++;
    if (!due_before(&s->echoes[child], &last))
      break;
    s->echoes[i] = s->echoes[child];
    i = child;
  }
  s->echoes[i] = last;
  return top;
}

static void *timer_main(void *arg) {
  service_t *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    if (s->echo_count == 0) {
      if (s->stopping)
        break;
      pthread_cond_wait(&s->changed, &s->lock);
      continue;
    }
    uint64_t due = s->echoes[0].due_ns;
    if (!s->stopping && due > now_ns()) {
      struct timespec at = {(time_t)(due / 1000000000u),
                            (long)(due % 1000000000u)};
      pthread_cond_timedwait(&s->changed, &s->lock, &at);
      continue;
    }
    pending_echo_t item = heap_pop(s);
    pthread_mutex_unlock(&s->lock);
    int status = rpctest_answer_echo(item.call, item.req, item.res);
    shmrpc_call_finish(item.call, status, item.res);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static int echo_deferred(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                         rpctest_EchoReply *res) {
  service_t *s = shmrpc_call_user_data(call);
  pthread_mutex_lock(&s->lock);
  if (s->echo_count == s->echo_cap) {
    size_t cap = s->echo_cap == 0 ? 1024 : s->echo_cap * 2;
    pending_echo_t *grown = realloc(s->echoes, cap * sizeof *grown);
    if (grown == NULL) {
      pthread_mutex_unlock(&s->lock);
      return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
    }
    s->echoes = grown;
    s->echo_cap = cap;
  }
  heap_push(s, (pending_echo_t){now_ns() + (uint64_t)req->delay_ms * 1000000u,
                                call, req, res});
  pthread_cond_signal(&s->changed);
  pthread_mutex_unlock(&s->lock);
  return SHMRPC_DEFERRED;
}

/* --- Hang: only its cancel hook answers --- */

static void hang_cancelled(shmrpc_call_t *call, void *user) {
  service_t *s = user;
  __atomic_add_fetch(&s->hangs_cancelled, 1, __ATOMIC_RELAXED);
  shmrpc_call_finish(call, SHMRPC_STATUS_CANCELLED, NULL);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_cancelled, shmrpc_call_user_data(call));
  return SHMRPC_DEFERRED;
}

/* --- streams --- */

static int count(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  return rpctest_stream(call, req);
}

static void *stream_main(void *arg) {
  stream_thread_t *t = arg;
  int status = t->chat ? rpctest_chat(t->call) : rpctest_stream(t->call, &t->req);
  shmrpc_call_finish(t->call, status, NULL);
  return NULL;
}

/* Runs CountDeferred (`req`) or Chat (NULL) on a thread of its own. */
static int stream_on_thread(shmrpc_call_t *call,
                            const rpctest_CountRequest *req) {
  service_t *s = shmrpc_call_user_data(call);
  stream_thread_t *t = calloc(1, sizeof *t);
  if (t == NULL)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  t->service = s;
  t->call = call;
  t->chat = req == NULL;
  if (req != NULL)
    t->req = *req;
  if (pthread_create(&t->thread, NULL, stream_main, t) != 0) {
    free(t);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  pthread_mutex_lock(&s->lock);
  t->next = s->streams;
  s->streams = t;
  pthread_mutex_unlock(&s->lock);
  return SHMRPC_DEFERRED;
}

static int count_deferred(shmrpc_call_t *call,
                          const rpctest_CountRequest *req) {
  return stream_on_thread(call, req);
}

static int chat(shmrpc_call_t *call) { return stream_on_thread(call, NULL); }

static int get_stats(shmrpc_call_t *call, const rpctest_StatsRequest *req,
                     rpctest_Stats *res) {
  (void)req;
  service_t *s = shmrpc_call_user_data(call);
  shmrpc_server_t *server = shmrpc_call_server(call);
  /* Not counting this call itself. */
  res->calls_in_flight = (uint32_t)shmrpc_server_calls_in_flight(server) - 1;
  res->calls_alive = (uint32_t)shmrpc_server_calls_alive(server) - 1;
  res->calls_abandoned = shmrpc_server_calls_abandoned(server);
  res->hangs_cancelled = __atomic_load_n(&s->hangs_cancelled, __ATOMIC_RELAXED);
  return SHMRPC_STATUS_OK;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Echo = echo,
    .EchoDeferred = echo_deferred,
    .Hang = hang,
    .Count = count,
    .CountDeferred = count_deferred,
    .GetStats = get_stats,
    .Sum = rpctest_sum,
    .Chat = chat,
};

/* --- hosting --- */

/* Finishes what the threads still hold (the channel is closed, so nothing
 * is sent) and joins them. */
static void stop_threads(service_t *s) {
  pthread_mutex_lock(&s->lock);
  s->stopping = true;
  pthread_cond_signal(&s->changed);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->timer, NULL);
  while (s->streams != NULL) {
    stream_thread_t *t = s->streams;
    s->streams = t->next;
    pthread_join(t->thread, NULL);
    free(t);
  }
}

static int setup(shmrpc_server_t *server, const char *config,
                 void **user_data) {
  if (config != NULL && strcmp(config, "refuse") == 0)
    return SHMRPC_EINVAL;
  service_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return SHMRPC_ENOMEM;
  s->server = server;
  pthread_mutex_init(&s->lock, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->changed, &attr);
  pthread_condattr_destroy(&attr);
  if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return SHMRPC_ENOMEM;
  }
  *user_data = s;
  return 0;
}

static void teardown(shmrpc_server_t *server, void *user_data) {
  (void)server;
  service_t *s = user_data;
  stop_threads(s);
  pthread_cond_destroy(&s->changed);
  pthread_mutex_destroy(&s->lock);
  free(s->echoes);
  free(s);
}

static const shmrpc_service_hooks_t hooks = {.setup = setup,
                                             .teardown = teardown};

SHMRPC_SERVICE_LIBRARY(&rpctest_RpcTest_service, &handlers, &hooks)
