/* The RPC test service (rpc_test.proto) for a host with one thread and no
 * others to start: the WebAssembly build (build/wasm/services/
 * rpc_test_single.wasm), where tests/js/wasm-*.test.ts and the browser
 * tests call it. Everything answers on the dispatch thread: Echo (without
 * delay_ms, which would stall the only thread), Hang (its cancel hook
 * answers, when the client cancels or the deadline passes in C), Count and
 * GetStats; EchoDeferred and CountDeferred need a thread and are left
 * UNIMPLEMENTED. The native test service is rpc_test_service.c. */
#include <stdlib.h>
#include <string.h>

#include "rpc_test.shmrpc.h"

#define STREAM_STOPPED_EVENT "rpctest.RpcTest/StreamStopped"
#define MAX_PAYLOAD_BYTES (64u << 20)

typedef struct {
  uint32_t hangs_cancelled;
} service_t;

static service_t service;

static char *copy_string(const char *s) { return s != NULL ? strdup(s) : NULL; }

static pb_bytes_array_t *copy_bytes(const pb_bytes_array_t *b) {
  if (b == NULL)
    return NULL;
  pb_bytes_array_t *copy = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(b->size));
  if (copy != NULL) {
    copy->size = b->size;
    memcpy(copy->bytes, b->bytes, b->size);
  }
  return copy;
}

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  if (req->delay_ms > 0) {
    shmrpc_call_set_error(call, "delay_ms would stall the only thread");
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  }
  if (req->status != 0) {
    if (req->error_message != NULL)
      shmrpc_call_set_error(call, "%s", req->error_message);
    return req->status;
  }
  res->text = copy_string(req->text);
  res->payload = copy_bytes(req->payload);
  res->peer = copy_string(shmrpc_call_peer(call));
  if ((req->text != NULL && res->text == NULL) ||
      (req->payload != NULL && res->payload == NULL) || res->peer == NULL)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  res->call_id = shmrpc_call_id(call);
  int64_t left = shmrpc_call_time_left_us(call);
  res->time_left_ms = left < 0 ? -1 : left / 1000;
  return SHMRPC_STATUS_OK;
}

static void hang_cancelled(shmrpc_call_t *call, void *user) {
  service_t *s = user;
  s->hangs_cancelled++;
  shmrpc_call_finish(call, SHMRPC_STATUS_CANCELLED, NULL);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_cancelled, shmrpc_call_user_data(call));
  return SHMRPC_DEFERRED;
}

static int count(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  if (req->payload_bytes > MAX_PAYLOAD_BYTES)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  rpctest_CountItem item = rpctest_CountItem_init_zero;
  if (req->payload_bytes > 0) {
    item.payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(req->payload_bytes));
    if (item.payload == NULL)
      return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
    item.payload->size = req->payload_bytes;
  }
  int status = SHMRPC_STATUS_OK;
  uint32_t sent = 0;
  for (; sent < req->count; sent++) {
    item.index = sent;
    if (item.payload != NULL)
      memset(item.payload->bytes, (int)(sent & 0xff), item.payload->size);
    status = rpctest_RpcTest_Count_write(call, &item);
    if (status != SHMRPC_STATUS_OK)
      break;
  }
  free(item.payload);
  rpctest_StreamStopped stopped = {shmrpc_call_id(call), sent, status};
  shmrpc_server_emit(shmrpc_call_server(call),
                     shmrpc_event_id(STREAM_STOPPED_EVENT),
                     rpctest_StreamStopped_fields, &stopped);
  return status;
}

static int get_stats(shmrpc_call_t *call, const rpctest_StatsRequest *req,
                     rpctest_Stats *res) {
  (void)req;
  service_t *s = shmrpc_call_user_data(call);
  shmrpc_server_t *server = shmrpc_call_server(call);
  /* Not counting this call itself. */
  res->calls_in_flight = (uint32_t)shmrpc_server_calls_in_flight(server) - 1;
  res->calls_alive = (uint32_t)shmrpc_server_calls_alive(server) - 1;
  res->calls_abandoned = shmrpc_server_calls_abandoned(server);
  res->hangs_cancelled = s->hangs_cancelled;
  return SHMRPC_STATUS_OK;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Echo = echo,
    .Hang = hang,
    .Count = count,
    .GetStats = get_stats,
};

SHMRPC_SERVICE_LIBRARY(&rpctest_RpcTest_service, &handlers, &service)
