/* Declarations shared between the RPC runtime's .c files; not public API.
 *
 * Locking: one mutex per server (`lock`) guards the call table, the
 * deadline heap, the live list and every call field marked "guarded"
 * below. Sends happen outside it (the channel serializes senders itself).
 * The dispatch thread is the one inside shmrpc_server_poll/run. */
#ifndef SHMRPC_RPC_INTERNAL_H
#define SHMRPC_RPC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "shmrpc/rpc.h"

/* --- registrations and routes (rpc_server.c) --- */

typedef struct shmrpc__registration_s {
  const shmrpc_service_t *service;
  const void *handlers;
  void *user_data;
} shmrpc__registration_t;

/* One method id → where it goes; kept sorted by id for bsearch. */
typedef struct shmrpc__route_s {
  uint32_t id;
  const shmrpc_method_t *method;
  const shmrpc__registration_t *registration;
} shmrpc__route_t;

/* --- calls --- */

/* A REQUEST_MESSAGE waiting for its handler to read it (a copy of its
 * body). */
typedef struct shmrpc__inbox_item_s {
  struct shmrpc__inbox_item_s *next;
  size_t len;
  uint8_t data[];
} shmrpc__inbox_item_t;

struct shmrpc_call_s {
  shmrpc_server_t *server;
  const shmrpc_method_t *method;
  const shmrpc__registration_t *registration;
  uint32_t id;
  uint64_t deadline_ns; /* CLOCK_MONOTONIC, 0 = none */

  /* Guarded by server->lock. */
  uint32_t
      refs; /* the table's (while in_table) + the handler's + hooks running */
  bool in_table;     /* answerable: the client still waits for this call */
  bool finished;     /* the handler's part ended */
  uint32_t credit;   /* stream messages the client accepts now */
  size_t heap_index; /* position in the deadline heap, or SIZE_MAX */
  shmrpc_cancel_fn on_cancel;
  void *on_cancel_user;
  struct shmrpc_call_s *prev, *next; /* the server's live list */
  struct shmrpc_call_s *hook_next;   /* a list of cancel hooks to run */

  /* The request stream of client-streaming and bidirectional calls
   * (rpc_request_stream.c). */
  shmrpc__inbox_item_t *inbox_head, *inbox_tail; /* received, not yet read */
  uint32_t request_credit; /* REQUEST_MESSAGEs the client may still send */
  uint32_t request_read;   /* messages read since the last CREDIT */
  bool request_ended;      /* REQUEST_END arrived */

  /* Why the call cannot send any more: 0 while it can, else CANCELLED,
   * DEADLINE_EXCEEDED or UNAVAILABLE. Written under the lock, read
   * without it (atomic). */
  uint32_t stop_status;

  /* Owned by the handler. */
  char *error_message;
  void *request;  /* nanopb request struct, trailing storage */
  void *response; /* nanopb response struct (unary), trailing storage */
};

/* --- call table (rpc_call_table.c): open addressing on the call id --- */

typedef struct shmrpc__call_table_s {
  shmrpc_call_t **slots;
  uint32_t mask; /* slot count - 1; slot count is a power of two */
  uint32_t count;
} shmrpc__call_table_t;

int shmrpc__call_table_init(shmrpc__call_table_t *table);
void shmrpc__call_table_free(shmrpc__call_table_t *table);
shmrpc_call_t *shmrpc__call_table_find(const shmrpc__call_table_t *table,
                                       uint32_t id);
/* Adds a call whose id is not in the table. Returns 0 or SHMRPC_ENOMEM. */
int shmrpc__call_table_insert(shmrpc__call_table_t *table, shmrpc_call_t *call);
void shmrpc__call_table_remove(shmrpc__call_table_t *table,
                               const shmrpc_call_t *call);

/* --- deadline heap (rpc_deadline_heap.c): min-heap on deadline_ns --- */

typedef struct shmrpc__deadline_heap_s {
  shmrpc_call_t **items;
  size_t count; /* written atomically, for deadline_heap_empty_unlocked */
  size_t cap;
} shmrpc__deadline_heap_t;

