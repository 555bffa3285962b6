/* RPC status codes: gRPC's numbers and names (docs/PROTOCOL.md section 7).
 * Part of the channel library, like the envelope (shmrpc/envelope.h): no
 * codec needed. */
#ifndef SHMRPC_STATUS_H
#define SHMRPC_STATUS_H

#include "shmrpc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC status codes, same numbers and names. */
#define SHMRPC_STATUS_MAP(XX)                                                  \
  XX(OK, 0)                                                                    \
  XX(CANCELLED, 1)                                                             \
  XX(UNKNOWN, 2)                                                               \
  XX(INVALID_ARGUMENT, 3)                                                      \
  XX(DEADLINE_EXCEEDED, 4)                                                     \
  XX(NOT_FOUND, 5)                                                             \
  XX(ALREADY_EXISTS, 6)                                                        \
  XX(PERMISSION_DENIED, 7)                                                     \
  XX(RESOURCE_EXHAUSTED, 8)                                                    \
  XX(FAILED_PRECONDITION, 9)                                                   \
  XX(ABORTED, 10)                                                              \
  XX(OUT_OF_RANGE, 11)                                                         \
  XX(UNIMPLEMENTED, 12)                                                        \
  XX(INTERNAL, 13)                                                             \
  XX(UNAVAILABLE, 14)                                                          \
  XX(DATA_LOSS, 15)                                                            \
  XX(UNAUTHENTICATED, 16)

typedef enum {
#define XX(name, value) SHMRPC_STATUS_##name = (value),
  SHMRPC_STATUS_MAP(XX)
#undef XX
} shmrpc_status_t;

/* "OK", "CANCELLED", ... ; "UNKNOWN" for numbers outside the map. */
SHMRPC_EXTERN const char *shmrpc_status_name(int status);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_STATUS_H */
