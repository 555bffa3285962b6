/* A proto3 enum as a TypeScript numeric enum. Enums are open: a decoded
 * field may hold a number this schema does not name. */
#include <inttypes.h>

#include "comments.h"
#include "ts.h"

void ts_enum_emit(const ts_ctx_t *ctx, const enum_t *e) {
  buf_t *out = ctx->out;
  comments_emit(out, e->comment);
  buf_open(out, "export enum %s {", e->ts_name);
  for (size_t i = 0; i < e->value_count; i++) {
    comments_emit(out, e->values[i].comment);
    buf_line(out, "%s = %" PRId32 ",", e->values[i].name, e->values[i].number);
  }
  buf_close(out, "}");
}
