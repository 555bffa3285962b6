/* Status names, the same as gRPC's (c/include/shmrpc/service.h). */
#include "shmrpc/service.h"

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
