/* The RPC envelope (docs/PROTOCOL.md section 7): the fixed 28-byte header
 * every COMMAND message of the RPC layer starts with. Part of the channel
 * library: parsing and writing envelopes needs no codec, so this header
 * includes nothing of nanopb (shmrpc/rpc.h builds the server on it). */
#ifndef SHMRPC_ENVELOPE_H
#define SHMRPC_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "shmrpc/common.h"
#include "shmrpc/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHMRPC_RPC_VERSION 1u
#define SHMRPC_ENVELOPE_HEADER_BYTES 28u

/* Envelope kinds (docs/PROTOCOL.md section 7). */
typedef enum {
  SHMRPC_RPC_REQUEST = 1,
  SHMRPC_RPC_RESPONSE = 2,
  SHMRPC_RPC_ERROR = 3,
  SHMRPC_RPC_CANCEL = 4,
  SHMRPC_RPC_STREAM_MESSAGE = 5,
  SHMRPC_RPC_STREAM_END = 6,
  SHMRPC_RPC_EVENT = 7,
  SHMRPC_RPC_CREDIT = 8,
  SHMRPC_RPC_REQUEST_MESSAGE = 9,
  SHMRPC_RPC_REQUEST_END = 10
} shmrpc_rpc_kind_t;

/* One envelope, header fields in host order. `body` points into the parsed
 * message and is valid as long as that message is. */
typedef struct shmrpc_envelope_s {
  uint8_t kind;
  uint32_t call_id;
  uint32_t method_id;
  uint32_t schema_hash;
  uint32_t status;
  uint32_t timeout_us;
  uint32_t credit;
  const uint8_t *body;
  size_t body_len;
} shmrpc_envelope_t;

/* Writes the 28 header bytes of `env` (body fields ignored) into `out`. */
SHMRPC_EXTERN void shmrpc_envelope_write_header(const shmrpc_envelope_t *env,
                                                uint8_t out[28]);

/* Parses an envelope from `len` bytes (a whole COMMAND message). Returns 0,
 * or SHMRPC_EPROTO when the bytes are too short, carry another version or
 * an unknown kind, or a status their kind cannot end a call with (ERROR
 * needs a failure status 1-16, STREAM_END any status 0-16; `out->status`
 * then holds the bad value); then `out->call_id` holds the call id if one
 * could be read (else 0) so that the caller can answer it, and `*error`
 * (if `error` is not NULL) a static description. Never reads past `len`. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_envelope_parse(const uint8_t *data, size_t len, shmrpc_envelope_t *out,
                      const char **error);

/* The id of an event named `name` (e.g. "pkg.Service/Changed"): FNV-1a 32
 * of the UTF-8 name, the hash that gives methods their ids, so the client
 * can subscribe by the same name (docs/PROTOCOL.md section 7). */
SHMRPC_EXTERN uint32_t shmrpc_event_id(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_ENVELOPE_H */
