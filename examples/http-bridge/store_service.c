/* The http-bridge store service: the handlers of store.proto over the
 * state in store.c. Each host (the Node addon in-process, or a process of
 * its own) gets a store of its own, created when it starts serving.
 *
 * Watch calls are deferred: they stay open after the handler returns, each
 * Put writes an event to the watchers of its key, and a watcher ends when
 * its client cancels, its deadline passes or the channel closes (the
 * cancel hook finishes the call). Everything runs on the dispatch thread;
 * a watcher whose client does not read holds up Puts until its deadline
 * (shmrpc_call_write waits for the client's credit). */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store.shmrpc.h"

typedef struct watcher_s {
  shmrpc_call_t *call;
  const char *prefix; /* the request's, valid until the call finishes */
  bool finished;
  struct watcher_s *next;
} watcher_t;

typedef struct {
  store_t *store;
  watcher_t *watchers;
  int notifying; /* a Put is writing to watchers: leave the list alone */
  uint32_t watches_expired;
  uint32_t watches_cancelled;
  int64_t last_watch_deadline_ms;
} service_t;

static const char *text_or_empty(const char *text) { return text != NULL ? text : ""; }

static google_protobuf_Timestamp timestamp_of(struct timespec at) {
  return (google_protobuf_Timestamp){.seconds = at.tv_sec, .nanos = (int32_t)at.tv_nsec};
}

/* ---- the document ---------------------------------------------------------- */

static int fill_document(const store_t *store, bridge_Document *reply) {
  reply->json = strdup(store->document); /* the runtime frees the reply's pointers */
  if (reply->json == NULL) return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  reply->version = store->document_version;
  reply->has_updated_at = store->document_version > 0;
  reply->updated_at = timestamp_of(store->document_updated_at);
  return SHMRPC_STATUS_OK;
}

static int read_document(shmrpc_call_t *call, const bridge_ReadRequest *request,
                         bridge_Document *reply) {
  (void)request;
  service_t *s = shmrpc_call_user_data(call);
  return fill_document(s->store, reply);
}

static int write_document(shmrpc_call_t *call, const bridge_WriteRequest *request,
                          bridge_Document *reply) {
  service_t *s = shmrpc_call_user_data(call);
  const char *json = text_or_empty(request->json);
  size_t len = strlen(json);
  if (len == 0) {
    shmrpc_call_set_error(call, "the document is empty");
    return SHMRPC_STATUS_INVALID_ARGUMENT;
  }
  if (len > STORE_MAX_DOCUMENT_BYTES) {
    shmrpc_call_set_error(call, "a document of %zu bytes is over the store's %d", len,
                          STORE_MAX_DOCUMENT_BYTES);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  if (store_write_document(s->store, json) != 0) return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  return fill_document(s->store, reply);
}

/* ---- entries --------------------------------------------------------------- */

/* An Entry with the store's key and the given value bytes. */
static bridge_Entry entry_view(const store_entry_t *e, pb_bytes_array_t *value) {
  return (bridge_Entry){.key = e->key,
                        .value = value,
                        .kind = (bridge_ValueKind)e->kind,
                        .revision = e->revision,
                        .has_updated_at = true,
                        .updated_at = timestamp_of(e->updated_at)};
}

static pb_bytes_array_t *bytes_copy(const store_entry_t *e) {
  pb_bytes_array_t *bytes = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(e->value_len));
  if (bytes == NULL) return NULL;
  bytes->size = (pb_size_t)e->value_len;
  if (e->value_len > 0) memcpy(bytes->bytes, e->value, e->value_len);
  return bytes;
}

/* An Entry owning copies (for replies, which the runtime releases). */
static bool entry_copy(const store_entry_t *e, bridge_Entry *out) {
  *out = entry_view(e, bytes_copy(e));
  out->key = strdup(e->key);
  return out->key != NULL && out->value != NULL;
}

static int check_key(shmrpc_call_t *call, const char *key) {
  size_t len = strlen(key);
  if (len == 0 || len > STORE_MAX_KEY_BYTES) {
    shmrpc_call_set_error(call, "a key has 1 to %d bytes, not %zu", STORE_MAX_KEY_BYTES, len);
    return SHMRPC_STATUS_INVALID_ARGUMENT;
  }
  return SHMRPC_STATUS_OK;
}

