/* One field's share of each generated TypeScript method. The generated
 * methods are straight-line code, one block per field, so every kind of
 * field (scalar, optional, message, repeated, packed, map, oneof member)
 * has its own small emitter here. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "ts.h"

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_START_GROUP = 3, WIRE_END_GROUP = 4, WIRE_I32 = 5 };

typedef struct {
  const char *ts_type; /* "number" */
  const char *zero;    /* default literal */
  const char *method;  /* Reader and Writer method */
  int fixed_size;      /* bytes when fixed width, else 0 */
  int wire_type;
  int max_size;        /* most bytes one value can take */
} scalar_t;

static const scalar_t scalars[] = {
    [TYPE_DOUBLE] = {"number", "0", "double", 8, WIRE_I64, 8},
    [TYPE_FLOAT] = {"number", "0", "float", 4, WIRE_I32, 4},
    [TYPE_INT64] = {"bigint", "0n", "int64", 0, WIRE_VARINT, 10},
    [TYPE_UINT64] = {"bigint", "0n", "uint64", 0, WIRE_VARINT, 10},
    [TYPE_INT32] = {"number", "0", "int32", 0, WIRE_VARINT, 10},
    [TYPE_FIXED64] = {"bigint", "0n", "fixed64", 8, WIRE_I64, 8},
    [TYPE_FIXED32] = {"number", "0", "fixed32", 4, WIRE_I32, 4},
    [TYPE_BOOL] = {"boolean", "false", "bool", 1, WIRE_VARINT, 1},
    [TYPE_STRING] = {"string", "\"\"", "string", 0, WIRE_LEN, 0},
    [TYPE_GROUP] = {NULL, NULL, NULL, 0, WIRE_START_GROUP, 0},
    [TYPE_MESSAGE] = {NULL, NULL, NULL, 0, WIRE_LEN, 0},
    [TYPE_BYTES] = {"Uint8Array", "pb.EMPTY_BYTES", "bytes", 0, WIRE_LEN, 0},
    [TYPE_UINT32] = {"number", "0", "uint32", 0, WIRE_VARINT, 5},
    [TYPE_ENUM] = {NULL, NULL, "int32", 0, WIRE_VARINT, 10},
    [TYPE_SFIXED32] = {"number", "0", "sfixed32", 4, WIRE_I32, 4},
    [TYPE_SFIXED64] = {"bigint", "0n", "sfixed64", 8, WIRE_I64, 8},
    [TYPE_SINT32] = {"number", "0", "sint32", 0, WIRE_VARINT, 5},
    [TYPE_SINT64] = {"bigint", "0n", "sint64", 0, WIRE_VARINT, 10},
};

int ts_wire_type(const field_t *f) { return scalars[f->type].wire_type; }

uint32_t ts_tag(const field_t *f, int wire_type) {
  return ((uint32_t)f->number << 3) | (uint32_t)wire_type;
}

/* The tag a singular value (or unpacked element) is written with. */
static uint32_t value_tag(const field_t *f) { return ts_tag(f, ts_wire_type(f)); }

/* Repeated strings with a one-byte tag: the runtime reads and writes runs
 * of their entries together (Reader.strings, Writer.stringFields). */
static bool batched_strings(const field_t *f) {
  return f->repeated && f->type == TYPE_STRING && value_tag(f) < 0x80;
}

static const field_t *entry_field(const field_t *map, int32_t number) {
  const message_t *entry = map->message;
  for (size_t i = 0; i < entry->field_count; i++) {
    if (entry->fields[i].number == number) return &entry->fields[i];
  }
  return NULL; /* protoc always generates key = 1 and value = 2 */
}

/* Opens a loop over the elements of array `local` as `v`. Indexed: V8
 * runs a for-of loop over an array of doubles several times slower. */
static void open_each(buf_t *out, const char *local) {
  buf_open(out, "for (let i = 0; i < %s.length; i++) {", local);
  buf_line(out, "const v = %s[i]!;", local);
}

