/* One .proto file -> one <name>_pb.ts: header, imports, then every enum,
 * message and service in declaration order (nested types after their
 * parent). Also owns naming: which identifier each type has in this file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comments.h"
#include "emit.h"
#include "names.h"
#include "ts.h"

/* Locals of the generated methods; a field named like one gets a suffix. */
static const char *const generated_locals[] = {
    "m", "w", "n", "r", "e", "t", "v", "end", "depth", "into", "tag", "start", "unknown",
    "init", "key", "value", "len", "message", "target", "offset", "bytes", "pb", "at", "entry", "i", "keys", "k",
};

static bool is_local(const ts_ctx_t *ctx, const char *name) {
  for (size_t i = 0; i < ctx->local_count; i++) {
    if (strcmp(ctx->locals[i], name) == 0) return true;
  }
  return false;
}

const char *ts_local(const ts_ctx_t *ctx, const char *name) {
  bool clash = names_ts_reserved(name) || is_local(ctx, name);
  for (size_t i = 0; !clash && i < sizeof(generated_locals) / sizeof(generated_locals[0]); i++) {
    clash = strcmp(generated_locals[i], name) == 0;
  }
  if (!clash) return name;
  return ts_local(ctx, names_join(&ctx->schema->arena, name, "", "_"));
}

static const ts_import_t *find_import(const ts_ctx_t *ctx, const void *type) {
  for (size_t i = 0; i < ctx->import_count; i++) {
    if (ctx->imports[i].type == type) return &ctx->imports[i];
  }
  return NULL;
}

const char *ts_ref_message(const ts_ctx_t *ctx, const message_t *m) {
  if (m->file == ctx->file) return m->ts_name;
  const ts_import_t *imp = find_import(ctx, m);
  return imp != NULL ? imp->local : m->ts_name;
}

const char *ts_ref_enum(const ts_ctx_t *ctx, const enum_t *e) {
  if (e->file == ctx->file) return e->ts_name;
  const ts_import_t *imp = find_import(ctx, e);
  return imp != NULL ? imp->local : e->ts_name;
}

/* ---- names declared by the file ------------------------------------------ */

static void add_local(ts_ctx_t *ctx, const char *name) {
  ctx->locals = xrealloc(ctx->locals, sizeof(char *) * (ctx->local_count + 1));
  ctx->locals[ctx->local_count++] = name;
}

static void declare_message(ts_ctx_t *ctx, const message_t *m) {
  if (m->map_entry) return;
  add_local(ctx, m->ts_name);
  for (size_t i = 0; i < m->enum_count; i++) add_local(ctx, m->enums[i].ts_name);
  for (size_t i = 0; i < m->message_count; i++) declare_message(ctx, &m->messages[i]);
}

static void declare_all(ts_ctx_t *ctx) {
  const file_t *file = ctx->file;
  add_local(ctx, file->ts_descriptor_name);
  for (size_t i = 0; i < file->enum_count; i++) add_local(ctx, file->enums[i].ts_name);
  for (size_t i = 0; i < file->message_count; i++) declare_message(ctx, &file->messages[i]);
  for (size_t i = 0; i < file->service_count; i++) {
    add_local(ctx, file->services[i].ts_name);
    add_local(ctx, file->services[i].ts_client_name);
  }
}

/* ---- naming: the one mangling rule ---------------------------------------- *
 * A type's TypeScript name is its name, nested types joined to their
 * parent's TypeScript name with "_" (Outer.Inner -> Outer_Inner). Where that
 * name is a reserved word or a global the generated code uses
 * (names_ts_reserved: Object, Uint8Array, Promise, ...), or is already
 * taken in the file, "$" is appended until it is neither. Top-level types
 * and services are named first, in declaration order, so they keep their
 * names; a nested Outer.Inner beside a top-level Outer_Inner becomes
 * Outer_Inner$. A service's client class is the service's name + "Client",
 * under the same rule; the file's embedded descriptor (file_<path>) comes
 * after them. Fields keep protoc's json_name as property names. */

typedef struct {
  arena_t *arena;
  size_t count;
  const char **names;
} taken_t;

static const char *unique_name(taken_t *taken, const char *wanted) {
  const char *name = wanted;
  for (;;) {
    bool clash = names_ts_reserved(name);
    for (size_t i = 0; !clash && i < taken->count; i++) clash = strcmp(taken->names[i], name) == 0;
    if (!clash) break;
    name = names_join(taken->arena, name, "", "$");
  }
  taken->names = xrealloc(taken->names, sizeof(char *) * (taken->count + 1));
  taken->names[taken->count++] = name;
  return name;
}

