#include "schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "comments.h"
#include "fingerprint.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/compiler/plugin.pb.h"
#include "names.h"

/* Descriptor field numbers used in SourceCodeInfo paths. */
enum {
  PATH_FILE_MESSAGE = 4,
  PATH_FILE_ENUM = 5,
  PATH_FILE_SERVICE = 6,
  PATH_MESSAGE_FIELD = 2,
  PATH_MESSAGE_NESTED = 3,
  PATH_MESSAGE_ENUM = 4,
  PATH_MESSAGE_ONEOF = 8,
  PATH_ENUM_VALUE = 2,
  PATH_SERVICE_METHOD = 2,
  MAX_PATH = 64
};

struct schema_type {
  const char *name; /* NULL for an empty slot */
  message_t *message;
  enum_t *enumeration;
};

/* Where the element being built sits, for comment lookup. */
typedef struct {
  const google_protobuf_SourceCodeInfo *info;
  int32_t path[MAX_PATH];
  size_t len;
} cursor_t;

bool schema_fail(schema_t *schema, const char *fmt, ...) {
  if (schema->error != NULL) return false;
  va_list ap;
  va_start(ap, fmt);
  char text[1024];
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  schema->error = arena_strdup(&schema->arena, text);
  return false;
}

bool field_type_is_packable(field_type_t type) {
  return type != TYPE_STRING && type != TYPE_BYTES && type != TYPE_MESSAGE &&
         type != TYPE_GROUP;
}

static const char *comment_at(const cursor_t *at) {
  return comments_find(at->info, at->path, at->len);
}

/* Pushes two path elements for the duration of building one child. */
static bool cursor_push(schema_t *schema, cursor_t *at, int32_t kind, size_t index) {
  if (at->len + 2 > MAX_PATH) return schema_fail(schema, "types nested too deeply");
  at->path[at->len++] = kind;
  at->path[at->len++] = (int32_t)index;
  return true;
}

static void cursor_pop(cursor_t *at) { at->len -= 2; }

static const char *str_or_empty(const char *s) { return s != NULL ? s : ""; }

/* ---- type table ---------------------------------------------------------- */

static uint32_t hash_name(const char *name) {
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
    h = (h ^ *p) * 16777619u;
  }
  return h;
}

static struct schema_type *type_slot(schema_t *schema, const char *name) {
  size_t mask = schema->type_capacity - 1;
  for (size_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
    struct schema_type *slot = &schema->types[i];
    if (slot->name == NULL || strcmp(slot->name, name) == 0) return slot;
  }
}

static bool type_add(schema_t *schema, const char *name, message_t *message, enum_t *enumeration) {
  struct schema_type *slot = type_slot(schema, name);
  if (slot->name != NULL) return schema_fail(schema, "%s is defined twice", name);
  slot->name = name;
  slot->message = message;
  slot->enumeration = enumeration;
  schema->type_count++;
  return true;
}

/* protoc hands plugins fully qualified type names with a leading dot. */
static struct schema_type *type_find(schema_t *schema, const char *type_name) {
  if (type_name == NULL) return NULL;
  if (type_name[0] == '.') type_name++;
  struct schema_type *slot = type_slot(schema, type_name);
  return slot->name != NULL ? slot : NULL;
}

static size_t count_types(const google_protobuf_DescriptorProto *messages, size_t count) {
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    n += 1 + messages[i].enum_type_count;
    n += count_types(messages[i].nested_type, messages[i].nested_type_count);
  }
  return n;
}

/* ---- pass 1: declare types ----------------------------------------------- */

static bool declare_enum(schema_t *schema, enum_t *e, const google_protobuf_EnumDescriptorProto *d,
                         const file_t *file, const char *scope, const char *ts_scope,
                         cursor_t *at) {
  arena_t *arena = &schema->arena;
  e->name = str_or_empty(d->name);
  e->full_name = names_join(arena, scope, ".", e->name);
  e->ts_name = names_join(arena, ts_scope, "_", e->name);
  e->c_name = names_dots_to_underscores(arena, e->full_name);
  e->file = file;
  e->closed = file->proto2;
  e->comment = comment_at(at);
  e->value_count = d->value_count;
  e->values = arena_alloc(arena, sizeof(enum_value_t) * d->value_count);
  for (size_t i = 0; i < d->value_count; i++) {
    const google_protobuf_EnumValueDescriptorProto *v = &d->value[i];
    if (!cursor_push(schema, at, PATH_ENUM_VALUE, i)) return false;
    e->values[i].name = str_or_empty(v->name);
    e->values[i].number = v->number != NULL ? *v->number : 0;
    e->values[i].comment = comment_at(at);
    cursor_pop(at);
  }
  return type_add(schema, e->full_name, NULL, e);
}