/* Opens a loop over the map keys in array `keys` as `key`, indexed as in
 * open_each(). */
static void open_keys(buf_t *out, const char *keys) {
  buf_open(out, "for (let i = 0; i < %s.length; i++) {", keys);
  buf_line(out, "const key = %s[i]!;", keys);
}

/* ---- types and defaults --------------------------------------------------- */

void ts_value_type(const ts_ctx_t *ctx, buf_t *out, const field_t *f) {
  if (field_is_message(f)) {
    buf_put(out, ts_ref_message(ctx, f->message));
  } else if (f->type == TYPE_ENUM) {
    buf_put(out, ts_ref_enum(ctx, f->enumeration));
  } else {
    buf_put(out, scalars[f->type].ts_type);
  }
}

void ts_field_type(const ts_ctx_t *ctx, buf_t *out, const field_t *f) {
  if (f->map) {
    buf_put(out, "{ [key: string]: ");
    ts_value_type(ctx, out, entry_field(f, 2));
    buf_put(out, " }");
  } else if (f->repeated) {
    ts_value_type(ctx, out, f);
    buf_put(out, "[]");
  } else {
    ts_value_type(ctx, out, f);
  }
}

static void zero_value(const ts_ctx_t *ctx, buf_t *out, const field_t *f) {
  if (f->type == TYPE_ENUM) {
    /* proto3 enums start at 0: the first value is the default. */
    const enum_t *e = f->enumeration;
    buf_printf(out, "%s.%s", ts_ref_enum(ctx, e), e->values[0].name);
  } else if (field_is_message(f)) {
    buf_printf(out, "%s.create()", ts_ref_message(ctx, f->message));
  } else {
    buf_put(out, scalars[f->type].zero);
  }
}

void ts_field_default(const ts_ctx_t *ctx, buf_t *out, const field_t *f) {
  if (f->map) {
    buf_put(out, "{}");
  } else if (f->repeated) {
    buf_put(out, "[]");
  } else if (f->explicit_presence || field_is_message(f)) {
    buf_put(out, "undefined");
  } else {
    zero_value(ctx, out, f);
  }
}

/* `expr` differs from its type's default (implicit presence). */
static void nonzero_condition(buf_t *out, const field_t *f, const char *expr) {
  switch (f->type) {
    case TYPE_DOUBLE:
    case TYPE_FLOAT:
      /* -0 is not the default: its bit pattern is non-zero. */
      buf_printf(out, "%s !== undefined && (%s !== 0 || Object.is(%s, -0))", expr, expr, expr);
      break;
    case TYPE_INT64:
    case TYPE_UINT64:
    case TYPE_FIXED64:
    case TYPE_SFIXED64:
    case TYPE_SINT64:
      buf_printf(out, "%s !== undefined && %s !== 0n", expr, expr);
      break;
    case TYPE_BOOL:
      /* Not `=== true`: a value of another type must reach the check. */
      buf_printf(out, "%s !== undefined && %s !== false", expr, expr);
      break;
    case TYPE_STRING:
      buf_printf(out, "%s !== undefined && %s !== \"\"", expr, expr);
      break;
    case TYPE_BYTES:
      buf_printf(out, "%s !== undefined && %s.length !== 0", expr, expr);
      break;
    default:
      buf_printf(out, "%s !== undefined && %s !== 0", expr, expr);
      break;
  }
}

/* ---- create ------------------------------------------------------------- */

/* A value from an init object into a full value: messages are created,
 * everything else is taken as is. */
static void create_value(const ts_ctx_t *ctx, buf_t *out, const field_t *f, const char *expr) {
  if (field_is_message(f)) {
    buf_printf(out, "%s.create(%s)", ts_ref_message(ctx, f->message), expr);
  } else {
    buf_put(out, expr);
  }
}

