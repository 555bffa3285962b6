/* The smallest hostable service: one handler and SHMRPC_SERVICE_LIBRARY.
 * Every other method of rpctest.RpcTest has no handler and answers
 * UNIMPLEMENTED. */
#include <stdlib.h>
#include <string.h>

#include "rpc_test.shmrpc.h"

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  res->call_id = shmrpc_call_id(call);
  if (req->text != NULL && (res->text = strdup(req->text)) == NULL)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  return SHMRPC_STATUS_OK;
}

static const rpctest_RpcTest_handlers_t handlers = {.Echo = echo};

SHMRPC_SERVICE_LIBRARY(&rpctest_RpcTest_service, &handlers, NULL)
