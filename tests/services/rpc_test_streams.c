/* The request-streaming handlers of the RPC test service: Sum (client
 * streaming, on the dispatch thread) and Chat (bidirectional, run by the
 * service on a worker thread). Both read SumItems, do what each asks
 * (sleep, fail, stop), and emit StreamStopped with the number of messages
 * they read and the status that ended their stream. */
#include <errno.h>
#include <time.h>

#include "rpc_test_common.h"

/* What a handler does after an item. */
enum { GO_ON = -100, STOP = -101 };

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Adds `item` to the totals and does what it asks. Returns GO_ON, STOP or
 * the status the handler fails with. */
static int take(shmrpc_call_t *call, const rpctest_SumItem *item,
                rpctest_SumReply *totals) {
  totals->count++;
  totals->total += item->value;
  int64_t left = shmrpc_call_time_left_us(call);
  totals->time_left_ms = left < 0 ? -1 : left / 1000;
  if (item->delay_ms > 0)
    sleep_ms(item->delay_ms);
  if (item->status != 0) {
    if (item->error_message != NULL)
      shmrpc_call_set_error(call, "%s", item->error_message);
    return item->status == SHMRPC_DEFERRED ? SHMRPC_STATUS_UNKNOWN
                                           : item->status;
  }
  return item->last ? STOP : GO_ON;
}

static int stopped(shmrpc_call_t *call, const rpctest_SumReply *totals,
                   int status) {
  rpctest_StreamStopped event = {shmrpc_call_id(call), totals->count, status};
  shmrpc_server_emit(shmrpc_call_server(call),
                     shmrpc_event_id(STREAM_STOPPED_EVENT),
                     rpctest_StreamStopped_fields, &event);
  return status;
}

int rpctest_sum(shmrpc_call_t *call, rpctest_SumReply *res) {
  for (;;) {
    const rpctest_SumItem *item;
    int status = rpctest_RpcTest_Sum_read(call, &item);
    if (status != SHMRPC_STATUS_OK || item == NULL)
      return stopped(call, res, status);
    status = take(call, item, res);
    if (status != GO_ON)
      return stopped(call, res, status == STOP ? SHMRPC_STATUS_OK : status);
  }
}

int rpctest_chat(shmrpc_call_t *call) {
  rpctest_SumReply totals = rpctest_SumReply_init_zero;
  for (;;) {
    const rpctest_SumItem *item;
    int status = rpctest_RpcTest_Chat_read(call, &item);
    if (status != SHMRPC_STATUS_OK || item == NULL)
      return stopped(call, &totals, status);
    int next = take(call, item, &totals);
    if (next != GO_ON && next != STOP)
      return stopped(call, &totals, next);
    status = rpctest_RpcTest_Chat_write(call, &totals);
    if (status != SHMRPC_STATUS_OK || next == STOP)
      return stopped(call, &totals, status);
  }
}