void ts_field_create(const ts_ctx_t *ctx, const field_t *f) {
  buf_t *out = ctx->out;
  const char *name = f->json_name;
  if (f->map) {
    const field_t *value = entry_field(f, 2);
    const char *local = ts_local(ctx, name);
    buf_line(out, "const %s = %s;", local, ts_get(ctx, "init", name));
    buf_open(out, "if (%s !== undefined) {", local);
    buf_open(out, "for (const key of Object.keys(%s)) {", local);
    buf_line(out, "const value = %s[key];", local);
    buf_indent(out);
    buf_printf(out, "if (value !== undefined) pb.setEntry(m.%s, key, ",
               name);
    create_value(ctx, out, value, "value");
    buf_put(out, ");\n");
    buf_close(out, "}");
    buf_close(out, "}");
  } else {
    /* init.<name>, or a local holding it when only an own property counts. */
    const char *from = ts_get(ctx, "init", name);
    if (from[0] == '(') {
      const char *local = ts_local(ctx, name);
      buf_line(out, "const %s = %s;", local, from);
      from = local;
    }
    if (f->repeated && field_is_message(f)) {
      buf_line(out, "if (%s !== undefined) m.%s = %s.map((v) => %s.create(v));", from, name, from,
               ts_ref_message(ctx, f->message));
    } else if (f->repeated) {
      buf_line(out, "if (%s !== undefined) m.%s = %s.slice();", from, name, from);
    } else if (field_is_message(f)) {
      buf_line(out, "if (%s !== undefined) m.%s = %s.create(%s);", from, name,
               ts_ref_message(ctx, f->message), from);
    } else {
      buf_line(out, "if (%s !== undefined) m.%s = %s;", from, name, from);
    }
  }
}

/* Closes `if (value !== undefined) {`: a required field that is missing
 * cannot be encoded. */
static void close_presence(const ts_ctx_t *ctx, const field_t *f) {
  buf_t *out = ctx->out;
  if (!f->required) {
    buf_close(out, "}");
    return;
  }
  buf_close(out, "} else {");
  out->indent++;
  buf_line(out, "throw pb.missingField(\"%s\");", f->path);
  buf_close(out, "}");
}

/* ---- checks: values of the wrong type ------------------------------------- *
 * The encoder ($encode) checks every value before it writes it, and throws
 * pb.invalidValue(field, kind, value): a
 * FieldRangeError for a number or bigint out of the field's range (1.5, -1,
 * 2**40, NaN for a uint32), else a FieldTypeError. What is accepted
 * (codegen/README.md): 32-bit integers and enums as numbers that are
 * integers in range, 64-bit integers as bigints in range, float and double
 * as any number, bool as a boolean, string as a string, bytes as a
 * Uint8Array, messages as objects, repeated fields as arrays, maps as
 * objects. The conditions are cheap: (v | 0) !== v is true for any number
 * but an int32 (NaN, fractions, out of range). */

/* The kind named in errors: the scalar's type, "enum pkg.E" or "message pkg.M". */
static const char *check_kind(const ts_ctx_t *ctx, const field_t *f) {
  char text[512];
  if (f->type == TYPE_ENUM) {
    snprintf(text, sizeof(text), "enum %s", f->enumeration->full_name);
  } else if (field_is_message(f)) {
    snprintf(text, sizeof(text), "message %s", f->message->full_name);
  } else {
    return scalars[f->type].method;
  }
  return arena_strdup(&ctx->schema->arena, text);
}

