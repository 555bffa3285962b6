/* Internals shared by the TypeScript emitters (ts_*.c). */
#ifndef CODEGEN_TS_H
#define CODEGEN_TS_H

#include <stddef.h>

#include "buf.h"
#include "params.h"
#include "schema.h"

/* A type from another file, imported under `local`. */
typedef struct {
  const void *type; /* message_t or enum_t */
  const char *name; /* its exported name */
  const char *local;
  const file_t *file;
} ts_import_t;

typedef struct {
  schema_t *schema;
  const params_t *params;
  const file_t *file;
  buf_t *out;
  size_t import_count;
  ts_import_t *imports;
  size_t local_count;
  const char **locals; /* top-level names declared or imported by the file */
} ts_ctx_t;

/* ---- ts_file.c ---- */

/* Final TypeScript names of every type and service of every file (the
 * mangling rule is described in ts_file.c and codegen/README.md). Run
 * once before emitting. */
void ts_assign_names(schema_t *schema);
/* `object.property`, or where the property is one every object inherits
 * ("constructor", ...), an expression that reads it only as an own one. */
const char *ts_get(const ts_ctx_t *ctx, const char *object, const char *property);

/* The name under which code in this file refers to a message or enum. */
const char *ts_ref_message(const ts_ctx_t *ctx, const message_t *m);
const char *ts_ref_enum(const ts_ctx_t *ctx, const enum_t *e);
/* `name`, or `name_` when it would clash with a keyword, a top-level name
 * of the file or a local of the generated code. */
const char *ts_local(const ts_ctx_t *ctx, const char *name);

/* ---- ts_field.c: one field's code in each generated method ---- */

/* The TypeScript type of one value of `f` (the element type if repeated,
 * ignoring map-ness). */
void ts_value_type(const ts_ctx_t *ctx, buf_t *out, const field_t *f);
/* The full property type: T, T[], { [key: string]: V }. */
void ts_field_type(const ts_ctx_t *ctx, buf_t *out, const field_t *f);
/* The default value literal of the property (create()). */
void ts_field_default(const ts_ctx_t *ctx, buf_t *out, const field_t *f);

/* Statements for create(init): copies init.<field> into m. */
void ts_field_create(const ts_ctx_t *ctx, const field_t *f);
/* Statements for $encode(m, w): checks the field's value and writes it. */
void ts_field_write(const ts_ctx_t *ctx, const field_t *f);
/* A `case N:` block of $read(r, end, depth, into). */
void ts_field_read(const ts_ctx_t *ctx, const message_t *owner, const field_t *f);
/* Whether $read of `m` keeps a `bare` mask: one bit per integer-keyed map
 * still holding the empty object create() gave it (ts_field_read). */
bool ts_indexed_maps(const message_t *m);

/* Value-level pieces also used for oneof members: `expr` holds the value,
 * whose type is checked first (ts_field.c, "checks"). */
void ts_value_write(const ts_ctx_t *ctx, const field_t *f, const char *expr);
/* An expression reading one value; `merge` is the expression of a message
 * to merge into ("undefined" for none). */
void ts_value_read(const ts_ctx_t *ctx, buf_t *out, const field_t *f, const char *merge);

/* Tag value and wire type. */
uint32_t ts_tag(const field_t *f, int wire_type);
int ts_wire_type(const field_t *f);

/* ---- ts_descriptor.c: the embedded file descriptor ---- */

/* "file_shop_order" for shop/order.proto: the constant holding its descriptor. */
const char *ts_descriptor_name(const ts_ctx_t *ctx, const file_t *file);
/* The constant; false (schema_fail) when a descriptor does not encode. */
bool ts_descriptor_emit(const ts_ctx_t *ctx);

/* ---- emitters ---- */
void ts_enum_emit(const ts_ctx_t *ctx, const enum_t *e);
void ts_message_emit(const ts_ctx_t *ctx, const message_t *m);
void ts_service_emit(const ts_ctx_t *ctx, const service_t *s);

#endif
