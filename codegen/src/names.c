#include "names.h"

#include <ctype.h>
#include <string.h>

char *names_lower_camel(arena_t *arena, const char *name) {
  char *out = arena_alloc(arena, strlen(name) + 1);
  size_t n = 0;
  bool upper_next = false;
  for (const char *p = name; *p != '\0'; p++) {
    if (*p == '_') {
      upper_next = true;
    } else if (upper_next) {
      out[n++] = (char)toupper((unsigned char)*p);
      upper_next = false;
    } else {
      out[n++] = *p;
    }
  }
  out[n] = '\0';
  return out;
}

char *names_dots_to_underscores(arena_t *arena, const char *name) {
  char *out = arena_strdup(arena, name);
  for (char *p = out; *p != '\0'; p++) {
    if (*p == '.') *p = '_';
  }
  return out;
}

char *names_join(arena_t *arena, const char *prefix, const char *sep, const char *name) {
  if (prefix == NULL || prefix[0] == '\0') return arena_strdup(arena, name);
  size_t a = strlen(prefix), b = strlen(sep), c = strlen(name);
  char *out = arena_alloc(arena, a + b + c + 1);
  memcpy(out, prefix, a);
  memcpy(out + a, sep, b);
  memcpy(out + a + b, name, c + 1);
  return out;
}

static const char *const reserved[] = {
    "arguments", "await",   "break",      "case",      "catch",     "class",    "const",
    "continue",  "debugger", "default",   "delete",    "do",        "else",     "enum",
    "eval",      "export",  "extends",    "false",     "finally",   "for",      "function",
    "if",        "implements", "import",  "in",        "instanceof", "interface", "let",
    "new",       "null",    "package",    "private",   "protected", "public",   "return",
    "static",    "super",   "switch",     "this",      "throw",     "true",     "try",
    "typeof",    "undefined", "var",      "void",      "while",     "with",     "yield",
    "Object",    "Array",   "Uint8Array", "BigInt",    "Number",    "String",   "Error",
};

bool names_ts_reserved(const char *name) {
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    if (strcmp(reserved[i], name) == 0) return true;
  }
  return false;
}

char *names_strip_proto(arena_t *arena, const char *file_name) {
  char *out = arena_strdup(arena, file_name);
  size_t n = strlen(out);
  if (n > 6 && strcmp(out + n - 6, ".proto") == 0) out[n - 6] = '\0';
  return out;
}