/* `if (<expr is not a value of f>) throw ...;` */
static void emit_check(const ts_ctx_t *ctx, const field_t *f, const char *expr) {
  buf_t *out = ctx->out;
  /* An expression such as `o.value ?? 0` is parenthesized. */
  const char *e = strchr(expr, ' ') == NULL ? expr
                  : names_join(&ctx->schema->arena, "(", "", names_join(&ctx->schema->arena, expr, "", ")"));
  buf_indent(out);
  buf_put(out, "if (");
  switch (f->type) {
    case TYPE_INT32:
    case TYPE_SINT32:
    case TYPE_SFIXED32:
    case TYPE_ENUM:
      /* typeof first: a bigint would make `|` throw. */
      buf_printf(out, "typeof %s !== \"number\" || (%s | 0) !== %s", e, e, e);
      break;
    case TYPE_UINT32:
    case TYPE_FIXED32:
      buf_printf(out, "typeof %s !== \"number\" || (%s >>> 0) !== %s", e, e, e);
      break;
    case TYPE_DOUBLE:
    case TYPE_FLOAT:
      buf_printf(out, "typeof %s !== \"number\"", e);
      break;
    case TYPE_INT64:
    case TYPE_SINT64:
    case TYPE_SFIXED64:
      /* In range exactly when wrapping to 64 bits leaves it unchanged: one
       * builtin call, cheaper than two bigint comparisons. */
      buf_printf(out, "typeof %s !== \"bigint\" || BigInt.asIntN(64, %s) !== %s", e, e, e);
      break;
    case TYPE_UINT64:
    case TYPE_FIXED64:
      buf_printf(out, "typeof %s !== \"bigint\" || BigInt.asUintN(64, %s) !== %s", e, e, e);
      break;
    case TYPE_BOOL:
      buf_printf(out, "typeof %s !== \"boolean\"", e);
      break;
    case TYPE_STRING:
      buf_printf(out, "typeof %s !== \"string\"", e);
      break;
    case TYPE_BYTES:
      buf_printf(out, "!(%s instanceof Uint8Array)", e);
      break;
    case TYPE_MESSAGE:
    case TYPE_GROUP:
      buf_printf(out, "typeof %s !== \"object\" || %s === null", e, e);
      break;
  }
  buf_printf(out, ") throw pb.invalidValue(\"%s\", \"%s\", %s);\n", f->path, check_kind(ctx, f), e);
}

/* A repeated field must be an array and a map an object (a string has a
 * length and keys too). */
static void emit_container_check(const ts_ctx_t *ctx, const field_t *f, const char *local) {
  if (f->map) {
    buf_line(ctx->out, "if (%s !== undefined && (typeof %s !== \"object\" || %s === null)) "
             "throw pb.invalidValue(\"%s\", \"map\", %s);", local, local, local, f->path, local);
  } else if (f->repeated) {
    buf_line(ctx->out, "if (%s !== undefined && !Array.isArray(%s)) "
             "throw pb.invalidValue(\"%s\", \"repeated\", %s);", local, local, f->path, local);
  }
}

/* Map keys are object keys: integer ones must read as integers in range
 * (a 64-bit key that does not parse reaches the check as its string). */
static bool key_needs_check(const field_t *key) {
  switch (key->type) {
    case TYPE_INT32:
    case TYPE_SINT32:
    case TYPE_SFIXED32:
    case TYPE_UINT32:
    case TYPE_FIXED32:
    case TYPE_INT64:
    case TYPE_UINT64:
    case TYPE_FIXED64:
    case TYPE_SFIXED64:
    case TYPE_SINT64:
      return true;
    default:
      return false;
  }
}

/* ---- $encode ------------------------------------------------------------- */

/* Map keys are object keys (strings); this converts one back to its type. */
static const char *key_to_wire(const field_t *key) {
  switch (key->type) {
    case TYPE_STRING:
      return "key";
    case TYPE_BOOL:
      return "key === \"true\"";
    case TYPE_INT64:
    case TYPE_UINT64:
    case TYPE_FIXED64:
    case TYPE_SFIXED64:
    case TYPE_SINT64:
      return "pb.keyToBigInt(key)";
    default:
      return "Number(key)";
  }
}

/* The key as its field type wants it, for the loop body. A 32-bit integer
 * key is converted once, into `k` (Number() of a key like "-1" parses it
 * again at every use). */
static const char *wire_key(const ts_ctx_t *ctx, const field_t *key) {
  if (!key_needs_check(key)) return key_to_wire(key);
  buf_line(ctx->out, "const k = %s;", key_to_wire(key));
  return "k";
}

