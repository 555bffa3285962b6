/* What generated service glue hands to the RPC server runtime: one method
 * table per service. protoc-gen-shmrpc emits these; the dispatcher reads
 * them. The codec is nanopb: requests and responses are nanopb structs. */
#ifndef SHMRPC_SERVICE_H
#define SHMRPC_SERVICE_H

#include <pb.h>

#include "shmrpc/common.h"
#include "shmrpc/status.h"

/* Fields up to the message limit need nanopb's 32-bit field sizes, and the
 * generated structs' layout depends on them: every unit must agree. */
#ifndef PB_FIELD_32BIT
#error "shmrpc: build with nanopb's PB_FIELD_32BIT (link shmrpc::nanopb)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the contract between this runtime and the code
 * protoc-gen-shmrpc generates: a generated .shmrpc.h checks it and fails
 * to compile against a runtime it does not fit. */
#define SHMRPC_GENERATED_CODE_VERSION 3

/* A handler returns this instead of a status when it will finish the call
 * later (possibly from another thread) with shmrpc_call_finish(). */
#define SHMRPC_DEFERRED (-1)

/* One in-flight call, owned by the RPC runtime (see shmrpc/rpc.h). */
typedef struct shmrpc_call_s shmrpc_call_t;

/* How a method's messages flow (docs/PROTOCOL.md section 7). */
typedef enum {
  SHMRPC_METHOD_UNARY = 0,            /* one request, one response */
  SHMRPC_METHOD_SERVER_STREAMING = 1, /* one request, a response stream */
  SHMRPC_METHOD_CLIENT_STREAMING = 2, /* a request stream, one response */
  SHMRPC_METHOD_BIDI_STREAMING = 3    /* a request stream, a response stream */
} shmrpc_method_kind_t;

/* Calls the user's typed handler. `handlers` is the generated handler table
 * the user registered. `request` is the decoded request struct of unary and
 * server-streaming methods, NULL for client-streaming and bidirectional
 * ones (the handler reads their stream through the call). `response` is a
 * zeroed response struct to fill for unary and client-streaming methods,
 * NULL for the others (the handler writes their stream through the call).
 * Returns a shmrpc_status_t or SHMRPC_DEFERRED. A NULL handler slot makes
 * it return UNIMPLEMENTED. */
typedef int (*shmrpc_invoke_fn)(const void *handlers, shmrpc_call_t *call,
                                const void *request, void *response);

typedef struct shmrpc_method_s {
  uint32_t id;          /* docs/PROTOCOL.md, "Method ids" */
  uint32_t schema_hash; /* request and response type names, call kind (PROTOCOL.md 8) */
  const char *path;     /* "package.Service/Method" */
  shmrpc_method_kind_t kind;
  const pb_msgdesc_t *request_fields;
  size_t request_size; /* sizeof the nanopb request struct */
  const pb_msgdesc_t *response_fields;
  size_t response_size;
  shmrpc_invoke_fn invoke;
} shmrpc_method_t;

typedef struct shmrpc_service_s {
  const char *name;     /* "package.Service" */
  uint64_t fingerprint; /* hash over every method's path and schema_hash */
  size_t method_count;
  const shmrpc_method_t *methods;
} shmrpc_service_t;

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_SERVICE_H */
