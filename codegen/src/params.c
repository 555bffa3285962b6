#include "params.h"

#include <stdio.h>
#include <string.h>

static bool fail(arena_t *arena, const char **error, const char *item, size_t n) {
  char text[512];
  snprintf(text, sizeof(text),
           "unknown protoc-gen-shmrpc parameter \"%.*s\" (expected ts, c, runtime=SPEC, plan)",
           (int)n, item);
  *error = arena_strdup(arena, text);
  return false;
}

bool params_parse(params_t *params, const char *parameter, arena_t *arena, const char **error) {
  params->ts = false;
  params->c = false;
  params->plan = false;
  params->runtime = PARAMS_DEFAULT_RUNTIME;
  const char *p = parameter != NULL ? parameter : "";
  while (*p != '\0') {
    const char *comma = strchr(p, ',');
    size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
    if (n == 2 && strncmp(p, "ts", 2) == 0) {
      params->ts = true;
    } else if (n == 1 && p[0] == 'c') {
      params->c = true;
    } else if (n == 4 && strncmp(p, "plan", 4) == 0) {
      params->plan = true;
    } else if (n > 8 && strncmp(p, "runtime=", 8) == 0) {
      char *spec = arena_alloc(arena, n - 8 + 1);
      memcpy(spec, p + 8, n - 8);
      params->runtime = spec;
    } else if (n > 0) {
      return fail(arena, error, p, n);
    }
    p += n;
    if (*p == ',') p++;
  }
  if (!params->ts && !params->c) {
    *error = "protoc-gen-shmrpc: say what to generate: --shmrpc_out=ts:DIR, --shmrpc_out=c:DIR "
             "or --shmrpc_out=ts,c:DIR";
    return false;
  }
  return true;
}