/* The fallback for a map value missing from an init object. */
static void entry_value_fallback(const ts_ctx_t *ctx, buf_t *out, const field_t *value) {
  if (field_is_message(value)) {
    buf_put(out, "{}");
  } else {
    zero_value(ctx, out, value);
  }
}

/* `const value = ...`: the entry's value, or its default when missing. */
static void entry_value(const ts_ctx_t *ctx, const field_t *f, const char *local) {
  buf_t *out = ctx->out;
  buf_indent(out);
  buf_printf(out, "const value = %s[key] ?? ", local);
  entry_value_fallback(ctx, out, entry_field(f, 2));
  buf_put(out, ";\n");
}

/* One value, tag included, already checked. */
static void value_write(const ts_ctx_t *ctx, const field_t *f, const char *expr) {
  buf_t *out = ctx->out;
  const char *codec = field_is_message(f) ? ts_ref_message(ctx, f->message) : NULL;
  if (f->type == TYPE_GROUP) {
    /* Its fields between a start and an end tag. */
    buf_line(out, "w.tag(%" PRIu32 ");", ts_tag(f, WIRE_START_GROUP));
    buf_line(out, "%s.$encode(%s, w);", codec, expr);
    buf_line(out, "w.tag(%" PRIu32 ");", ts_tag(f, WIRE_END_GROUP));
    return;
  }
  buf_line(out, "w.tag(%" PRIu32 ");", value_tag(f));
  if (codec != NULL) {
    /* Its length goes into the byte fork() kept, once its content is written. */
    buf_line(out, "const at = w.fork();");
    buf_line(out, "%s.$encode(%s, w);", codec, expr);
    buf_line(out, "w.join(at);");
  } else if (f->type == TYPE_STRING || f->type == TYPE_BYTES) {
    buf_line(out, "w.%sField(%s);", scalars[f->type].method, expr);
  } else {
    buf_line(out, "w.%s(%s);", scalars[f->type].method, expr);
  }
}

void ts_value_write(const ts_ctx_t *ctx, const field_t *f, const char *expr) {
  emit_check(ctx, f, expr);
  value_write(ctx, f, expr);
}

/* A map field: one embedded entry message per key. */
static void write_map(const ts_ctx_t *ctx, const field_t *f, const char *local) {
  buf_t *out = ctx->out;
  const field_t *key = entry_field(f, 1);
  buf_open(out, "if (%s !== undefined) {", local);
  buf_line(out, "const keys = Object.keys(%s);", local);
  open_keys(out, "keys");
  entry_value(ctx, f, local);
  const char *k = wire_key(ctx, key);
  if (key_needs_check(key)) emit_check(ctx, key, k);
  buf_line(out, "w.tag(%" PRIu32 ");", ts_tag(f, WIRE_LEN));
  buf_line(out, "const entry = w.fork();");
  /* The key was checked above where it can be wrong. */
  value_write(ctx, key, k);
  ts_value_write(ctx, entry_field(f, 2), "value");
  buf_line(out, "w.join(entry);");
  buf_close(out, "}");
  buf_close(out, "}");
}

/* The Writer method that checks and writes a whole packed run of 32-bit
 * varints (int32Run, uint32Run, sint32Run), or NULL. */
static const char *varint_run(const field_t *f) {
  switch (f->type) {
    case TYPE_INT32:
    case TYPE_ENUM:
      return "int32Run";
    case TYPE_UINT32:
      return "uint32Run";
    case TYPE_SINT32:
      return "sint32Run";
    default:
      return NULL;
  }
}

