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

static bool check_message(schema_t *schema, const message_t *m) {
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (f->type == TYPE_GROUP) {
      return schema_fail(schema,
                         "%s (%s): a group, which nanopb (the C structs) cannot generate: "
                         "generate TypeScript only (no --c-out / no c parameter)",
                         f->path, m->file->name);
    }
  }
  for (size_t i = 0; i < m->message_count; i++) {
    if (!check_message(schema, &m->messages[i])) return false;
  }
  return true;
}

bool c_check_nanopb(schema_t *schema) {
  /* nanopb reads every file of the request, imports included. */
  for (size_t i = 0; i < schema->file_count; i++) {
    const file_t *file = &schema->files[i];
    for (size_t k = 0; k < file->message_count; k++) {
      if (!check_message(schema, &file->messages[k])) return false;
    }
  }
  return true;
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
