#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void buf_init(buf_t *b, const char *indent_unit) {
  memset(b, 0, sizeof(*b));
  b->indent_unit = indent_unit;
}

void buf_free(buf_t *b) {
  free(b->data);
  buf_init(b, b->indent_unit);
}

char *buf_take(buf_t *b) {
  char *text = b->data != NULL ? b->data : xrealloc(NULL, 1);
  if (b->data == NULL) text[0] = '\0';
  b->data = NULL;
  b->len = b->cap = 0;
  b->indent = 0;
  return text;
}

static void reserve(buf_t *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap == 0 ? 1024 : b->cap;
  while (cap < b->len + extra + 1) cap *= 2;
  b->data = xrealloc(b->data, cap);
  b->cap = cap;
}

void buf_putn(buf_t *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_put(buf_t *b, const char *s) { buf_putn(b, s, strlen(s)); }

static void vprint(buf_t *b, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return;
  reserve(b, (size_t)n);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void buf_printf(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint(b, fmt, ap);
  va_end(ap);
}

void buf_blank(buf_t *b) { buf_put(b, "\n"); }

void buf_indent(buf_t *b) {
  for (int i = 0; i < b->indent; i++) buf_put(b, b->indent_unit);
}

static void vline(buf_t *b, const char *fmt, va_list ap) {
  if (fmt[0] != '\0') {
    buf_indent(b);
    vprint(b, fmt, ap);
  }
  buf_put(b, "\n");
}

void buf_line(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(b, fmt, ap);
  va_end(ap);
}

void buf_open(buf_t *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vline(b, fmt, ap);
  va_end(ap);
  b->indent++;
}

void buf_close(buf_t *b, const char *fmt, ...) {
  b->indent--;
  va_list ap;
  va_start(ap, fmt);
  vline(b, fmt, ap);
  va_end(ap);
}
