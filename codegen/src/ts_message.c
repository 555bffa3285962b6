/* A message in TypeScript: its interface and its codec object (create,
 * encodedSize, encodeInto, encode, decode, and the two passes generated code
 * calls across messages: $encode and $read). */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>

#include "arena.h"
#include "comments.h"
#include "ts.h"

static bool in_oneof(const field_t *f) { return f->oneof >= 0; }

/* ---- interface ------------------------------------------------------------ */

static void emit_oneof_type(const ts_ctx_t *ctx, const oneof_t *o) {
  buf_t *out = ctx->out;
  comments_emit(out, o->comment);
  buf_line(out, "%s:", o->json_name);
  out->indent++;
  for (size_t i = 0; i < o->field_count; i++) {
    const field_t *f = o->fields[i];
    comments_emit(out, f->comment);
    buf_indent(out);
    buf_printf(out, "| { case: \"%s\"; value: ", f->json_name);
    ts_value_type(ctx, out, f);
    buf_put(out, " }\n");
  }
  buf_line(out, "| { case: undefined; value?: undefined };");
  out->indent--;
}

static void emit_interface(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  comments_emit(out, m->comment);
  buf_open(out, "export interface %s {", m->ts_name);
  size_t next_oneof = 0;
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (in_oneof(f)) {
      /* A oneof is one property, placed where its first member is. */
      if ((size_t)f->oneof == next_oneof) emit_oneof_type(ctx, &m->oneofs[next_oneof++]);
      continue;
    }
    if (f->default_value != NULL) {
      /* proto2 [default = ...]: documented; an unset field reads undefined. */
      char note[512];
      snprintf(note, sizeof(note), "Default when unset: %s.", f->default_value);
      comments_emit_note(out, f->comment, note);
    } else {
      comments_emit(out, f->comment);
    }
    bool optional = !f->repeated && (f->explicit_presence || field_is_message(f));
    buf_indent(out);
    buf_printf(out, "%s%s: ", f->json_name, optional ? "?" : "");
    ts_field_type(ctx, out, f);
    /* create() sets absent fields to undefined: exactOptionalPropertyTypes
     * needs that said. */
    buf_put(out, optional ? " | undefined;\n" : ";\n");
  }
  buf_line(out, "/** Fields this schema does not know, as encoded; written back by encode. */");
  buf_line(out, "$unknown?: Uint8Array | undefined;");
  buf_close(out, "}");
}

/* ---- create ----------------------------------------------------------------- */

static void emit_create_oneof(const ts_ctx_t *ctx, const oneof_t *o) {
  buf_t *out = ctx->out;
  const char *local = ts_local(ctx, o->json_name);
  buf_line(out, "const %s = %s;", local, ts_get(ctx, "init", o->json_name));
  buf_open(out, "switch (%s?.case) {", local);
  for (size_t i = 0; i < o->field_count; i++) {
    const field_t *f = o->fields[i];
    buf_open(out, "case \"%s\":", f->json_name);
    buf_indent(out);
    buf_printf(out, "m.%s = { case: \"%s\", value: ", o->json_name, f->json_name);
    if (field_is_message(f)) {
      buf_printf(out, "%s.create(%s.value)", ts_ref_message(ctx, f->message), local);
    } else {
      buf_printf(out, "%s.value ?? ", local);
      ts_field_default(ctx, out, f);
    }
    buf_put(out, " };\n");
    buf_line(out, "break;");
    out->indent--;
  }
  buf_close(out, "}");
}

static void emit_create(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  buf_open(out, "create(init?: pb.MessageInit<%s>): %s {", m->ts_name, m->ts_name);
  buf_open(out, "const m: %s = {", m->ts_name);
  size_t next_oneof = 0;
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (in_oneof(f)) {
      if ((size_t)f->oneof == next_oneof) {
        buf_line(out, "%s: { case: undefined },", m->oneofs[next_oneof++].json_name);
      }
      continue;
    }
    buf_indent(out);
    buf_printf(out, "%s: ", f->json_name);
    ts_field_default(ctx, out, f);
    buf_put(out, ",\n");
  }
  buf_line(out, "$unknown: undefined,");
  buf_close(out, "};");
  buf_line(out, "if (init === undefined) return m;");
  next_oneof = 0;
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (!in_oneof(f)) {
      ts_field_create(ctx, f);
    } else if ((size_t)f->oneof == next_oneof) {
      emit_create_oneof(ctx, &m->oneofs[next_oneof++]);
    }
  }
  buf_line(out, "if (init.$unknown !== undefined) m.$unknown = init.$unknown;");
  buf_line(out, "return m;");
  buf_close(out, "},");
}

/* ---- public encode/decode ---------------------------------------------------- */

/* The public methods hand the codec to the runtime (pb/encode.ts), which
 * runs $encode into the writer's area and then measures it, copies it out
 * or copies it into the caller's target. */
static void emit_public_codec(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  const char *t = m->ts_name;
  buf_blank(out);
  buf_open(out, "encodedSize(message: pb.MessageInit<%s>): number {", t);
  buf_line(out, "return pb.encodedSize(%s, message);", t);
  buf_close(out, "},");
  buf_blank(out);
  buf_open(out, "encodeInto(message: pb.MessageInit<%s>, target: Uint8Array, offset: number): number {",
           t);
  buf_line(out, "return pb.encodeInto(%s, message, target, offset);", t);
  buf_close(out, "},");
  buf_blank(out);
  buf_open(out, "encode(message: pb.MessageInit<%s>): Uint8Array {", t);
  buf_line(out, "return pb.encode(%s, message);", t);
  buf_close(out, "},");
  buf_blank(out);
  buf_open(out, "decode(bytes: Uint8Array, offset = 0): %s {", t);
  buf_line(out, "return %s.$read(pb.Reader.over(bytes, offset), bytes.length, 0, undefined);", t);
  buf_close(out, "},");
}

