/* Handler bodies shared by the RPC test services: the native one
 * (rpc_test_service.c) and the one for a single thread
 * (rpc_single_thread_service.c, built for WebAssembly). */
#ifndef RPC_TEST_COMMON_H
#define RPC_TEST_COMMON_H

#include "rpc_test.shmrpc.h"

/* The event the streaming handlers emit when they stop. */
#define STREAM_STOPPED_EVENT "rpctest.RpcTest/StreamStopped"

/* Fills an Echo reply (text, payload, peer, call id, time left until the
 * deadline), or returns the requested error status. */
int rpctest_answer_echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                        rpctest_EchoReply *res);

/* Writes the Count stream, emits StreamStopped, returns the final status. */
int rpctest_stream(shmrpc_call_t *call, const rpctest_CountRequest *req);

/* The Sum handler (client streaming; rpc_test_streams.c): reads the
 * stream, adding up values, emits StreamStopped (messages read, the status
 * that ended it), returns that status. */
int rpctest_sum(shmrpc_call_t *call, rpctest_SumReply *res);

/* The body of the Chat handler (bidirectional): answers every item with
 * the running totals, emits StreamStopped, returns the final status. */
int rpctest_chat(shmrpc_call_t *call);

#endif /* RPC_TEST_COMMON_H */
