/* The RPC benchmark's service: Echo returns the request's bytes. */
#include <stdlib.h>
#include <string.h>

#include "rpc_bench.shmrpc.h"

static int echo(shmrpc_call_t *call, const bench_Blob *req, bench_Blob *res) {
  (void)call;
  if (req->data == NULL)
    return SHMRPC_STATUS_OK;
  /* The runtime frees the response's fields after sending it. */
  res->data = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(req->data->size));
  if (res->data == NULL)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  res->data->size = req->data->size;
  memcpy(res->data->bytes, req->data->bytes, req->data->size);
  return SHMRPC_STATUS_OK;
}

static const bench_Bench_handlers_t handlers = {.Echo = echo};

SHMRPC_SERVICE_LIBRARY(&bench_Bench_service, &handlers, NULL)
