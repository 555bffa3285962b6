/* Method table of rpctest.RpcTest (see rpc_test.shmrpc.h). */
#include "rpc_test.shmrpc.h"

#define UNARY_THUNK(name, Req, Res)                                            \
  static int invoke_##name(const void *handlers, shmrpc_call_t *call,         \
                           const void *req, void *res) {                       \
    const rpctest_RpcTest_handlers_t *h = handlers;                            \
    if (h->name == NULL)                                                       \
      return SHMRPC_STATUS_UNIMPLEMENTED;                                      \
    return h->name(call, (const Req *)req, (Res *)res);                        \
  }
#define STREAM_THUNK(name, Req)                                                \
  static int invoke_##name(const void *handlers, shmrpc_call_t *call,         \
                           const void *req, void *res) {                       \
    (void)res;                                                                 \
    const rpctest_RpcTest_handlers_t *h = handlers;                            \
    if (h->name == NULL)                                                       \
      return SHMRPC_STATUS_UNIMPLEMENTED;                                      \
    return h->name(call, (const Req *)req);                                    \
  }

UNARY_THUNK(Echo, rpctest_EchoRequest, rpctest_EchoReply)
UNARY_THUNK(EchoDeferred, rpctest_EchoRequest, rpctest_EchoReply)
UNARY_THUNK(Hang, rpctest_EchoRequest, rpctest_EchoReply)
STREAM_THUNK(Count, rpctest_CountRequest)
STREAM_THUNK(CountDeferred, rpctest_CountRequest)
UNARY_THUNK(GetStats, rpctest_StatsRequest, rpctest_Stats)

#define METHOD(name, hash, kind, Req, Res)                                     \
  {rpctest_RpcTest_##name##_id, hash, "rpctest.RpcTest/" #name, kind,           \
   Req##_fields, sizeof(Req), Res##_fields, sizeof(Res), invoke_##name}

static const shmrpc_method_t methods[] = {
    METHOD(Echo, 0xfa6ca88bu, SHMRPC_METHOD_UNARY, rpctest_EchoRequest,
           rpctest_EchoReply),
    METHOD(EchoDeferred, 0x7ef7a00eu, SHMRPC_METHOD_UNARY, rpctest_EchoRequest,
           rpctest_EchoReply),
    METHOD(Hang, 0x2f836b0cu, SHMRPC_METHOD_UNARY, rpctest_EchoRequest,
           rpctest_EchoReply),
    METHOD(Count, 0xf26f4f39u, SHMRPC_METHOD_SERVER_STREAMING,
           rpctest_CountRequest, rpctest_CountItem),
    METHOD(CountDeferred, 0x1138d718u, SHMRPC_METHOD_SERVER_STREAMING,
           rpctest_CountRequest, rpctest_CountItem),
    METHOD(GetStats, 0x8b2ac44du, SHMRPC_METHOD_UNARY, rpctest_StatsRequest,
           rpctest_Stats),
};

const shmrpc_service_t rpctest_RpcTest_service = {
    "rpctest.RpcTest", 0x5f1e0c2a9d3b4e71u,
    sizeof methods / sizeof methods[0], methods};
