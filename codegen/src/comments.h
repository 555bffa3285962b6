/* Comments from a file's SourceCodeInfo, found by descriptor path. */
#ifndef CODEGEN_COMMENTS_H
#define CODEGEN_COMMENTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct _google_protobuf_SourceCodeInfo google_protobuf_SourceCodeInfo;

/* The leading comment of the element at `path` (e.g. {4, 0, 2, 1}: message
 * 0, field 1), else its trailing comment, else NULL. Points into `info`. */
const char *comments_find(const google_protobuf_SourceCodeInfo *info, const int32_t *path,
                          size_t path_len);

/* Writes `comment` as a block comment at the current indentation:
 * "/" "** ... *" "/" for TypeScript (JSDoc) and C alike. Lines keep their
 * text minus one leading space; a "*" "/" inside is defused. No-op for NULL. */
void comments_emit(buf_t *out, const char *comment);
/* The same with `note`, a text of our own, as a last paragraph (or alone
 * when there is no comment). */
void comments_emit_note(buf_t *out, const char *comment, const char *note);

#endif