static bool declare_message(schema_t *schema, message_t *m,
                            const google_protobuf_DescriptorProto *d, const file_t *file,
                            const char *scope, const char *ts_scope, cursor_t *at) {
  arena_t *arena = &schema->arena;
  m->name = str_or_empty(d->name);
  m->full_name = names_join(arena, scope, ".", m->name);
  m->ts_name = names_join(arena, ts_scope, "_", m->name);
  m->c_name = names_dots_to_underscores(arena, m->full_name);
  m->file = file;
  m->comment = comment_at(at);
  m->map_entry = d->options != NULL && d->options->map_entry != NULL && *d->options->map_entry;
  if (!type_add(schema, m->full_name, m, NULL)) return false;

  m->message_count = d->nested_type_count;
  m->messages = arena_alloc(arena, sizeof(message_t) * d->nested_type_count);
  for (size_t i = 0; i < d->nested_type_count; i++) {
    if (!cursor_push(schema, at, PATH_MESSAGE_NESTED, i)) return false;
    if (!declare_message(schema, &m->messages[i], &d->nested_type[i], file, m->full_name,
                         m->ts_name, at)) {
      return false;
    }
    cursor_pop(at);
  }
  m->enum_count = d->enum_type_count;
  m->enums = arena_alloc(arena, sizeof(enum_t) * d->enum_type_count);
  for (size_t i = 0; i < d->enum_type_count; i++) {
    if (!cursor_push(schema, at, PATH_MESSAGE_ENUM, i)) return false;
    if (!declare_enum(schema, &m->enums[i], &d->enum_type[i], file, m->full_name, m->ts_name,
                      at)) {
      return false;
    }
    cursor_pop(at);
  }
  return true;
}

/* ---- pass 2: fields ------------------------------------------------------ */

static bool resolve_field(schema_t *schema, message_t *m, field_t *f,
                          const google_protobuf_FieldDescriptorProto *d) {
  arena_t *arena = &schema->arena;
  f->name = str_or_empty(d->name);
  f->json_name = d->json_name != NULL ? d->json_name : names_lower_camel(arena, f->name);
  f->path = names_join(arena, m->full_name, ".", f->name);
  f->number = d->number != NULL ? *d->number : 0;
  f->type = d->type != NULL ? (field_type_t)*d->type : TYPE_MESSAGE;
  int label = d->label != NULL ? (int)*d->label : 0;
  f->repeated = label == google_protobuf_FieldDescriptorProto_Label_LABEL_REPEATED;
  f->required = label == google_protobuf_FieldDescriptorProto_Label_LABEL_REQUIRED;
  bool proto2 = m->file->proto2;
  f->explicit_presence = (d->proto3_optional != NULL && *d->proto3_optional) ||
                         (proto2 && !f->repeated);
  f->default_value = d->default_value;
  f->oneof = -1;
  if (field_is_message(f) || f->type == TYPE_ENUM) {
    struct schema_type *t = type_find(schema, d->type_name);
    if (t == NULL || (field_is_message(f) && t->message == NULL) ||
        (f->type == TYPE_ENUM && t->enumeration == NULL)) {
      return schema_fail(schema, "%s.%s: unknown type %s", m->full_name, f->name,
                         str_or_empty(d->type_name));
    }
    f->message = t->message;
    f->enumeration = t->enumeration;
  }
  f->map = f->repeated && f->message != NULL && f->message->map_entry;
  /* proto3 packs repeated scalars unless told not to; proto2 only when told. */
  const bool *packed_option = d->options != NULL ? d->options->packed : NULL;
  bool packed = packed_option != NULL ? *packed_option : !proto2;
  f->packed = f->repeated && field_type_is_packable(f->type) && packed;
  return true;
}

/* Fields first, then oneofs: a oneof lists its members, so the field array
 * must be complete. proto3 `optional` fields sit in synthetic oneofs that
 * are presence markers, not oneofs: those are skipped. */