/* ---- $encode ------------------------------------------------------------------ */

/* The oneof's switch: the set member's value, written even when it holds
 * its type's default; a case the oneof does not have is an error. */
static void emit_oneof_encode(const ts_ctx_t *ctx, const message_t *m, const oneof_t *o) {
  buf_t *out = ctx->out;
  const char *local = ts_local(ctx, o->json_name);
  buf_line(out, "const %s = %s;", local, ts_get(ctx, "m", o->json_name));
  buf_open(out, "switch (%s?.case) {", local);
  for (size_t i = 0; i < o->field_count; i++) {
    const field_t *f = o->fields[i];
    /* Each case gets a block of its own: the value's code declares locals. */
    buf_open(out, "case \"%s\": {", f->json_name);
    char value[256];
    buf_t fallback;
    buf_init(&fallback, "");
    if (field_is_message(f)) {
      buf_put(&fallback, "{}");
    } else {
      ts_field_default(ctx, &fallback, f);
    }
    snprintf(value, sizeof(value), "%s.value ?? %s", local, fallback.data);
    buf_free(&fallback);
    ts_value_write(ctx, f, value);
    buf_line(out, "break;");
    buf_close(out, "}");
  }
  buf_open(out, "default:");
  buf_line(out, "if (%s !== undefined && %s.case !== undefined) "
           "throw pb.invalidValue(\"%s.%s\", \"oneof\", %s.case);",
           local, local, m->full_name, o->name, local);
  out->indent--;
  buf_close(out, "}");
}

static int by_number(const void *a, const void *b) {
  const field_t *x = *(const field_t *const *)a;
  const field_t *y = *(const field_t *const *)b;
  return (x->number > y->number) - (x->number < y->number);
}

/* The one encoder: checks each value and writes it into the writer's area.
 * Fields are written in field number order, as protobuf recommends and
 * other implementations do; a oneof goes where its lowest member would. */
static void emit_encode(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  buf_open(out, "$encode(m: pb.MessageInit<%s>, w: pb.Writer): void {", m->ts_name);
  const field_t **sorted = xrealloc(NULL, sizeof(*sorted) * (m->field_count + 1));
  bool *oneof_done = xrealloc(NULL, sizeof(*oneof_done) * (m->oneof_count + 1));
  for (size_t i = 0; i < m->field_count; i++) sorted[i] = &m->fields[i];
  for (size_t i = 0; i < m->oneof_count; i++) oneof_done[i] = false;
  qsort(sorted, m->field_count, sizeof(*sorted), by_number);
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = sorted[i];
    if (in_oneof(f)) {
      if (!oneof_done[f->oneof]) emit_oneof_encode(ctx, m, &m->oneofs[f->oneof]);
      oneof_done[f->oneof] = true;
    } else {
      ts_field_write(ctx, f);
    }
  }
  free(sorted);
  free(oneof_done);
  buf_line(out, "if (m.$unknown !== undefined) w.rawField(m.$unknown);");
  buf_close(out, "},");
}

/* ---- $read -------------------------------------------------------------------- */

static void emit_read(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  const char *t = m->ts_name;
  buf_open(out, "$read(r: pb.Reader, end: number, depth: number, into: %s | undefined): %s {", t, t);
  buf_line(out, "const m = into ?? %s.create();", t);
  if (ts_indexed_maps(m)) buf_line(out, "let bare = into === undefined ? -1 : 0;");
  buf_line(out, "let unknown: number[] | undefined;");
  buf_open(out, "while (r.pos < end) {");
  buf_line(out, "const start = r.pos;");
  buf_line(out, "const tag = r.uint32();");
  buf_open(out, "switch (tag >>> 3) {");
  for (size_t i = 0; i < m->field_count; i++) ts_field_read(ctx, m, &m->fields[i]);
  buf_open(out, "default:");
  buf_line(out, "unknown = r.unknown(tag, start, depth, unknown);");
  out->indent--;
  buf_close(out, "}");
  buf_close(out, "}");
  buf_line(out, "r.atEnd(end);");
  for (size_t i = 0; i < m->field_count; i++) {
    const field_t *f = &m->fields[i];
    if (f->required) {
      buf_line(out, "if (m.%s === undefined) throw r.missingField(\"%s\");", f->json_name,
               f->path);
    }
  }
  buf_line(out, "if (unknown !== undefined) m.$unknown = r.unknownBytes(unknown, m.$unknown);");
  buf_line(out, "return m;");
  buf_close(out, "},");
}

void ts_message_emit(const ts_ctx_t *ctx, const message_t *m) {
  buf_t *out = ctx->out;
  emit_interface(ctx, m);
  buf_blank(out);
  buf_open(out, "export const %s: pb.MessageCodec<%s> = {", m->ts_name, m->ts_name);
  buf_line(out, "typeName: \"%s\",", m->full_name);
  buf_blank(out);
  emit_create(ctx, m);
  emit_public_codec(ctx, m);
  buf_blank(out);
  emit_encode(ctx, m);
  buf_blank(out);
  emit_read(ctx, m);
  buf_close(out, "};");
}
