/* Which files a generation run needs besides the ones asked for, decided
 * from protoc's resolution of the imports (the files of the request):
 *
 * - every well-known type (google/protobuf/timestamp.proto, ...) that an
 *   asked file imports, directly or through other imports: nanopb's headers
 *   include the header of every import, and a missing one would resolve to
 *   the C++ header of the same name in the system include directory;
 * - any other google/protobuf file (descriptor.proto, compiler/plugin.proto)
 *   only when a needed file uses one of its types: a file that imports
 *   descriptor.proto for custom options does not get it generated.
 *
 * Files outside google/protobuf are never added: they are generated when
 * asked for, as protoc does. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "emit.h"

static const char *const well_known[] = {
    "google/protobuf/any.proto",        "google/protobuf/api.proto",
    "google/protobuf/duration.proto",   "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto", "google/protobuf/source_context.proto",
    "google/protobuf/struct.proto",     "google/protobuf/timestamp.proto",
    "google/protobuf/type.proto",       "google/protobuf/wrappers.proto",
};

static bool is_well_known(const char *name) {
  for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
    if (strcmp(well_known[i], name) == 0) return true;
  }
  return false;
}

static bool is_google_protobuf(const char *name) {
  return strncmp(name, "google/protobuf/", 16) == 0;
}

typedef struct {
  const schema_t *schema;
  bool *needed; /* per file index */
} plan_t;

static void visit(plan_t *plan, const file_t *file);

static void need(plan_t *plan, const file_t *file) {
  size_t index = (size_t)(file - plan->schema->files);
  if (file->generate || plan->needed[index]) return;
  plan->needed[index] = true;
  visit(plan, file);
}

static void need_type_file(plan_t *plan, const file_t *file) {
  if (file != NULL && is_google_protobuf(file->name)) need(plan, file);
}

static void visit_message(plan_t *plan, const message_t *m) {
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (f->message != NULL) need_type_file(plan, f->message->file);
    if (f->enumeration != NULL) need_type_file(plan, f->enumeration->file);
  }
  for (size_t i = 0; i < m->message_count; i++) visit_message(plan, &m->messages[i]);
}

static void visit(plan_t *plan, const file_t *file) {
  for (size_t i = 0; i < file->dependency_count; i++) {
    if (is_well_known(file->dependencies[i]->name)) need(plan, file->dependencies[i]);
  }
  for (size_t i = 0; i < file->message_count; i++) visit_message(plan, &file->messages[i]);
  for (size_t i = 0; i < file->service_count; i++) {
    const service_t *s = &file->services[i];
    for (size_t k = 0; k < s->method_count; k++) {
      need_type_file(plan, s->methods[k].input->file);
      need_type_file(plan, s->methods[k].output->file);
    }
  }
}

bool plan_emit_imports(schema_t *schema, outputs_t *outputs) {
  plan_t plan = {schema, calloc(schema->file_count + 1, sizeof(bool))};
  for (size_t i = 0; i < schema->file_count; i++) {
    if (schema->files[i].generate) visit(&plan, &schema->files[i]);
  }
  buf_t out;
  buf_init(&out, "");
  for (size_t i = 0; i < schema->file_count; i++) {
    if (plan.needed[i]) buf_line(&out, "%s", schema->files[i].name);
  }
  free(plan.needed);
  outputs_add(outputs, strdup("imports.txt"), buf_take(&out));
  buf_free(&out);
  return true;
}
