/* Service glue for rpc_test.proto in the shape protoc-gen-shmrpc emits:
 * the handler table, the method table the dispatcher reads, and typed
 * wrappers over the call API. Method ids are FNV-1a 32 of the method path
 * (docs/PROTOCOL.md); the schema hashes are fixed values that
 * tests/js/rpc-test-schema.ts repeats. */
#ifndef RPCTEST_RPC_TEST_SHMRPC_H
#define RPCTEST_RPC_TEST_SHMRPC_H

#include <shmrpc/rpc.h>

#include "rpc_test.pb.h"

#define rpctest_RpcTest_Echo_id 0x8dfc25f3u
#define rpctest_RpcTest_EchoDeferred_id 0xc6d7f68cu
#define rpctest_RpcTest_Hang_id 0xaaa85adau
#define rpctest_RpcTest_Count_id 0x4bda6049u
#define rpctest_RpcTest_CountDeferred_id 0x5536384eu
#define rpctest_RpcTest_GetStats_id 0x4401c0d5u
/* EVENT rpctest.RpcTest/StreamStopped (shmrpc_event_id of that name) */
#define rpctest_RpcTest_StreamStopped_event 0xef824f57u

typedef struct rpctest_RpcTest_handlers_s {
  int (*Echo)(shmrpc_call_t *call, const rpctest_EchoRequest *req,
              rpctest_EchoReply *res);
  int (*EchoDeferred)(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                      rpctest_EchoReply *res);
  int (*Hang)(shmrpc_call_t *call, const rpctest_EchoRequest *req,
              rpctest_EchoReply *res);
  int (*Count)(shmrpc_call_t *call, const rpctest_CountRequest *req);
  int (*CountDeferred)(shmrpc_call_t *call, const rpctest_CountRequest *req);
  int (*GetStats)(shmrpc_call_t *call, const rpctest_StatsRequest *req,
                  rpctest_Stats *res);
} rpctest_RpcTest_handlers_t;

extern const shmrpc_service_t rpctest_RpcTest_service;

static inline int rpctest_RpcTest_Count_write(shmrpc_call_t *call,
                                              const rpctest_CountItem *msg) {
  return shmrpc_call_write(call, msg);
}

static inline int rpctest_RpcTest_EchoDeferred_finish(
    shmrpc_call_t *call, int status, const rpctest_EchoReply *res) {
  return shmrpc_call_finish(call, status, res);
}

#endif /* RPCTEST_RPC_TEST_SHMRPC_H */
