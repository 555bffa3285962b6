/* Error descriptions of the cross-process transport: a code for programs,
 * a sentence (with the path, uid or reason) for people. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "xproc_internal.h"

int shmrpc__xproc_fail(char *why, int code, const char *fmt, ...) {
  if (why != NULL) {
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, SHMRPC_XPROC_ERROR_BYTES, fmt, args);
    va_end(args);
  }
  return code;
}

int shmrpc__xproc_sys_fail(char *why, const char *fmt, ...) {
  int err = errno;
  if (why != NULL) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(why, SHMRPC_XPROC_ERROR_BYTES, fmt, args);
    va_end(args);
    if (n >= 0 && n < SHMRPC_XPROC_ERROR_BYTES)
      snprintf(why + n, SHMRPC_XPROC_ERROR_BYTES - (size_t)n, ": %s",
               strerror(err));
  }
  errno = err;
  return SHMRPC_ESYSTEM;
}
