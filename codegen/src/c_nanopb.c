/* What nanopb, which generates the C structs and codecs, needs from us: a
 * check that it can express the schema, and per file an options file
 * (nanopb/<name>.options, read with -f DIR/%s.options) for what it cannot
 * decide on its own.
 *
 * Recursion: nanopb embeds a singular message field in its parent's struct,
 * so a message that reaches itself through singular message fields
 * (`message Node { Node child = 1; }`, or A -> B -> A) would be a struct
 * containing itself. Every such field on a cycle becomes FT_POINTER (a
 * malloc'd `Node *child`, NULL when absent, freed by pb_release). Repeated
 * fields and maps are pointers already (fallback_type:FT_POINTER).
 *
 * descriptor.proto: nanopb never includes descriptor.pb.h, so a file that
 * uses its types gets the include as a file option. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "emit.h"
#include "names.h"

/* True when `from` reaches `target` through singular message fields. */
static bool reaches(const message_t *from, const message_t *target, const message_t ***seen,
                    size_t *seen_count) {
  if (from == target) return true;
  for (size_t i = 0; i < *seen_count; i++) {
    if ((*seen)[i] == from) return false;
  }
  *seen = xrealloc(*seen, sizeof(**seen) * (*seen_count + 1));
  (*seen)[(*seen_count)++] = from;
  for (size_t i = 0; i < from->field_count; i++) {
    const field_t *f = &from->fields[i];
    if (f->type == TYPE_MESSAGE && !f->repeated && reaches(f->message, target, seen, seen_count)) {
      return true;
    }
  }
  return false;
}

/* A singular message field of `owner` that lies on a cycle. */
static bool on_cycle(const message_t *owner, const field_t *f) {
  if (f->type != TYPE_MESSAGE || f->repeated) return false;
  const message_t **seen = NULL;
  size_t seen_count = 0;
  bool cycle = reaches(f->message, owner, &seen, &seen_count);
  free(seen);
  return cycle;
}

static void options_for(buf_t *out, const message_t *m) {
  for (size_t i = 0; i < m->field_count; i++) {
    if (on_cycle(m, &m->fields[i])) buf_line(out, "%s type:FT_POINTER", m->fields[i].path);
  }
  for (size_t i = 0; i < m->message_count; i++) options_for(out, &m->messages[i]);
}

/* C names of the request's types so far, to find two that nanopb would
 * give the same name (A.B and A_B both become A_B). */
typedef struct {
  size_t count;
  const char **c_names;
  const char **full_names;
} c_names_t;

static bool claim(schema_t *schema, c_names_t *names, const char *c_name, const char *full_name,
                  const char *file_name) {
  for (size_t i = 0; i < names->count; i++) {
    if (strcmp(names->c_names[i], c_name) == 0) {
      return schema_fail(schema,
                         "%s and %s both become the C type %s (nanopb joins nested names with "
                         "'_'): rename one of them in the .proto, or generate TypeScript only "
                         "(no --c-out / no c parameter)",
                         names->full_names[i], full_name, c_name);
    }
  }
  if (names_c_reserved(c_name)) {
    return schema_fail(schema,
                       "%s (%s): its C name %s is a C keyword: give the file a package, or "
                       "generate TypeScript only (no --c-out / no c parameter)",
                       full_name, file_name, c_name);
  }
  names->c_names = xrealloc(names->c_names, sizeof(char *) * (names->count + 1));
  names->full_names = xrealloc(names->full_names, sizeof(char *) * (names->count + 1));
  names->c_names[names->count] = c_name;
  names->full_names[names->count++] = full_name;
  return true;
}

static bool check_message(schema_t *schema, c_names_t *names, const message_t *m) {
  if (!claim(schema, names, m->c_name, m->full_name, m->file->name)) return false;
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (f->type == TYPE_GROUP) {
      return schema_fail(schema,
                         "%s (%s): a group, which nanopb (the C structs) cannot generate: "
                         "generate TypeScript only (no --c-out / no c parameter)",
                         f->path, m->file->name);
    }
    if (names_c_reserved(f->name)) {
      return schema_fail(schema,
                         "%s (%s): the field name %s is a C keyword, and nanopb uses field names "
                         "as C struct members: rename the field in the .proto (its number, not "
                         "its name, is on the wire), or generate TypeScript only (no --c-out / "
                         "no c parameter)",
                         f->path, m->file->name, f->name);
    }
  }
  for (size_t i = 0; i < m->enum_count; i++) {
    const enum_t *e = &m->enums[i];
    if (!claim(schema, names, e->c_name, e->full_name, m->file->name)) return false;
  }
  for (size_t i = 0; i < m->message_count; i++) {
    if (!check_message(schema, names, &m->messages[i])) return false;
  }
  return true;
}

bool c_check_nanopb(schema_t *schema) {
  /* nanopb reads every file of the request, imports included. */
  c_names_t names = {0};
  bool ok = true;
  for (size_t i = 0; ok && i < schema->file_count; i++) {
    const file_t *file = &schema->files[i];
    for (size_t k = 0; ok && k < file->enum_count; k++) {
      ok = claim(schema, &names, file->enums[k].c_name, file->enums[k].full_name, file->name);
    }
    for (size_t k = 0; ok && k < file->message_count; k++) {
      ok = check_message(schema, &names, &file->messages[k]);
    }
  }
  free(names.c_names);
  free(names.full_names);
  return ok;
}

static bool uses_file(const message_t *m, const char *file_name) {
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    const file_t *used = f->message != NULL ? f->message->file
                         : f->enumeration != NULL ? f->enumeration->file
                                                  : NULL;
    if (used != NULL && strcmp(used->name, file_name) == 0) return true;
  }
  for (size_t i = 0; i < m->message_count; i++) {
    if (uses_file(&m->messages[i], file_name)) return true;
  }
  return false;
}

bool c_emit_nanopb_options(schema_t *schema, outputs_t *outputs) {
  if (!c_check_nanopb(schema)) return false;
  static const char descriptor[] = "google/protobuf/descriptor.proto";
  for (size_t i = 0; i < schema->file_count; i++) {
    const file_t *file = &schema->files[i];
    buf_t out;
    buf_init(&out, "  ");
    bool include = false;
    for (size_t k = 0; k < file->message_count; k++) {
      options_for(&out, &file->messages[k]);
      include = include || uses_file(&file->messages[k], descriptor);
    }
    if (include) buf_line(&out, "%s include:\"google/protobuf/descriptor.pb.h\"", file->name);
    if (out.len > 0) {
      char *text = buf_take(&out);
      char *name = names_join(&schema->arena, "nanopb/",
                              "", names_strip_proto(&schema->arena, file->name));
      outputs_add(outputs, strdup(names_join(&schema->arena, name, "", ".options")), text);
    }
    buf_free(&out);
  }
  return true;
}
