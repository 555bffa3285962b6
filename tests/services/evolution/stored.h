/* What both versions of the evolution test service reply with: a line
 * saying what the server decoded (evolution_Stored is the same message in
 * v1/catalog.proto and v2/catalog.proto). */
#ifndef EVOLUTION_STORED_H
#define EVOLUTION_STORED_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.shmrpc.h"

__attribute__((format(printf, 2, 3))) static inline int
stored_printf(evolution_Stored *res, const char *format, ...) {
  char text[256];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof text, format, args);
  va_end(args);
  res->seen = strdup(text);
  return res->seen != NULL ? SHMRPC_STATUS_OK : SHMRPC_STATUS_RESOURCE_EXHAUSTED;
}

#endif