/* A packed run. */
static void write_packed(const ts_ctx_t *ctx, const field_t *f, const char *local) {
  buf_t *out = ctx->out;
  const scalar_t *s = &scalars[f->type];
  const char *run = varint_run(f);
  buf_open(out, "if (%s !== undefined && %s.length !== 0) {", local, local);
  buf_line(out, "w.tag(%" PRIu32 ");", ts_tag(f, WIRE_LEN));
  if (run != NULL) {
    /* The runtime checks each value and makes room itself. */
    buf_line(out, "const at = w.fork();");
    buf_line(out, "w.%s(%s, \"%s\", \"%s\");", run, local, f->path, check_kind(ctx, f));
    buf_line(out, "w.join(at);");
    buf_close(out, "}");
    return;
  }
  /* A run of fixed-width values has a length known up front: written
   * first, with no fork to join (join() moves a run of 128 bytes or more). */
  bool fixed = s->fixed_size > 0;
  if (fixed) {
    const char *bytes = s->fixed_size == 1
        ? names_join(&ctx->schema->arena, local, "", ".length")
        : names_join(&ctx->schema->arena, local, "", s->fixed_size == 4 ? ".length * 4" : ".length * 8");
    buf_line(out, "w.uint32(%s);", bytes);
    buf_line(out, "w.ensure(%s);", bytes);
  } else {
    buf_line(out, "const at = w.fork();");
    buf_line(out, "w.ensure(%s.length * %d);", local, s->max_size);
  }
  if (f->type == TYPE_DOUBLE || f->type == TYPE_FLOAT) {
    /* Checked as they are written (a separate check loop costs more). */
    buf_line(out, "w.%sRun(%s, \"%s\");", s->method, local, f->path);
  } else {
    open_each(out, local);
    emit_check(ctx, f, "v");
    buf_line(out, "w.%s(v);", s->method);
    buf_close(out, "}");
  }
  if (!fixed) buf_line(out, "w.join(at);");
  buf_close(out, "}");
}

void ts_field_write(const ts_ctx_t *ctx, const field_t *f) {
  buf_t *out = ctx->out;
  const char *local = ts_local(ctx, f->json_name);
  buf_line(out, "const %s = %s;", local, ts_get(ctx, "m", f->json_name));
  emit_container_check(ctx, f, local);
  if (f->map) {
    write_map(ctx, f, local);
  } else if (f->repeated && f->packed) {
    write_packed(ctx, f, local);
  } else if (batched_strings(f)) {
    buf_line(out, "if (%s !== undefined) w.stringFields(%" PRIu32 ", %s, \"%s\");", local,
             value_tag(f), local, f->path);
  } else if (f->repeated) {
    buf_open(out, "if (%s !== undefined) {", local);
    open_each(out, local);
    ts_value_write(ctx, f, "v");
    buf_close(out, "}");
    buf_close(out, "}");
  } else if (f->explicit_presence || field_is_message(f)) {
    buf_open(out, "if (%s !== undefined) {", local);
    ts_value_write(ctx, f, local);
    close_presence(ctx, f);
  } else {
    buf_indent(out);
    buf_printf(out, "if (");
    nonzero_condition(out, f, local);
    buf_put(out, ") {\n");
    out->indent++;
    ts_value_write(ctx, f, local);
    buf_close(out, "}");
  }
}

/* ---- read ----------------------------------------------------------------- */

void ts_value_read(const ts_ctx_t *ctx, buf_t *out, const field_t *f, const char *merge) {
  if (f->type == TYPE_GROUP) {
    /* The group's content ends where its end tag starts; endGroup steps past it. */
    buf_printf(out, "r.endGroup(%s.$read(r, r.group(%" PRId32 ", depth), depth + 1, %s))",
               ts_ref_message(ctx, f->message), f->number, merge);
  } else if (field_is_message(f)) {
    buf_printf(out, "%s.$read(r, r.nested(depth), depth + 1, %s)", ts_ref_message(ctx, f->message),
               merge);
  } else {
    buf_printf(out, "r.%s()", scalars[f->type].method);
  }
}

static void expect_tag(buf_t *out, uint32_t tag) {
  buf_line(out, "if (tag !== %" PRIu32 ") throw r.wireTypeError(tag);", tag);
}

