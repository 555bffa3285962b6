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

/* Only what two peers must agree on to talk: which messages a call carries
 * and how it flows. Fields are left out on purpose, so that adding, renaming
 * and removing fields and enum values keeps peers talking as protobuf's wire
 * rules allow (docs/PROTOCOL.md section 8, "Schema evolution"). */
void fingerprint_method_schema(buf_t *out, const method_t *method) {
  buf_put(out, "shmrpc-schema-2\n");
  buf_printf(out, "request %s\n", method->input->full_name);
  buf_printf(out, "response %s\n", method->output->full_name);
  buf_printf(out, "kind %s\n", method_kind_name(method));
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
               method_kind_name(sorted[i]),
               sorted[i]->schema_hash);
  }
  service->fingerprint = fingerprint_fnv1a64(text.data != NULL ? text.data : "", text.len);
  free(sorted);
  buf_free(&text);
  return true;
}
