/* The state the http-bridge service owns: one JSON document and a map of
 * entries kept in key order. Plain C, no RPC: store_service.c serves it.
 * Not thread-safe: the service touches it on its dispatch thread only. */
#ifndef HTTP_BRIDGE_STORE_H
#define HTTP_BRIDGE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_MAX_DOCUMENT_BYTES (32 * 1024)
#define STORE_MAX_KEY_BYTES 256
#define STORE_MAX_VALUE_BYTES (32 * 1024)
#define STORE_MAX_ENTRIES 100000

typedef struct {
  char *key;            /* NUL-terminated, owned */
  uint8_t *value;       /* owned, `value_len` bytes */
  size_t value_len;
  int kind;             /* bridge_ValueKind */
  int64_t revision;     /* store revision of the last write */
  struct timespec updated_at;
} store_entry_t;

typedef struct {
  char *document;       /* JSON text, owned; "{}" at first */
  uint64_t document_version;
  struct timespec document_updated_at;
  store_entry_t *entries; /* sorted by key */
  size_t entry_count;
  size_t entry_capacity;
  int64_t revision;     /* Puts so far */
} store_t;

/* Returns NULL when out of memory. Release with store_destroy. */
store_t *store_create(void);
void store_destroy(store_t *store);

/* Replaces the document with a copy of `json`. Returns 0 or -1 (no memory). */
int store_write_document(store_t *store, const char *json);

/* The entry with `key`, or NULL. Valid until the next store_put. */
const store_entry_t *store_get(const store_t *store, const char *key);

/* Inserts or replaces. Returns the entry (valid until the next store_put),
 * or NULL when out of memory or full (STORE_MAX_ENTRIES). */
const store_entry_t *store_put(store_t *store, const char *key, const uint8_t *value,
                               size_t value_len, int kind);

/* The index of the first entry whose key is >= `prefix`; entries with the
 * prefix follow it, in order. */
size_t store_lower_bound(const store_t *store, const char *prefix);

/* True when `key` starts with `prefix`. */
int store_has_prefix(const char *key, const char *prefix);

#endif