/* Reads a map key as the property key it becomes in the object: integer
 * keys stay numbers where exact (the object turns them into the same
 * strings, and a number is a much cheaper key to store); string keys come
 * through the reader's cache of keys V8 has already internalized. */
static void read_key(buf_t *out, const field_t *key) {
  switch (key->type) {
    case TYPE_STRING:
      buf_put(out, "r.stringKey()");
      break;
    case TYPE_BOOL:
      buf_put(out, "r.bool() ? \"true\" : \"false\"");
      break;
    case TYPE_INT64:
    case TYPE_UINT64:
    case TYPE_FIXED64:
    case TYPE_SFIXED64:
    case TYPE_SINT64:
      buf_printf(out, "r.%sKey()", scalars[key->type].method);
      break;
    default:
      buf_printf(out, "r.%s()", scalars[key->type].method);
      break;
  }
}

static const char *key_declaration(const field_t *key) {
  switch (key->type) {
    case TYPE_STRING:
      return "let key = \"\";";
    case TYPE_BOOL:
      return "let key = \"false\";";
    case TYPE_INT64:
    case TYPE_UINT64:
    case TYPE_FIXED64:
    case TYPE_SFIXED64:
    case TYPE_SINT64:
      return "let key: number | string = 0;";
    default:
      return "let key = 0;";
  }
}

/* The bit of map field `f` in the `bare` mask $read keeps (see
 * ts_indexed_maps()), or -1: maps with integer keys, up to 31 of them per
 * message, the only ones whose keys become elements. */
static int indexed_map_bit(const message_t *owner, const field_t *f) {
  int bit = 0;
  for (size_t i = 0; i < owner->field_count; i++) {
    const field_t *g = &owner->fields[i];
    if (!g->map) continue;
    int type = entry_field(g, 1)->type;
    if (type == TYPE_STRING || type == TYPE_BOOL) continue;
    if (g == f) return bit < 31 ? bit : -1;
    bit++;
  }
  return -1;
}

bool ts_indexed_maps(const message_t *m) {
  for (size_t i = 0; i < m->field_count; i++) {
    if (indexed_map_bit(m, &m->fields[i]) >= 0) return true;
  }
  return false;
}

static void read_map_entry(const ts_ctx_t *ctx, const message_t *owner, const field_t *f) {
  buf_t *out = ctx->out;
  const field_t *key = entry_field(f, 1);
  const field_t *value = entry_field(f, 2);
  bool message_value = field_is_message(value);
  expect_tag(out, ts_tag(f, WIRE_LEN));
  buf_line(out, "const e = r.nested(depth);");
  buf_line(out, "%s", key_declaration(key));
  buf_indent(out);
    buf_printf(out, "let value");
  if (message_value) {
    buf_printf(out, ": %s | undefined;\n", ts_ref_message(ctx, value->message));
  } else {
    buf_put(out, " = ");
    zero_value(ctx, out, value);
    buf_put(out, ";\n");
  }
  buf_open(out, "while (r.pos < e) {");
  buf_line(out, "const t = r.uint32();");
  buf_indent(out);
  buf_printf(out, "if (t === %" PRIu32 ") key = ", value_tag(key));
  read_key(out, key);
  buf_put(out, ";\n");
  buf_indent(out);
  buf_printf(out, "else if (t === %" PRIu32 ") value = ", value_tag(value));
  if (message_value) {
    buf_printf(out, "%s.$read(r, r.nested(depth + 1), depth + 2, value)",
               ts_ref_message(ctx, value->message));
  } else {
    ts_value_read(ctx, out, value, "undefined");
  }
  buf_put(out, ";\n");
  buf_line(out, "else r.skipEntryField(t, depth + 1);");
  buf_close(out, "}");
  buf_line(out, "r.atEnd(e);");
  /* An ordinary assignment, except for the one (string) key that would
   * replace the object's prototype. */
  const char *fallback = "";
  char with_default[256];
  if (message_value) {
    snprintf(with_default, sizeof(with_default), " ?? %s.create()",
             ts_ref_message(ctx, value->message));
    fallback = with_default;
  }
  if (key->type == TYPE_STRING) {
    buf_line(out, "if (key !== \"__proto__\") m.%s[key] = value%s;", f->json_name, fallback);
    buf_line(out, "else pb.setEntry(m.%s, key, value%s);", f->json_name, fallback);
  } else {
    /* The first entry of an integer-keyed map in a message this call
     * created replaces its empty object with one that has room for
     * elements: the first element stored into a {} costs a call into V8's
     * runtime to grow it (about 4x the rest of the entry). */
    int bit = indexed_map_bit(owner, f);
    if (bit >= 0) {
      buf_open(out, "if ((bare & 0x%x) !== 0) {", 1u << bit);
      buf_line(out, "bare ^= 0x%x;", 1u << bit);
      buf_line(out, "m.%s = pb.indexedMap();", f->json_name);
      buf_close(out, "}");
    }
    buf_line(out, "m.%s[key] = value%s;", f->json_name, fallback);
  }
}

