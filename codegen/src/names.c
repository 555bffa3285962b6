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

/* Words a generated TypeScript name (a declaration or a local) must not
 * be: JavaScript's reserved words, TypeScript's type keywords, and the
 * globals that generated code and its types use. */
static const char *const reserved[] = {
    "arguments", "await",   "break",      "case",      "catch",     "class",    "const",
    "continue",  "debugger", "default",   "delete",    "do",        "else",     "enum",
    "eval",      "export",  "extends",    "false",     "finally",   "for",      "function",
    "if",        "implements", "import",  "in",        "instanceof", "interface", "let",
    "new",       "null",    "package",    "private",   "protected", "public",   "return",
    "static",    "super",   "switch",     "this",      "throw",     "true",     "try",
    "typeof",    "undefined", "var",      "void",      "while",     "with",     "yield",
    "any",       "bigint",  "boolean",    "never",     "number",    "object",   "string",
    "symbol",    "unknown", "NaN",        "Infinity",  "globalThis", "pb",
    "Object",    "Array",   "Uint8Array", "BigInt",    "Number",    "String",   "Boolean",
    "Symbol",    "Error",   "TypeError",  "RangeError", "Map",      "Set",      "Promise",
    "Math",      "JSON",    "AsyncIterable", "AsyncIterator", "Iterable", "Iterator",
};

bool names_ts_reserved(const char *name) {
  for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    if (strcmp(reserved[i], name) == 0) return true;
  }
  return false;
}

/* Properties every object inherits from Object.prototype: a field named
 * like one is read as an own property, so an init object that leaves it
 * out does not hand over the inherited function. */
static const char *const inherited[] = {
    "constructor", "toString", "toLocaleString", "valueOf", "hasOwnProperty",
    "isPrototypeOf", "propertyIsEnumerable", "__proto__", "__defineGetter__",
    "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
};

bool names_ts_inherited(const char *name) {
  for (size_t i = 0; i < sizeof(inherited) / sizeof(inherited[0]); i++) {
    if (strcmp(inherited[i], name) == 0) return true;
  }
  return false;
}

/* C11 keywords and the names of the standard headers' macros that a struct
 * member cannot have (nanopb copies field names into C as they are). */
static const char *const c_reserved[] = {
    "auto",     "break",    "case",     "char",     "const",    "continue", "default",
    "do",       "double",   "else",     "enum",     "extern",   "float",    "for",
    "goto",     "if",       "inline",   "int",      "long",     "register", "restrict",
    "return",   "short",    "signed",   "sizeof",   "static",   "struct",   "switch",
    "typedef",  "union",    "unsigned", "void",     "volatile", "while",    "_Alignas",
    "_Alignof", "_Atomic",  "_Bool",    "_Complex", "_Generic", "_Imaginary", "_Noreturn",
    "_Static_assert", "_Thread_local", "bool",  "true",     "false",    "NULL",
    "typeof",   "asm",      "errno",    "assert",
};

bool names_c_reserved(const char *name) {
  for (size_t i = 0; i < sizeof(c_reserved) / sizeof(c_reserved[0]); i++) {
    if (strcmp(c_reserved[i], name) == 0) return true;
  }
  return false;
}

char *names_strip_proto(arena_t *arena, const char *file_name) {
  char *out = arena_strdup(arena, file_name);
  size_t n = strlen(out);
  if (n > 6 && strcmp(out + n - 6, ".proto") == 0) out[n - 6] = '\0';
  return out;
}
