/* Handler bodies shared by the RPC test services (rpc_test_service.c,
 * native with threads; rpc_single_thread_service.c, one thread, for
 * WebAssembly): see rpc_test_common.h. */
#include "rpc_test_common.h"

#include <stdlib.h>
#include <string.h>

/* Larger payloads are refused: a test service should not allocate
 * whatever a request asks for. */
#define MAX_PAYLOAD_BYTES (64u << 20)

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

int rpctest_answer_echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                       rpctest_EchoReply *res) {
  if (req->status != 0) {
    if (req->error_message != NULL)
      shmrpc_call_set_error(call, "%s", req->error_message);
    /* The client's number: -1 would read as SHMRPC_DEFERRED and leave the
     * call unanswered (found by fuzz_rpc_dispatch). */
    return req->status == SHMRPC_DEFERRED ? SHMRPC_STATUS_UNKNOWN : req->status;
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

int rpctest_stream(shmrpc_call_t *call, const rpctest_CountRequest *req) {
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
  shmrpc_server_emit(shmrpc_call_server(call), shmrpc_event_id(STREAM_STOPPED_EVENT),
                     rpctest_StreamStopped_fields, &stopped);
  return status;
}
