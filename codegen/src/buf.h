/* A growable text buffer with line-oriented, indented output: what every
 * emitter writes generated code into. */
#ifndef CODEGEN_BUF_H
#define CODEGEN_BUF_H

#include <stddef.h>

typedef struct {
  char *data; /* NUL-terminated, NULL until the first write */
  size_t len;
  size_t cap;
  int indent;              /* current depth, in units of `indent_unit` */
  const char *indent_unit; /* "  " for TypeScript, "    " for C */
} buf_t;

void buf_init(buf_t *b, const char *indent_unit);
void buf_free(buf_t *b);
/* Takes the text out of the buffer (caller frees); the buffer is reset. */
char *buf_take(buf_t *b);

void buf_put(buf_t *b, const char *s);
void buf_putn(buf_t *b, const char *s, size_t n);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One line at the current indentation; an empty format writes a bare "\n". */
void buf_line(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An empty line. */
void buf_blank(buf_t *b);
/* Starts a line built piece by piece: writes the indentation only. */
void buf_indent(buf_t *b);
/* buf_line, then one level deeper / one level shallower, then buf_line. */
void buf_open(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_close(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
