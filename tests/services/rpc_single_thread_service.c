/* The RPC test service (rpc_test.proto) for a host with one thread and no
 * others to start: the WebAssembly build (build/wasm/services/
 * rpc_test_single.wasm), where tests/js/wasm-*.test.ts and the browser
 * tests call it. Everything answers on the dispatch thread: Echo (without
 * delay_ms, which would stall the only thread), Hang (its cancel hook
 * answers, when the client cancels or the deadline passes in C), Count and
 * GetStats; EchoDeferred and CountDeferred need a thread and are left
 * UNIMPLEMENTED. The native test service is rpc_test_service.c. */
#include "rpc_test_common.h"

typedef struct {
  uint32_t hangs_cancelled;
} service_t;

static service_t service;

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  if (req->delay_ms > 0) {
    shmrpc_call_set_error(call, "delay_ms would stall the only thread");
    return SHMRPC_STATUS_FAILED_PRECONDITION;
  }
  return rpctest_answer_echo(call, req, res);
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
  return rpctest_stream(call, req);
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

static const shmrpc_service_hooks_t hooks = {.user_data = &service};

SHMRPC_SERVICE_LIBRARY(&rpctest_RpcTest_service, &handlers, &hooks)
