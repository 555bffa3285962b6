/* Status names, the same as gRPC's (c/include/shmrpc/status.h). */
#include "shmrpc/status.h"

const char *shmrpc_status_name(int status) {
  switch (status) {
#define XX(name, value)                                                        \
  case value:                                                                  \
    return #name;
    SHMRPC_STATUS_MAP(XX)
#undef XX
  }
  return "UNKNOWN";
}