void ts_field_read(const ts_ctx_t *ctx, const message_t *owner, const field_t *f) {
  buf_t *out = ctx->out;
  buf_open(out, "case %" PRId32 ": {", f->number);
  if (f->map) {
    read_map_entry(ctx, owner, f);
  } else if (f->repeated && field_type_is_packable(f->type)) {
    /* Packed or not, whatever this schema writes: both are valid. */
    buf_open(out, "if (tag === %" PRIu32 ") {", ts_tag(f, WIRE_LEN));
    if (f->type == TYPE_DOUBLE || f->type == TYPE_FLOAT || f->type == TYPE_INT32 ||
        f->type == TYPE_ENUM || f->type == TYPE_UINT32 || f->type == TYPE_SINT32) {
      /* The runtime has a tight loop for runs of these. */
      buf_line(out, "r.%ss(r.lenEnd(), m.%s);", scalars[f->type].method, f->json_name);
    } else {
      buf_line(out, "const e = r.lenEnd();");
      buf_line(out, "while (r.pos < e) m.%s.push(r.%s());", f->json_name,
               scalars[f->type].method);
      buf_line(out, "r.atEnd(e);");
    }
    buf_close(out, "} else if (tag === %" PRIu32 ") {", value_tag(f));
    out->indent++;
    buf_line(out, "m.%s.push(r.%s());", f->json_name, scalars[f->type].method);
    buf_close(out, "} else {");
    out->indent++;
    buf_line(out, "throw r.wireTypeError(tag);");
    buf_close(out, "}");
  } else if (batched_strings(f)) {
    expect_tag(out, value_tag(f));
    buf_line(out, "r.strings(tag, end, m.%s);", f->json_name);
  } else if (f->repeated) {
    expect_tag(out, value_tag(f));
    buf_indent(out);
    buf_printf(out, "m.%s.push(", f->json_name);
    ts_value_read(ctx, out, f, "undefined");
    buf_put(out, ");\n");
  } else if (f->oneof >= 0) {
    const oneof_t *o = &owner->oneofs[f->oneof];
    expect_tag(out, value_tag(f));
    buf_indent(out);
    buf_printf(out, "m.%s = { case: \"%s\", value: ", o->json_name,
               f->json_name);
    char merge[512];
    snprintf(merge, sizeof(merge), "m.%s.case === \"%s\" ? m.%s.value : undefined", o->json_name,
             f->json_name, o->json_name);
    ts_value_read(ctx, out, f, merge);
    buf_put(out, " };\n");
  } else {
    expect_tag(out, value_tag(f));
    buf_indent(out);
    buf_printf(out, "m.%s = ", f->json_name);
    char merge[256];
    snprintf(merge, sizeof(merge), "m.%s", f->json_name);
    ts_value_read(ctx, out, f, merge);
    buf_put(out, ";\n");
  }
  buf_line(out, "break;");
  buf_close(out, "}");
}
