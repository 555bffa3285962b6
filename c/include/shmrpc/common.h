/* Shared definitions: export macro, error codes, version. */
#ifndef SHMRPC_COMMON_H
#define SHMRPC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* SHMRPC_EXTERN marks a symbol a shared object exports whatever the
 * build's default visibility: the library's API, and a service library's
 * shmrpc_serve entry point (host.h). */
#if defined(__GNUC__)
#define SHMRPC_EXTERN __attribute__((visibility("default")))
#define SHMRPC_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SHMRPC_EXTERN
#define SHMRPC_MUST_CHECK
#endif

#define SHMRPC_VERSION_MAJOR 0
#define SHMRPC_VERSION_MINOR 1
#define SHMRPC_VERSION_PATCH 0

/* Error codes. Functions return 0 (or a non-negative count) on success and
 * one of these negative values on failure. docs/PROTOCOL.md section 6 lists
 * the same names for TypeScript. */
#define SHMRPC_ERRNO_MAP(XX)                                                   \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(EAGAIN, -2, "operation would block")                                      \
  XX(ETIMEDOUT, -3, "timed out")                                               \
  XX(ECLOSED, -4, "channel closed")                                            \
  XX(EPROTO, -5, "protocol violation by peer")                                 \
  XX(EMSGSIZE, -6, "message too large")                                        \
  XX(ENOMEM, -7, "out of memory")                                              \
  XX(EVERSION, -8, "incompatible segment version")                            \
  XX(EPEERDEAD, -9, "peer died")                                              \
  XX(ENOSERVER, -10, "no server listening under that name")                    \
  XX(EACCES, -11, "access denied")                                             \
  XX(EINUSE, -12, "a live server already listens under that name")            \
  XX(ESYSTEM, -13, "system call failed")

typedef enum {
#define XX(name, value, text) SHMRPC_##name = (value),
  SHMRPC_ERRNO_MAP(XX)
#undef XX
} shmrpc_errno_t;

/* Human-readable text for an error code ("unknown error" for others). */
SHMRPC_EXTERN const char *shmrpc_strerror(int err);
/* The code's name without prefix ("EPROTO"), as used by TypeScript;
 * "UNKNOWN" for others. */
SHMRPC_EXTERN const char *shmrpc_err_name(int err);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_COMMON_H */
