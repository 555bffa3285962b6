/* Error code names and messages, generated from SHMRPC_ERRNO_MAP. */
#include "shmrpc/common.h"

const char *shmrpc_strerror(int err) {
  switch (err) {
#define XX(name, value, text)                                                  \
  case SHMRPC_##name:                                                          \
    return text;
    SHMRPC_ERRNO_MAP(XX)
#undef XX
  default:
    return "unknown error";
  }
}

const char *shmrpc_err_name(int err) {
  switch (err) {
#define XX(name, value, text)                                                  \
  case SHMRPC_##name:                                                          \
    return #name;
    SHMRPC_ERRNO_MAP(XX)
#undef XX
  default:
    return "UNKNOWN";
  }
}