void shmrpc__deadline_heap_free(shmrpc__deadline_heap_t *heap);
/* Adds a call with a deadline. Returns 0 or SHMRPC_ENOMEM. */
int shmrpc__deadline_heap_push(shmrpc__deadline_heap_t *heap,
                               shmrpc_call_t *call);
/* Removes a call if it is in the heap. */
void shmrpc__deadline_heap_remove(shmrpc__deadline_heap_t *heap,
                                  shmrpc_call_t *call);
/* The call with the earliest deadline, or NULL. */
static inline shmrpc_call_t *
shmrpc__deadline_heap_top(const shmrpc__deadline_heap_t *heap) {
  return heap->count > 0 ? heap->items[0] : NULL;
}
/* Whether the heap is empty, read without the lock, so that the dispatch
 * loop of a server whose calls have no deadlines never takes the lock or
 * reads the clock for them. Only the dispatch thread adds calls, so there
 * "empty" is exact; a removal by another thread only makes "not empty"
 * stale, which costs one locked look. */
static inline bool
shmrpc__deadline_heap_empty_unlocked(const shmrpc__deadline_heap_t *heap) {
  return __atomic_load_n(&heap->count, __ATOMIC_RELAXED) == 0;
}

/* --- the server --- */

/* A REQUEST received while a handler on the dispatch thread waited for
 * stream credit; handled once that handler returns. */
typedef struct shmrpc__backlog_item_s {
  struct shmrpc__backlog_item_s *next;
  uint32_t call_id; /* a CANCEL for it removes it */
  size_t len;
  uint8_t data[];
} shmrpc__backlog_item_t;

struct shmrpc_server_s {
  shmrpc_channel_t *channel;
  uint32_t max_calls;
  uint32_t request_window;
  char *peer;
  shmrpc_message_fn on_other_message;
  void *on_other_message_user;

  shmrpc__registration_t **registrations;
  size_t registration_count;
  shmrpc__route_t *routes;
  size_t route_count;

  pthread_mutex_t lock;
  pthread_cond_t
      changed; /* credit arrived, a call stopped, the channel closed */
  shmrpc__call_table_t table;        /* guarded */
  shmrpc__deadline_heap_t deadlines; /* guarded */
  shmrpc_call_t *live;               /* guarded: every call not yet freed */
  size_t live_count;                 /* guarded */
  uint64_t abandoned;                /* guarded */
  bool closed; /* guarded; written atomically, so poll reads it unlocked */

  /* Dispatch thread only. */
  shmrpc__backlog_item_t *backlog_head, *backlog_tail;
  size_t backlog_count;
  size_t backlog_bytes;
};

/* --- clock (rpc_server.c) --- */

uint64_t shmrpc__rpc_now_ns(void);

/* --- server internals used by rpc_call.c --- */

/* Handles every message that arrives within `timeout_ms` (the channel's
 * convention) on the dispatch thread, then expires deadlines. When
 * `nested` (a handler on this thread waits for credit), REQUESTs are
 * queued in the backlog instead of being dispatched. Returns the number of
 * messages handled, SHMRPC_ECLOSED or SHMRPC_EPROTO. */
int shmrpc__server_pump(shmrpc_server_t *server, int timeout_ms, bool nested);

/* Milliseconds until the earliest deadline among the table's calls and
 * `extra_ns` (0 = none), capped to fit an int; -1 when there is none. */
int shmrpc__server_wait_ms(shmrpc_server_t *server, uint64_t extra_ns);

/* True when the calling thread is inside poll/run of `server`. */
bool shmrpc__on_dispatch_thread(const shmrpc_server_t *server);

/* The route for a method id, or NULL (rpc_routes.c). */
const shmrpc__route_t *shmrpc__server_find_route(const shmrpc_server_t *server,
                                                 uint32_t id);

