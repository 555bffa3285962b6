/* The RPC server's handling of whatever COMMAND payloads a client sends:
 * the envelope parser, the call table, CANCEL and CREDIT, the request
 * decoders and the generated rpctest.RpcTest glue (tests/services/
 * rpc_test.proto) calling handlers: unary, deferred, server streaming on
 * the dispatch thread and deferred streams.
 *
 * The input is a series of messages, each a u16 length (bit 15: send it as
 * BINARY instead of COMMAND) and its bytes. They go into the ring, the
 * client closes, and the server serves on this thread until it sees the
 * close: a streaming handler waiting for credit reads the rest of the
 * input and then the close, so nothing can block, and replies to the
 * closed client fail at once. Checks: the server ends with the close,
 * every call is gone afterwards, and nothing leaks (LeakSanitizer). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"
#include "rpc_test.shmrpc.h"

#define MAX_HELD 64
#define MAX_ITEMS 4u

/* Deferred calls, finished after each round of serving. */
static struct {
  shmrpc_call_t *calls[MAX_HELD];
  int statuses[MAX_HELD];
  size_t count;
} held;

static int hold(shmrpc_call_t *call, int status) {
  if (held.count == MAX_HELD)
    return SHMRPC_STATUS_RESOURCE_EXHAUSTED;
  held.statuses[held.count] = status;
  held.calls[held.count++] = call;
  return SHMRPC_DEFERRED;
}

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  if (req->status != 0) {
    if (req->error_message != NULL)
      shmrpc_call_set_error(call, "%s", req->error_message);
    /* Any int but -1, which reads as SHMRPC_DEFERRED: returning it leaves
     * the call unanswered for good (this harness's first finding). */
    return req->status == SHMRPC_DEFERRED ? SHMRPC_STATUS_UNKNOWN : req->status;
  }
  res->call_id = shmrpc_call_id(call);
  res->text = req->text != NULL ? strdup(req->text) : NULL;
  if (req->payload != NULL) {
    res->payload = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(req->payload->size));
    res->payload->size = req->payload->size;
    memcpy(res->payload->bytes, req->payload->bytes, req->payload->size);
  }
  return SHMRPC_STATUS_OK;
}

static int echo_deferred(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                         rpctest_EchoReply *res) {
  (void)res;
  return hold(call, req->status);
}

static void hang_cancelled(shmrpc_call_t *call, void *user) {
  (void)user;
  (void)shmrpc_call_finish(call, SHMRPC_STATUS_CANCELLED, NULL);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_cancelled, NULL);
  return SHMRPC_DEFERRED;
}

static int count(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  rpctest_CountItem item = rpctest_CountItem_init_zero;
  uint32_t n = req->count < MAX_ITEMS ? req->count : MAX_ITEMS;
  for (uint32_t i = 0; i < n; i++) {
    item.index = i;
    int status = rpctest_RpcTest_Count_write(call, &item);
    if (status != SHMRPC_STATUS_OK)
      return status;
  }
  return SHMRPC_STATUS_OK;
}

static int count_deferred(shmrpc_call_t *call,
                          const rpctest_CountRequest *req) {
  return hold(call, (int)(req->count % 17));
}

static int get_stats(shmrpc_call_t *call, const rpctest_StatsRequest *req,
                     rpctest_Stats *res) {
  (void)req;
  res->calls_in_flight = shmrpc_server_calls_in_flight(shmrpc_call_server(call));
  return SHMRPC_STATUS_OK;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Echo = echo,
    .EchoDeferred = echo_deferred,
    .Hang = hang,
    .Count = count,
    .CountDeferred = count_deferred,
    .GetStats = get_stats,
};

/* Finishes the deferred calls: a stream writes one item first. */
static void finish_held(void) {
  for (size_t i = 0; i < held.count; i++) {
    shmrpc_call_t *call = held.calls[i];
    int status = held.statuses[i];
    if (shmrpc_call_method(call)->kind == SHMRPC_METHOD_SERVER_STREAMING) {
      rpctest_CountItem item = rpctest_CountItem_init_zero;
      (void)rpctest_RpcTest_CountDeferred_write(call, &item);
      (void)shmrpc_call_finish(call, status, NULL);
    } else {
      rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
      (void)shmrpc_call_finish(call, status, &reply);
    }
  }
  held.count = 0;
}

static void count_other(void *user, const shmrpc_msg_t *msg) {
  (void)msg;
  (*(unsigned *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input_t in = {data, size};
  fuzz_pair_t pair;
  fuzz_pair_open(&pair, 1u << 16, 1u << 12, 1u << 16);
  unsigned others = 0;
  shmrpc_server_options_t opts;
  shmrpc_server_options_init(&opts);
  opts.max_calls = 8;
  opts.peer = "fuzz";
  opts.on_other_message = count_other;
  opts.on_other_message_user = &others;
  shmrpc_server_t *server;
  FUZZ_CHECK(shmrpc_server_create(&pair.server, &opts, &server) == 0);
  FUZZ_CHECK(shmrpc_server_register(server, &rpctest_RpcTest_service,
                                    &handlers, NULL) == 0);
  while (in.left > 0) {
    uint16_t head = fuzz_u16(&in);
    size_t len;
    const uint8_t *bytes = fuzz_bytes(&in, head & 0x7fffu, &len);
    uint8_t type = head & 0x8000u ? SHMRPC_BINARY : SHMRPC_COMMAND;
    if (shmrpc_channel_try_send(&pair.client, type, bytes, len) != 0)
      break;
  }
  shmrpc_channel_close(&pair.client);
  int rc;
  int rounds = 0;
  do {
    rc = shmrpc_server_poll(server, 0);
    finish_held();
    FUZZ_CHECK(++rounds < 100000);
  } while (rc >= 0);
  FUZZ_CHECK(rc == SHMRPC_ECLOSED);
  FUZZ_CHECK(shmrpc_server_calls_in_flight(server) == 0);
  FUZZ_CHECK(shmrpc_server_calls_alive(server) == 0);
  shmrpc_server_destroy(server);
  fuzz_pair_free(&pair);
  return 0;
}