static bool resolve_message(schema_t *schema, message_t *m,
                            const google_protobuf_DescriptorProto *d, cursor_t *at) {
  arena_t *arena = &schema->arena;
  m->field_count = d->field_count;
  m->fields = arena_alloc(arena, sizeof(field_t) * d->field_count);
  for (size_t i = 0; i < d->field_count; i++) {
    if (!cursor_push(schema, at, PATH_MESSAGE_FIELD, i)) return false;
    m->fields[i].comment = comment_at(at);
    cursor_pop(at);
    if (!resolve_field(schema, m, &m->fields[i], &d->field[i])) return false;
  }

  int *real_index = arena_alloc(arena, sizeof(int) * (d->oneof_decl_count + 1));
  for (size_t i = 0; i < d->oneof_decl_count; i++) real_index[i] = -1;
  for (size_t i = 0; i < d->field_count; i++) {
    const google_protobuf_FieldDescriptorProto *fd = &d->field[i];
    bool synthetic = fd->proto3_optional != NULL && *fd->proto3_optional;
    if (fd->oneof_index == NULL || synthetic) continue;
    int32_t decl = *fd->oneof_index;
    if (decl < 0 || (size_t)decl >= d->oneof_decl_count) {
      return schema_fail(schema, "%s: bad oneof index", m->full_name);
    }
    if (real_index[decl] < 0) real_index[decl] = (int)m->oneof_count++;
    m->fields[i].oneof = real_index[decl];
    m->fields[i].explicit_presence = false; /* the oneof's case says which is set */
  }
  m->oneofs = arena_alloc(arena, sizeof(oneof_t) * m->oneof_count);
  for (size_t decl = 0; decl < d->oneof_decl_count; decl++) {
    if (real_index[decl] < 0) continue;
    oneof_t *o = &m->oneofs[real_index[decl]];
    o->name = str_or_empty(d->oneof_decl[decl].name);
    o->json_name = names_lower_camel(arena, o->name);
    if (!cursor_push(schema, at, PATH_MESSAGE_ONEOF, decl)) return false;
    o->comment = comment_at(at);
    cursor_pop(at);
  }
  for (size_t i = 0; i < m->field_count; i++) {
    if (m->fields[i].oneof >= 0) m->oneofs[m->fields[i].oneof].field_count++;
  }
  for (size_t k = 0; k < m->oneof_count; k++) {
    m->oneofs[k].fields = arena_alloc(arena, sizeof(field_t *) * m->oneofs[k].field_count);
    m->oneofs[k].field_count = 0;
  }
  for (size_t i = 0; i < m->field_count; i++) {
    if (m->fields[i].oneof < 0) continue;
    oneof_t *o = &m->oneofs[m->fields[i].oneof];
    o->fields[o->field_count++] = &m->fields[i];
  }

  for (size_t i = 0; i < m->message_count; i++) {
    if (!cursor_push(schema, at, PATH_MESSAGE_NESTED, i)) return false;
    if (!resolve_message(schema, &m->messages[i], &d->nested_type[i], at)) return false;
    cursor_pop(at);
  }
  return true;
}

/* ---- services ------------------------------------------------------------ */

static bool build_service(schema_t *schema, service_t *s,
                          const google_protobuf_ServiceDescriptorProto *d, const file_t *file,
                          cursor_t *at) {
  arena_t *arena = &schema->arena;
  s->name = str_or_empty(d->name);
  s->full_name = names_join(arena, file->package, ".", s->name);
  s->c_name = names_dots_to_underscores(arena, s->full_name);
  s->file = file;
  s->comment = comment_at(at);
  s->method_count = d->method_count;
  s->methods = arena_alloc(arena, sizeof(method_t) * d->method_count);
  for (size_t i = 0; i < d->method_count; i++) {
    const google_protobuf_MethodDescriptorProto *md = &d->method[i];
    method_t *method = &s->methods[i];
    method->name = str_or_empty(md->name);
    method->path = names_join(arena, s->full_name, "/", method->name);
    if (!cursor_push(schema, at, PATH_SERVICE_METHOD, i)) return false;
    method->comment = comment_at(at);
    cursor_pop(at);
    method->client_streaming = md->client_streaming != NULL && *md->client_streaming;
    method->server_streaming = md->server_streaming != NULL && *md->server_streaming;
    struct schema_type *in = type_find(schema, md->input_type);
    struct schema_type *out = type_find(schema, md->output_type);
    if (in == NULL || in->message == NULL || out == NULL || out->message == NULL) {
      return schema_fail(schema, "%s: unknown request or response type", method->path);
    }
    method->input = in->message;
    method->output = out->message;
  }
  return true;
}

/* ---- files --------------------------------------------------------------- */

static bool listed(const google_protobuf_compiler_CodeGeneratorRequest *request,
                   const char *name) {
  for (size_t i = 0; i < request->file_to_generate_count; i++) {
    if (strcmp(request->file_to_generate[i], name) == 0) return true;
  }
  return false;
}

static const file_t *file_by_name(const schema_t *schema, size_t before, const char *name) {
  for (size_t i = 0; i < before; i++) {
    if (strcmp(schema->files[i].name, name) == 0) return &schema->files[i];
  }
  return NULL;
}