/* Marks a call that can no longer send with `status`, takes it out of the
 * table and queues its cancel hook on `*hooks` for
 * shmrpc__run_cancel_hooks. Lock held. */
void shmrpc__call_stop_locked(shmrpc_server_t *server, shmrpc_call_t *call,
                              uint32_t status, shmrpc_call_t **hooks);

/* Runs the cancel hooks queued by shmrpc__call_stop_locked (lock not
 * held). */
void shmrpc__run_cancel_hooks(shmrpc_server_t *server, shmrpc_call_t *hooks);

/* Why the call can no longer send or read (CANCELLED, DEADLINE_EXCEEDED,
 * UNAVAILABLE, INVALID_ARGUMENT...), or SHMRPC_STATUS_OK. Lock held. */
int shmrpc__call_stopped_locked(const shmrpc_call_t *call);

/* Waits once for the call's state to change (credit, a request message, a
 * stop): on the dispatch thread by reading the channel until the call's
 * deadline at the latest, elsewhere on the server's condition variable.
 * Lock held on entry and return. Returns SHMRPC_STATUS_OK, or UNAVAILABLE
 * when the channel ended. */
int shmrpc__call_wait_locked(shmrpc_call_t *call);

/* Drops one reference (lock held); frees the call at zero. */
void shmrpc__call_unref_locked(shmrpc_call_t *call);

/* Takes the call out of the table and the deadline heap (lock held). */
void shmrpc__call_untrack_locked(shmrpc_call_t *call);

/* --- request streams (rpc_request_stream.c) --- */

static inline bool shmrpc__streams_requests(const shmrpc_method_t *m) {
  return m->kind == SHMRPC_METHOD_CLIENT_STREAMING ||
         m->kind == SHMRPC_METHOD_BIDI_STREAMING;
}

static inline bool shmrpc__streams_responses(const shmrpc_method_t *m) {
  return m->kind == SHMRPC_METHOD_SERVER_STREAMING ||
         m->kind == SHMRPC_METHOD_BIDI_STREAMING;
}

/* A request-streaming call was accepted (dispatch thread, before its
 * handler runs): grants the client the server's request window. */
void shmrpc__request_stream_open(shmrpc_server_t *server, shmrpc_call_t *call);

/* Handles a REQUEST_MESSAGE or REQUEST_END (dispatch thread). One for a
 * call not in flight is dropped (it raced the call's end); one that breaks
 * the stream's rules ends the call with INVALID_ARGUMENT. */
void shmrpc__request_stream_receive(shmrpc_server_t *server,
                                    const shmrpc_envelope_t *env);

/* Frees the messages a call's handler never read (lock held, or the call
 * no longer reachable). */
void shmrpc__request_stream_free(shmrpc_call_t *call);

/* --- replies (rpc_reply.c) --- */

/* Sends an envelope whose body is `message` encoded with `fields`
 * (NULL fields: an empty body), straight into the ring when it fits, else
 * through a buffer and a fragmented send. Returns 0, SHMRPC_EMSGSIZE (over
 * the client's limit), SHMRPC_EINVAL (the message does not encode; `*why`
 * is nanopb's reason), SHMRPC_ENOMEM, SHMRPC_ECLOSED or SHMRPC_EPROTO. */
int shmrpc__send_message(shmrpc_channel_t *ch, const shmrpc_envelope_t *header,
                         const pb_msgdesc_t *fields, const void *message,
                         const char **why);

/* Sends an envelope whose body is raw bytes (a status message). */
int shmrpc__send_bytes(shmrpc_channel_t *ch, const shmrpc_envelope_t *header,
                       const void *body, size_t len);

/* Sends ERROR for `call_id` with `status` and `text` (NULL: the status
 * name). Returns as shmrpc__send_bytes; callers on the dispatch thread may
 * ignore it, since the channel reports a failure to the loop anyway. */
int shmrpc__send_error(shmrpc_channel_t *ch, uint32_t call_id, int status,
                       const char *text);

#endif /* SHMRPC_RPC_INTERNAL_H */
