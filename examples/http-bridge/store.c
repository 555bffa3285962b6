/* The store's data: see store.h. */
#include "store.h"

#include <stdlib.h>
#include <string.h>

static char *copy_text(const char *text) {
  size_t len = strlen(text);
  char *copy = malloc(len + 1);
  if (copy != NULL) memcpy(copy, text, len + 1);
  return copy;
}

store_t *store_create(void) {
  store_t *store = calloc(1, sizeof *store);
  if (store == NULL) return NULL;
  store->document = copy_text("{}");
  if (store->document == NULL) {
    free(store);
    return NULL;
  }
  return store;
}

void store_destroy(store_t *store) {
  if (store == NULL) return;
  for (size_t i = 0; i < store->entry_count; i++) {
    free(store->entries[i].key);
    free(store->entries[i].value);
  }
  free(store->entries);
  free(store->document);
  free(store);
}

int store_write_document(store_t *store, const char *json) {
  char *copy = copy_text(json);
  if (copy == NULL) return -1;
  free(store->document);
  store->document = copy;
  store->document_version++;
  clock_gettime(CLOCK_REALTIME, &store->document_updated_at);
  return 0;
}

size_t store_lower_bound(const store_t *store, const char *prefix) {
  size_t lo = 0, hi = store->entry_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(store->entries[mid].key, prefix) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int store_has_prefix(const char *key, const char *prefix) {
  return strncmp(key, prefix, strlen(prefix)) == 0;
}

const store_entry_t *store_get(const store_t *store, const char *key) {
  size_t at = store_lower_bound(store, key);
  return at < store->entry_count && strcmp(store->entries[at].key, key) == 0 ? &store->entries[at]
                                                                               : NULL;
}

/* Makes room for a new entry at `at`; returns it, or NULL. */
static store_entry_t *insert_slot(store_t *store, size_t at, const char *key) {
  if (store->entry_count >= STORE_MAX_ENTRIES) return NULL;
  if (store->entry_count == store->entry_capacity) {
    size_t capacity = store->entry_capacity == 0 ? 16 : store->entry_capacity * 2;
    store_entry_t *grown = realloc(store->entries, capacity * sizeof *grown);
    if (grown == NULL) return NULL;
    store->entries = grown;
    store->entry_capacity = capacity;
  }
  char *key_copy = copy_text(key);
  if (key_copy == NULL) return NULL;
  memmove(&store->entries[at + 1], &store->entries[at],
          (store->entry_count - at) * sizeof *store->entries);
  store->entry_count++;
  store_entry_t *entry = &store->entries[at];
  memset(entry, 0, sizeof *entry);
  entry->key = key_copy;
  return entry;
}

const store_entry_t *store_put(store_t *store, const char *key, const uint8_t *value,
                               size_t value_len, int kind) {
  uint8_t *value_copy = malloc(value_len > 0 ? value_len : 1);
  if (value_copy == NULL) return NULL;
  if (value_len > 0) memcpy(value_copy, value, value_len);
  size_t at = store_lower_bound(store, key);
  store_entry_t *entry = at < store->entry_count && strcmp(store->entries[at].key, key) == 0
                             ? &store->entries[at]
                             : insert_slot(store, at, key);
  if (entry == NULL) {
    free(value_copy);
    return NULL;
  }
  free(entry->value);
  entry->value = value_copy;
  entry->value_len = value_len;
  entry->kind = kind;
  entry->revision = ++store->revision;
  clock_gettime(CLOCK_REALTIME, &entry->updated_at);
  return entry;
}
