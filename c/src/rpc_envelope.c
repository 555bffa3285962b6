/* The RPC envelope's fixed 28-byte header (docs/PROTOCOL.md section 7):
 * fixed offsets, little-endian u32 fields, no varints. */
#include <string.h>

#include "shmrpc/envelope.h"

enum {
  OFF_VERSION = 0,
  OFF_KIND = 1,
  OFF_CALL_ID = 4,
  OFF_METHOD_ID = 8,
  OFF_SCHEMA_HASH = 12,
  OFF_STATUS = 16,
  OFF_TIMEOUT_US = 20,
  OFF_CREDIT = 24
};

static void put_u32(uint8_t *out, uint32_t value) {
  out[0] = (uint8_t)value;
  out[1] = (uint8_t)(value >> 8);
  out[2] = (uint8_t)(value >> 16);
  out[3] = (uint8_t)(value >> 24);
}

static uint32_t get_u32(const uint8_t *in) {
  return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
         (uint32_t)in[3] << 24;
}

void shmrpc_envelope_write_header(const shmrpc_envelope_t *env,
                                  uint8_t out[28]) {
  out[OFF_VERSION] = SHMRPC_RPC_VERSION;
  out[OFF_KIND] = env->kind;
  out[2] = 0;
  out[3] = 0;
  put_u32(out + OFF_CALL_ID, env->call_id);
  put_u32(out + OFF_METHOD_ID, env->method_id);
  put_u32(out + OFF_SCHEMA_HASH, env->schema_hash);
  put_u32(out + OFF_STATUS, env->status);
  put_u32(out + OFF_TIMEOUT_US, env->timeout_us);
  put_u32(out + OFF_CREDIT, env->credit);
}

static int fail(const char **error, const char *why) {
  if (error != NULL)
    *error = why;
  return SHMRPC_EPROTO;
}

/* Why `status` cannot end a call with an envelope of `kind`, or NULL. */
static const char *status_violation(uint8_t kind, uint32_t status) {
  if (kind != SHMRPC_RPC_ERROR && kind != SHMRPC_RPC_STREAM_END)
    return NULL;
  if (status > SHMRPC_STATUS_UNAUTHENTICATED)
    return "status is not a status code (0-16)";
  if (status == SHMRPC_STATUS_OK && kind == SHMRPC_RPC_ERROR)
    return "an ERROR with status 0 (OK)";
  return NULL;
}

int shmrpc_envelope_parse(const uint8_t *data, size_t len,
                          shmrpc_envelope_t *out, const char **error) {
  memset(out, 0, sizeof *out);
  if (data == NULL && len != 0)
    return fail(error, "no envelope bytes");
  /* The call id is read first so that even a broken envelope can be
   * answered, as long as it identifies a call. */
  if (len >= OFF_CALL_ID + 4)
    out->call_id = get_u32(data + OFF_CALL_ID);
  if (len < SHMRPC_ENVELOPE_HEADER_BYTES)
    return fail(error, "envelope shorter than its 28-byte header");
  if (data[OFF_VERSION] != SHMRPC_RPC_VERSION)
    return fail(error, "unsupported envelope version");
  uint8_t kind = data[OFF_KIND];
  if (kind < SHMRPC_RPC_REQUEST || kind > SHMRPC_RPC_REQUEST_END)
    return fail(error, "unknown envelope kind");
  /* Statuses come from the peer: none reaches a caller as OK on an ERROR
   * or as a number outside the table. */
  uint32_t status = get_u32(data + OFF_STATUS);
  const char *bad_status = status_violation(kind, status);
  if (bad_status != NULL) {
    out->status = status;
    return fail(error, bad_status);
  }
  out->kind = kind;
  out->method_id = get_u32(data + OFF_METHOD_ID);
  out->schema_hash = get_u32(data + OFF_SCHEMA_HASH);
  out->status = status;
  out->timeout_us = get_u32(data + OFF_TIMEOUT_US);
  out->credit = get_u32(data + OFF_CREDIT);
  out->body = data + SHMRPC_ENVELOPE_HEADER_BYTES;
  out->body_len = len - SHMRPC_ENVELOPE_HEADER_BYTES;
  return 0;
}

uint32_t shmrpc_event_id(const char *name) {
  uint32_t h = 0x811c9dc5u;
  for (const unsigned char *p = (const unsigned char *)name; *p != 0; p++)
    h = (h ^ *p) * 0x01000193u;
  return h;
}
