/* Identifier spelling shared by the emitters. */
#ifndef CODEGEN_NAMES_H
#define CODEGEN_NAMES_H

#include <stdbool.h>

#include "arena.h"

/* protoc's json_name rule: drop each '_' and upper-case the letter after it
 * ("price_cents" -> "priceCents"). */
char *names_lower_camel(arena_t *arena, const char *name);
/* "a.b.C" -> "a_b_C", nanopb's struct naming. */
char *names_dots_to_underscores(arena_t *arena, const char *name);
/* "prefix" + "sep" + "name"; just "name" when prefix is empty or NULL. */
char *names_join(arena_t *arena, const char *prefix, const char *sep, const char *name);
/* ECMAScript reserved words and a few globals that a generated local
 * variable must not shadow. */
bool names_ts_reserved(const char *name);
/* A property of Object.prototype ("constructor", "toString", ...). */
bool names_ts_inherited(const char *name);
/* A C keyword or standard macro, which nanopb's structs cannot use. */
bool names_c_reserved(const char *name);
/* "a/b/c.proto" -> "a/b/c" */
char *names_strip_proto(arena_t *arena, const char *file_name);

#endif