static int get(shmrpc_call_t *call, const bridge_GetRequest *request, bridge_Entry *reply) {
  service_t *s = shmrpc_call_user_data(call);
  const char *key = text_or_empty(request->key);
  int status = check_key(call, key);
  if (status != SHMRPC_STATUS_OK) return status;
  const store_entry_t *entry = store_get(s->store, key);
  if (entry == NULL) {
    shmrpc_call_set_error(call, "no entry %s", key);
    return SHMRPC_STATUS_NOT_FOUND;
  }
  return entry_copy(entry, reply) ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

static void sweep_watchers(service_t *s);
static void notify_watchers(service_t *s, const store_entry_t *entry);

static int put(shmrpc_call_t *call, const bridge_PutRequest *request, bridge_Entry *reply) {
  service_t *s = shmrpc_call_user_data(call);
  const char *key = text_or_empty(request->key);
  int status = check_key(call, key);
  if (status != SHMRPC_STATUS_OK) return status;
  size_t len = request->value != NULL ? request->value->size : 0;
  if (len > STORE_MAX_VALUE_BYTES) {
    shmrpc_call_set_error(call, "a value of %zu bytes is over the store's %d", len,
                          STORE_MAX_VALUE_BYTES);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  if (request->kind < _bridge_ValueKind_MIN || request->kind > _bridge_ValueKind_MAX) {
    shmrpc_call_set_error(call, "no value kind %d", (int)request->kind);
    return SHMRPC_STATUS_INVALID_ARGUMENT;
  }
  const store_entry_t *entry =
      store_put(s->store, key, len > 0 ? request->value->bytes : NULL, len, request->kind);
  if (entry == NULL) {
    shmrpc_call_set_error(call, "the store is full (%d entries) or out of memory",
                          STORE_MAX_ENTRIES);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  notify_watchers(s, entry);
  return entry_copy(entry, reply) ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

static int list(shmrpc_call_t *call, const bridge_ListRequest *request, bridge_ListReply *reply) {
  service_t *s = shmrpc_call_user_data(call);
  const char *prefix = text_or_empty(request->prefix);
  size_t first = store_lower_bound(s->store, prefix), end = first;
  while (end < s->store->entry_count && store_has_prefix(s->store->entries[end].key, prefix)) end++;
  if (end == first) return SHMRPC_STATUS_OK;
  if (end - first > PB_SIZE_MAX) {
    shmrpc_call_set_error(call, "%zu entries: more than one reply holds", end - first);
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  reply->entries = calloc(end - first, sizeof *reply->entries);
  if (reply->entries == NULL) return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  reply->entries_count = (pb_size_t)(end - first);
  for (size_t i = first; i < end; i++) {
    /* On failure the runtime still releases what was copied. */
    if (!entry_copy(&s->store->entries[i], &reply->entries[i - first]))
      return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  }
  return SHMRPC_STATUS_OK;
}

/* ---- watch ----------------------------------------------------------------- */

static int write_event(shmrpc_call_t *call, const store_entry_t *entry, bool existing) {
  /* The key is the store's: shmrpc_call_write encodes before it returns. */
  pb_bytes_array_t *value = bytes_copy(entry);
  if (value == NULL) return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  bridge_WatchEvent event = {.has_entry = true, .entry = entry_view(entry, value), .existing = existing};
  int status = bridge_Store_Watch_write(call, &event);
  free(value);
  return status;
}

/* Ends a watch with `status` (once) and counts why. */
static void end_watch(service_t *s, watcher_t *w, int status) {
  if (w->finished) return;
  w->finished = true;
  if (status == SHMRPC_STATUS_DEADLINE_EXCEEDED) s->watches_expired++;
  else s->watches_cancelled++;
  bridge_Store_Watch_finish(w->call, status);
}

/* The client gives up at the same deadline and says so with a CANCEL that
 * may arrive a moment before this side's timer: a cancel this close to
 * the deadline counts as reaching it. */
#define DEADLINE_SLACK_US 20000

static void watch_cancelled(shmrpc_call_t *call, void *user) {
  watcher_t *w = user;
  service_t *s = shmrpc_call_user_data(call);
  int64_t left_us = shmrpc_call_time_left_us(call);
  bool expired = left_us >= 0 && left_us <= DEADLINE_SLACK_US;
  end_watch(s, w, expired ? SHMRPC_STATUS_DEADLINE_EXCEEDED : SHMRPC_STATUS_CANCELLED);
  if (s->notifying == 0) sweep_watchers(s);
}

static void sweep_watchers(service_t *s) {
  for (watcher_t **link = &s->watchers; *link != NULL;) {
    watcher_t *w = *link;
    if (w->finished) {
      *link = w->next;
      free(w);
    } else {
      link = &w->next;
    }
  }
}

static void notify_watchers(service_t *s, const store_entry_t *entry) {
  /* A write may wait for a watcher's credit; meanwhile cancel hooks run and
   * mark watchers finished, but only this loop unlinks them. */
  s->notifying++;
  for (watcher_t *w = s->watchers; w != NULL; w = w->next) {
    if (w->finished || !store_has_prefix(entry->key, w->prefix)) continue;
    int status = write_event(w->call, entry, false);
    if (status != SHMRPC_STATUS_OK) end_watch(s, w, status);
  }
  s->notifying--;
  if (s->notifying == 0) sweep_watchers(s);
}

static int watch(shmrpc_call_t *call, const bridge_WatchRequest *request) {
  service_t *s = shmrpc_call_user_data(call);
  int64_t left_us = shmrpc_call_time_left_us(call);
  s->last_watch_deadline_ms = left_us < 0 ? -1 : left_us / 1000;
  const char *prefix = text_or_empty(request->prefix);
  for (size_t i = store_lower_bound(s->store, prefix);
       i < s->store->entry_count && store_has_prefix(s->store->entries[i].key, prefix); i++) {
    int status = write_event(call, &s->store->entries[i], true);
    if (status != SHMRPC_STATUS_OK) return status;
  }
  watcher_t *w = calloc(1, sizeof *w);
  if (w == NULL) return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  w->call = call;
  w->prefix = prefix;
  w->next = s->watchers;
  s->watchers = w;
  /* Runs at once if the call is already over; either way it finishes it. */
  shmrpc_call_on_cancel(call, watch_cancelled, w);
  return SHMRPC_DEFERRED;
}

static int stats(shmrpc_call_t *call, const bridge_StatsRequest *request, bridge_StoreStats *reply) {
  (void)request;
  service_t *s = shmrpc_call_user_data(call);
  for (const watcher_t *w = s->watchers; w != NULL; w = w->next) reply->watchers += !w->finished;
  reply->watches_expired = s->watches_expired;
  reply->watches_cancelled = s->watches_cancelled;
  reply->last_watch_deadline_ms = s->last_watch_deadline_ms;
  reply->calls_in_flight = (uint32_t)shmrpc_server_calls_in_flight(shmrpc_call_server(call)) - 1;
  reply->entries = (uint32_t)s->store->entry_count;
  return SHMRPC_STATUS_OK;
}

static const bridge_Store_handlers_t handlers = {
    .Read = read_document,
    .Write = write_document,
    .Get = get,
    .Put = put,
    .List = list,
    .Watch = watch,
    .Stats = stats,
};

/* A fresh store per client. */
static int setup(shmrpc_server_t *server, const char *config, void **user_data) {
  (void)server;
  (void)config;
  service_t *service = calloc(1, sizeof *service);
  if (service == NULL) return SHMRPC_ENOMEM;
  service->last_watch_deadline_ms = -1;
  service->store = store_create();
  if (service->store == NULL) {
    free(service);
    return SHMRPC_ENOMEM;
  }
  *user_data = service;
  return 0;
}

/* The client is gone: the server has failed every open watch (their
 * cancel hooks finished them). */
static void teardown(shmrpc_server_t *server, void *user_data) {
  (void)server;
  service_t *service = user_data;
  sweep_watchers(service);
  store_destroy(service->store);
  free(service);
}

static const shmrpc_service_hooks_t hooks = {.setup = setup, .teardown = teardown};

SHMRPC_SERVICE_LIBRARY(&bridge_Store_service, &handlers, &hooks)