static void name_nested(taken_t *taken, message_t *m) {
  for (size_t i = 0; i < m->enum_count; i++) {
    m->enums[i].ts_name = unique_name(taken, names_join(taken->arena, m->ts_name, "_",
                                                        m->enums[i].name));
  }
  for (size_t i = 0; i < m->message_count; i++) {
    message_t *inner = &m->messages[i];
    if (inner->map_entry) continue;
    inner->ts_name = unique_name(taken, names_join(taken->arena, m->ts_name, "_", inner->name));
  }
  for (size_t i = 0; i < m->message_count; i++) {
    if (!m->messages[i].map_entry) name_nested(taken, &m->messages[i]);
  }
}

/* "shop/order.proto" -> "file_shop_order": the embedded descriptor. */
static const char *descriptor_base_name(arena_t *arena, const file_t *file) {
  char *name = names_join(arena, "file_", "", names_strip_proto(arena, file->name));
  for (char *p = name; *p != '\0'; p++) {
    if (!isalnum((unsigned char)*p)) *p = '_';
  }
  return name;
}

void ts_assign_names(schema_t *schema) {
  for (size_t f = 0; f < schema->file_count; f++) {
    file_t *file = &schema->files[f];
    taken_t taken = {.arena = &schema->arena};
    for (size_t i = 0; i < file->enum_count; i++) {
      file->enums[i].ts_name = unique_name(&taken, file->enums[i].name);
    }
    for (size_t i = 0; i < file->message_count; i++) {
      file->messages[i].ts_name = unique_name(&taken, file->messages[i].name);
    }
    for (size_t i = 0; i < file->service_count; i++) {
      service_t *s = &file->services[i];
      s->ts_name = unique_name(&taken, s->name);
      s->ts_client_name = unique_name(&taken, names_join(&schema->arena, s->ts_name, "", "Client"));
    }
    file->ts_descriptor_name = unique_name(&taken, descriptor_base_name(&schema->arena, file));
    for (size_t i = 0; i < file->message_count; i++) name_nested(&taken, &file->messages[i]);
    free(taken.names);
  }
}

/* ---- reading fields -------------------------------------------------------- */

const char *ts_get(const ts_ctx_t *ctx, const char *object, const char *property) {
  arena_t *arena = &ctx->schema->arena;
  char text[512];
  if (names_ts_inherited(property)) {
    snprintf(text, sizeof(text), "(Object.hasOwn(%s, \"%s\") ? %s.%s : undefined)", object,
             property, object, property);
  } else {
    snprintf(text, sizeof(text), "%s.%s", object, property);
  }
  return arena_strdup(arena, text);
}

/* ---- imports -------------------------------------------------------------- */

static void use_type(ts_ctx_t *ctx, const void *type, const char *name, const file_t *file) {
  if (file == ctx->file || find_import(ctx, type) != NULL) return;
  const char *local = name;
  for (int n = 1; is_local(ctx, local); n++) {
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "$%d", n);
    local = names_join(&ctx->schema->arena, name, "", suffix);
  }
  add_local(ctx, local);
  ctx->imports = xrealloc(ctx->imports, sizeof(ts_import_t) * (ctx->import_count + 1));
  ctx->imports[ctx->import_count++] = (ts_import_t){type, name, local, file};
}

static void use_field_types(ts_ctx_t *ctx, const message_t *m) {
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (f->message != NULL) use_type(ctx, f->message, f->message->ts_name, f->message->file);
    if (f->enumeration != NULL) {
      use_type(ctx, f->enumeration, f->enumeration->ts_name, f->enumeration->file);
    }
  }
  for (size_t i = 0; i < m->message_count; i++) use_field_types(ctx, &m->messages[i]);
}

static void collect_imports(ts_ctx_t *ctx) {
  const file_t *file = ctx->file;
  for (size_t i = 0; i < file->message_count; i++) use_field_types(ctx, &file->messages[i]);
  for (size_t i = 0; i < file->service_count; i++) {
    const service_t *s = &file->services[i];
    for (size_t k = 0; k < s->method_count; k++) {
      use_type(ctx, s->methods[k].input, s->methods[k].input->ts_name, s->methods[k].input->file);
      use_type(ctx, s->methods[k].output, s->methods[k].output->ts_name,
               s->methods[k].output->file);
    }
  }
}

