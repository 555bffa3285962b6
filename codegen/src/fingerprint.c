#include "fingerprint.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint32_t fingerprint_fnv1a32(const char *data, size_t len) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)data[i];
    h *= 0x01000193u;
  }
  return h;
}

uint64_t fingerprint_fnv1a64(const char *data, size_t len) {
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)data[i];
    h *= 0x100000001b3u;
  }
  return h;
}

static const char *const type_names[] = {
    [TYPE_DOUBLE] = "double",     [TYPE_FLOAT] = "float",       [TYPE_INT64] = "int64",
    [TYPE_UINT64] = "uint64",     [TYPE_INT32] = "int32",       [TYPE_FIXED64] = "fixed64",
    [TYPE_FIXED32] = "fixed32",   [TYPE_BOOL] = "bool",         [TYPE_STRING] = "string",
    [TYPE_GROUP] = "group",       [TYPE_MESSAGE] = "message",   [TYPE_BYTES] = "bytes",
    [TYPE_UINT32] = "uint32",     [TYPE_ENUM] = "enum",         [TYPE_SFIXED32] = "sfixed32",
    [TYPE_SFIXED64] = "sfixed64", [TYPE_SINT32] = "sint32",     [TYPE_SINT64] = "sint64",
};

typedef struct {
  const message_t **items;
  size_t count;
  size_t cap;
} message_set_t;

static void collect(message_set_t *set, const message_t *m) {
  for (size_t i = 0; i < set->count; i++) {
    if (set->items[i] == m) return;
  }
  if (set->count == set->cap) {
    set->cap = set->cap == 0 ? 16 : set->cap * 2;
    set->items = xrealloc(set->items, sizeof(*set->items) * set->cap);
  }
  set->items[set->count++] = m;
  for (size_t i = 0; i < m->field_count; i++) {
    if (m->fields[i].message != NULL) collect(set, m->fields[i].message);
  }
}

static int by_full_name(const void *a, const void *b) {
  const message_t *x = *(const message_t *const *)a;
  const message_t *y = *(const message_t *const *)b;
  return strcmp(x->full_name, y->full_name);
}

static int by_number(const void *a, const void *b) {
  const field_t *x = *(const field_t *const *)a;
  const field_t *y = *(const field_t *const *)b;
  return (x->number > y->number) - (x->number < y->number);
}

static void describe_message(buf_t *out, const message_t *m) {
  buf_printf(out, "message %s\n", m->full_name);
  const field_t **fields = xrealloc(NULL, sizeof(*fields) * (m->field_count + 1));
  for (size_t i = 0; i < m->field_count; i++) fields[i] = &m->fields[i];
  qsort(fields, m->field_count, sizeof(*fields), by_number);
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = fields[i];
    const char *label = f->repeated            ? "repeated"
                        : f->required          ? "required"
                        : f->explicit_presence ? "optional"
                                               : "singular";
    buf_printf(out, "%" PRId32 " %s %s", f->number, label, type_names[f->type]);
    if (f->message != NULL) buf_printf(out, " %s", f->message->full_name);
    if (f->enumeration != NULL) buf_printf(out, " %s", f->enumeration->full_name);
    buf_put(out, "\n");
  }
  free(fields);
}

void fingerprint_method_schema(buf_t *out, const method_t *method) {
  buf_put(out, "shmrpc-schema-1\n");
  buf_printf(out, "request %s\n", method->input->full_name);
  buf_printf(out, "response %s\n", method->output->full_name);
  message_set_t set = {0};
  collect(&set, method->input);
  collect(&set, method->output);
  qsort(set.items, set.count, sizeof(*set.items), by_full_name);
  for (size_t i = 0; i < set.count; i++) describe_message(out, set.items[i]);
  free(set.items);
}

static int methods_by_name(const void *a, const void *b) {
  const method_t *x = *(const method_t *const *)a;
  const method_t *y = *(const method_t *const *)b;
  return strcmp(x->name, y->name);
}

/* Finds a method already fingerprinted in this request with the same id. */
static const method_t *id_taken(const schema_t *schema, const method_t *method) {
  for (size_t i = 0; i < schema->file_count; i++) {
    const file_t *file = &schema->files[i];
    for (size_t k = 0; k < file->service_count; k++) {
      const service_t *s = &file->services[k];
      for (size_t j = 0; j < s->method_count; j++) {
        const method_t *other = &s->methods[j];
        if (other == method) return NULL; /* later methods have no id yet */
        if (other->id == method->id && strcmp(other->path, method->path) != 0) return other;
      }
    }
  }
  return NULL;
}

bool fingerprint_service(schema_t *schema, service_t *service) {
  buf_t text;
  buf_init(&text, "");
  for (size_t i = 0; i < service->method_count; i++) {
    method_t *method = &service->methods[i];
    method->id = fingerprint_fnv1a32(method->path, strlen(method->path));
    const method_t *other = id_taken(schema, method);
    if (other != NULL) {
      buf_free(&text);
      return schema_fail(schema, "method id collision: %s and %s both hash to 0x%08" PRIx32
                         "; rename one of them", other->path, method->path, method->id);
    }
    buf_free(&text);
    fingerprint_method_schema(&text, method);
    method->schema_hash = fingerprint_fnv1a32(text.data, text.len);
  }

  const method_t **sorted = xrealloc(NULL, sizeof(*sorted) * (service->method_count + 1));
  for (size_t i = 0; i < service->method_count; i++) sorted[i] = &service->methods[i];
  qsort(sorted, service->method_count, sizeof(*sorted), methods_by_name);
  buf_free(&text);
  buf_printf(&text, "service %s\n", service->full_name);
  for (size_t i = 0; i < service->method_count; i++) {
    buf_printf(&text, "method %s %s %08" PRIx32 "\n", sorted[i]->path,
               sorted[i]->server_streaming ? "server_streaming" : "unary",
               sorted[i]->schema_hash);
  }
  service->fingerprint = fingerprint_fnv1a64(text.data != NULL ? text.data : "", text.len);
  free(sorted);
  buf_free(&text);
  return true;
}
