#include "comments.h"

#include <stdbool.h>
#include <string.h>

#include "google/protobuf/descriptor.pb.h"

static bool same_path(const google_protobuf_SourceCodeInfo_Location *loc, const int32_t *path,
                      size_t path_len) {
  if (loc->path_count != path_len) return false;
  for (size_t i = 0; i < path_len; i++) {
    if (loc->path[i] != path[i]) return false;
  }
  return true;
}

static bool blank(const char *s) {
  for (; *s != '\0'; s++) {
    if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') return false;
  }
  return true;
}

const char *comments_find(const google_protobuf_SourceCodeInfo *info, const int32_t *path,
                          size_t path_len) {
  if (info == NULL) return NULL;
  for (pb_size_t i = 0; i < info->location_count; i++) {
    const google_protobuf_SourceCodeInfo_Location *loc = &info->location[i];
    if (!same_path(loc, path, path_len)) continue;
    if (loc->leading_comments != NULL && !blank(loc->leading_comments)) {
      return loc->leading_comments;
    }
    if (loc->trailing_comments != NULL && !blank(loc->trailing_comments)) {
      return loc->trailing_comments;
    }
    return NULL;
  }
  return NULL;
}

/* Appends one comment line, replacing any star-slash so the text cannot end
 * the block comment early. */
static void emit_line(buf_t *out, const char *text, size_t n) {
  for (int i = 0; i < out->indent; i++) buf_put(out, out->indent_unit);
  buf_put(out, n == 0 ? " *" : " * ");
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '*' && i + 1 < n && text[i + 1] == '/') {
      buf_put(out, "*\\");
    } else {
      buf_putn(out, &text[i], 1);
    }
  }
  buf_put(out, "\n");
}

/* Writes the lines of `text` (trailing blank lines dropped). */
static void emit_lines(buf_t *out, const char *text) {
  size_t end = strlen(text);
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) end--;
  const char *p = text;
  const char *stop = text + end;
  while (p < stop) {
    const char *nl = memchr(p, '\n', (size_t)(stop - p));
    const char *line_end = nl != NULL ? nl : stop;
    const char *line = p;
    if (line < line_end && *line == ' ') line++;
    size_t n = (size_t)(line_end - line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\r')) n--;
    emit_line(out, line, n);
    p = nl != NULL ? nl + 1 : stop;
  }
}

void comments_emit_note(buf_t *out, const char *comment, const char *note) {
  if (comment == NULL && note == NULL) return;
  buf_line(out, "/**");
  if (comment != NULL) emit_lines(out, comment);
  if (comment != NULL && note != NULL) emit_line(out, "", 0);
  if (note != NULL) emit_lines(out, note);
  buf_line(out, " */");
}

void comments_emit(buf_t *out, const char *comment) { comments_emit_note(out, comment, NULL); }