/* The module specifier of `to`'s output, relative to `from`'s output. */
static void relative_module(buf_t *out, const char *from, const char *to) {
  /* Skip the common directory prefix. */
  size_t common = 0;
  for (size_t i = 0; from[i] != '\0' && from[i] == to[i]; i++) {
    if (from[i] == '/') common = i + 1;
  }
  int ups = 0;
  for (const char *p = from + common; *p != '\0'; p++) {
    if (*p == '/') ups++;
  }
  if (ups == 0) buf_put(out, "./");
  for (int i = 0; i < ups; i++) buf_put(out, "../");
  const char *rest = to + common;
  size_t n = strlen(rest);
  if (n > 6 && strcmp(rest + n - 6, ".proto") == 0) n -= 6;
  buf_putn(out, rest, n);
  buf_put(out, "_pb.js");
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const ts_import_t *)a)->name, ((const ts_import_t *)b)->name);
}

/* The import statement for the types this file uses from `dep`, if any. */
static void emit_import_from(ts_ctx_t *ctx, const file_t *dep) {
  buf_t *out = ctx->out;
  bool any = false;
  for (size_t i = 0; i < ctx->import_count; i++) {
    const ts_import_t *imp = &ctx->imports[i];
    if (imp->file != dep) continue;
    buf_put(out, any ? ", " : "import { ");
    any = true;
    if (strcmp(imp->name, imp->local) == 0) {
      buf_put(out, imp->name);
    } else {
      buf_printf(out, "%s as %s", imp->name, imp->local);
    }
  }
  if (any) {
    buf_put(out, " } from \"");
    relative_module(out, ctx->file->name, dep->name);
    buf_put(out, "\";\n");
  }
}

static bool is_dependency(const file_t *file, const file_t *other) {
  for (size_t d = 0; d < file->dependency_count; d++) {
    if (file->dependencies[d] == other) return true;
  }
  return false;
}

/* One import statement per file: the file's own imports in their order,
 * then files whose types arrive through `import public`. */
static void emit_imports(ts_ctx_t *ctx) {
  buf_line(ctx->out, "import * as pb from \"%s\";", ctx->params->runtime);
  if (ctx->import_count > 0) /* qsort's array argument must not be NULL */
    qsort(ctx->imports, ctx->import_count, sizeof(ts_import_t), by_name);
  const file_t *file = ctx->file;
  for (size_t d = 0; d < file->dependency_count; d++) emit_import_from(ctx, file->dependencies[d]);
  for (size_t i = 0; i < ctx->schema->file_count; i++) {
    const file_t *other = &ctx->schema->files[i];
    if (other != file && !is_dependency(file, other)) emit_import_from(ctx, other);
  }
}

/* ---- body ----------------------------------------------------------------- */

static void emit_message_tree(const ts_ctx_t *ctx, const message_t *m) {
  if (m->map_entry) return;
  buf_blank(ctx->out);
  ts_message_emit(ctx, m);
  for (size_t i = 0; i < m->enum_count; i++) {
    buf_blank(ctx->out);
    ts_enum_emit(ctx, &m->enums[i]);
  }
  for (size_t i = 0; i < m->message_count; i++) emit_message_tree(ctx, &m->messages[i]);
}

bool ts_emit_file(schema_t *schema, const params_t *params, const file_t *file,
                  outputs_t *outputs) {
  buf_t out;
  buf_init(&out, "  ");
  ts_ctx_t ctx = {.schema = schema, .params = params, .file = file, .out = &out};
  declare_all(&ctx);
  collect_imports(&ctx);
  buf_line(&out, "// Generated by %s %s from %s. Do not edit.", CODEGEN_NAME,
           SHMRPC_CODEGEN_VERSION, file->name);
  buf_blank(&out);
  emit_imports(&ctx);
  buf_blank(&out);
  /* Another runtime's version fails to compile (a literal type) and, from
   * plain JavaScript, to load. */
  buf_line(&out, "pb.requireGeneratedCodeVersion(%d, \"%s %s\");", CODEGEN_GENERATED_CODE_VERSION,
           CODEGEN_NAME, SHMRPC_CODEGEN_VERSION);
  buf_blank(&out);
  bool ok = ts_descriptor_emit(&ctx);
  if (ok) {
    for (size_t i = 0; i < file->enum_count; i++) {
      buf_blank(&out);
      ts_enum_emit(&ctx, &file->enums[i]);
    }
    for (size_t i = 0; i < file->message_count; i++) emit_message_tree(&ctx, &file->messages[i]);
    for (size_t i = 0; i < file->service_count; i++) {
      buf_blank(&out);
      ts_service_emit(&ctx, &file->services[i]);
    }
    char *name = names_join(&schema->arena, names_strip_proto(&schema->arena, file->name), "",
                            "_pb.ts");
    outputs_add(outputs, strdup(name), buf_take(&out));
  }
  buf_free(&out);
  free(ctx.imports);
  free(ctx.locals);
  return ok;
}
