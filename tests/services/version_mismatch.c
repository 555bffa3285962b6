/* Built only by the codegen_version_mismatch test, which expects the build
 * to fail: generated service glue refuses a runtime whose
 * SHMRPC_GENERATED_CODE_VERSION it was not generated for. */
#include "shmrpc/service.h"

#undef SHMRPC_GENERATED_CODE_VERSION
#define SHMRPC_GENERATED_CODE_VERSION 0

#include "rpc_test.shmrpc.h"