static bool declare_file(schema_t *schema, size_t index,
                         const google_protobuf_FileDescriptorProto *d,
                         const google_protobuf_compiler_CodeGeneratorRequest *request) {
  arena_t *arena = &schema->arena;
  file_t *file = &schema->files[index];
  file->name = str_or_empty(d->name);
  file->descriptor = d;
  file->package = str_or_empty(d->package);
  file->generate = listed(request, file->name);
  /* protoc leaves `syntax` out for proto2 files. */
  file->proto2 = d->syntax == NULL || d->syntax[0] == '\0' || strcmp(d->syntax, "proto2") == 0;
  if (!file->proto2 && strcmp(d->syntax, "proto3") != 0) {
    return schema_fail(schema, "%s: syntax \"%s\" is not supported (proto2 and proto3 are)",
                       file->name, d->syntax);
  }
  file->dependency_count = d->dependency_count;
  file->dependencies = arena_alloc(arena, sizeof(file_t *) * d->dependency_count);
  for (size_t i = 0; i < d->dependency_count; i++) {
    file->dependencies[i] = file_by_name(schema, index, d->dependency[i]);
    if (file->dependencies[i] == NULL) {
      return schema_fail(schema, "%s: dependency %s missing from the request", file->name,
                         d->dependency[i]);
    }
  }

  cursor_t at = {.info = d->source_code_info};
  file->message_count = d->message_type_count;
  file->messages = arena_alloc(arena, sizeof(message_t) * d->message_type_count);
  for (size_t i = 0; i < d->message_type_count; i++) {
    cursor_push(schema, &at, PATH_FILE_MESSAGE, i);
    if (!declare_message(schema, &file->messages[i], &d->message_type[i], file, file->package,
                         NULL, &at)) {
      return false;
    }
    cursor_pop(&at);
  }
  file->enum_count = d->enum_type_count;
  file->enums = arena_alloc(arena, sizeof(enum_t) * d->enum_type_count);
  for (size_t i = 0; i < d->enum_type_count; i++) {
    cursor_push(schema, &at, PATH_FILE_ENUM, i);
    if (!declare_enum(schema, &file->enums[i], &d->enum_type[i], file, file->package, NULL,
                      &at)) {
      return false;
    }
    cursor_pop(&at);
  }
  return true;
}

static bool resolve_file(schema_t *schema, file_t *file,
                         const google_protobuf_FileDescriptorProto *d) {
  cursor_t at = {.info = d->source_code_info};
  for (size_t i = 0; i < file->message_count; i++) {
    cursor_push(schema, &at, PATH_FILE_MESSAGE, i);
    if (!resolve_message(schema, &file->messages[i], &d->message_type[i], &at)) return false;
    cursor_pop(&at);
  }
  file->service_count = d->service_count;
  file->services = arena_alloc(&schema->arena, sizeof(service_t) * d->service_count);
  for (size_t i = 0; i < d->service_count; i++) {
    cursor_push(schema, &at, PATH_FILE_SERVICE, i);
    if (!build_service(schema, &file->services[i], &d->service[i], file, &at)) return false;
    cursor_pop(&at);
  }
  return true;
}

bool schema_build(schema_t *schema, const google_protobuf_compiler_CodeGeneratorRequest *request) {
  memset(schema, 0, sizeof(*schema));
  size_t types = 0;
  for (size_t i = 0; i < request->proto_file_count; i++) {
    const google_protobuf_FileDescriptorProto *d = &request->proto_file[i];
    types += d->enum_type_count + count_types(d->message_type, d->message_type_count);
  }
  schema->type_capacity = 16;
  while (schema->type_capacity < types * 2) schema->type_capacity *= 2;
  schema->types = arena_alloc(&schema->arena, sizeof(struct schema_type) * schema->type_capacity);

  schema->file_count = request->proto_file_count;
  schema->files = arena_alloc(&schema->arena, sizeof(file_t) * request->proto_file_count);
  for (size_t i = 0; i < request->proto_file_count; i++) {
    if (!declare_file(schema, i, &request->proto_file[i], request)) return false;
  }
  for (size_t i = 0; i < request->proto_file_count; i++) {
    if (!resolve_file(schema, &schema->files[i], &request->proto_file[i])) return false;
  }
  for (size_t i = 0; i < schema->file_count; i++) {
    file_t *file = &schema->files[i];
    for (size_t k = 0; k < file->service_count; k++) {
      if (!fingerprint_service(schema, &file->services[k])) return false;
    }
  }
  return true;
}

void schema_free(schema_t *schema) { arena_free(&schema->arena); }
