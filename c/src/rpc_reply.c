/* Sending envelopes: the header and a nanopb-encoded body go straight into
 * the ring through a reservation when the frame fits, else through one
 * buffer and a fragmented send. */
#include <stdlib.h>
#include <string.h>

#include <pb_encode.h>

#include "rpc_internal.h"

/* A pb_ostream over the one or two spans of a reservation. */
typedef struct span_writer_s {
  shmrpc_span_t spans[2];
  int index;
  size_t offset;
} span_writer_t;

static bool write_spans(pb_ostream_t *stream, const pb_byte_t *buf,
                        size_t count) {
  span_writer_t *w = stream->state;
  while (count > 0) {
    if (w->index > 1)
      return false;
    shmrpc_span_t *span = &w->spans[w->index];
    size_t n = span->len - w->offset;
    if (n > count)
      n = count;
    memcpy(span->data + w->offset, buf, n);
    buf += n;
    count -= n;
    w->offset += n;
    if (w->offset == span->len) {
      w->index++;
      w->offset = 0;
    }
  }
  return true;
}

static bool encode_body(pb_ostream_t *stream, const pb_msgdesc_t *fields,
                        const void *message, size_t body, const char **why) {
  if (fields == NULL)
    return true;
  if (!pb_encode(stream, fields, message)) {
    *why = PB_GET_ERROR(stream);
    return false;
  }
  /* A message that changed between sizing and encoding (another thread
   * writing it) would leave the frame short or overrun it. */
  if (stream->bytes_written != body) {
    *why = "message changed while it was encoded";
    return false;
  }
  return true;
}

/* Encodes into a reserved frame of exactly 28 + body bytes. */
static int send_reserved(shmrpc_channel_t *ch, const uint8_t head[28],
                         const pb_msgdesc_t *fields, const void *message,
                         size_t body, shmrpc_span_t spans[2],
                         const char **why) {
  bool ok;
  if (spans[0].len >= SHMRPC_ENVELOPE_HEADER_BYTES + body) {
    /* The common case: the frame does not wrap. */
    memcpy(spans[0].data, head, SHMRPC_ENVELOPE_HEADER_BYTES);
    pb_ostream_t stream = pb_ostream_from_buffer(
        spans[0].data + SHMRPC_ENVELOPE_HEADER_BYTES, body);
    ok = encode_body(&stream, fields, message, body, why);
  } else {
    span_writer_t w = {{spans[0], spans[1]}, 0, 0};
    pb_ostream_t stream = {write_spans, &w, body + SHMRPC_ENVELOPE_HEADER_BYTES,
                           0, NULL};
    ok = pb_write(&stream, head, SHMRPC_ENVELOPE_HEADER_BYTES);
    stream.bytes_written = 0;
    ok = ok && encode_body(&stream, fields, message, body, why);
  }
  if (!ok) {
    shmrpc_channel_abort(ch);
    return SHMRPC_EINVAL;
  }
  shmrpc_channel_commit(ch);
  return 0;
}

/* The frame does not fit in the ring: encode into a buffer, then send it
 * in fragments. */
static int send_buffered(shmrpc_channel_t *ch, const uint8_t head[28],
                         const pb_msgdesc_t *fields, const void *message,
                         size_t body, const char **why) {
  size_t total = SHMRPC_ENVELOPE_HEADER_BYTES + body;
  uint8_t *buf = malloc(total);
  if (buf == NULL)
    return SHMRPC_ENOMEM;
  memcpy(buf, head, SHMRPC_ENVELOPE_HEADER_BYTES);
  pb_ostream_t stream =
      pb_ostream_from_buffer(buf + SHMRPC_ENVELOPE_HEADER_BYTES, body);
  int rc = SHMRPC_EINVAL;
  if (encode_body(&stream, fields, message, body, why))
    rc = shmrpc_channel_send(ch, SHMRPC_COMMAND, buf, total, -1);
  free(buf);
  return rc;
}

int shmrpc__send_message(shmrpc_channel_t *ch, const shmrpc_envelope_t *header,
                         const pb_msgdesc_t *fields, const void *message,
                         const char **why) {
  size_t body = 0;
  *why = NULL;
  if (fields != NULL && !pb_get_encoded_size(&body, fields, message)) {
    *why = "message does not encode";
    return SHMRPC_EINVAL;
  }
  if (body > UINT32_MAX - SHMRPC_ENVELOPE_HEADER_BYTES)
    return SHMRPC_EMSGSIZE;
  uint8_t head[SHMRPC_ENVELOPE_HEADER_BYTES];
  shmrpc_envelope_write_header(header, head);
  shmrpc_span_t spans[2];
  int rc = shmrpc_channel_reserve(
      ch, SHMRPC_COMMAND, SHMRPC_ENVELOPE_HEADER_BYTES + body, -1, spans);
  if (rc == 0)
    return send_reserved(ch, head, fields, message, body, spans, why);
  if (rc != SHMRPC_EMSGSIZE)
    return rc;
  return send_buffered(ch, head, fields, message, body, why);
}

int shmrpc__send_bytes(shmrpc_channel_t *ch, const shmrpc_envelope_t *header,
                       const void *body, size_t len) {
  if (len > UINT32_MAX - SHMRPC_ENVELOPE_HEADER_BYTES)
    return SHMRPC_EMSGSIZE;
  size_t total = SHMRPC_ENVELOPE_HEADER_BYTES + len;
  uint8_t head[SHMRPC_ENVELOPE_HEADER_BYTES];
  shmrpc_envelope_write_header(header, head);
  shmrpc_span_t spans[2];
  int rc = shmrpc_channel_reserve(ch, SHMRPC_COMMAND, total, -1, spans);
  if (rc == 0) {
    span_writer_t w = {{spans[0], spans[1]}, 0, 0};
    pb_ostream_t stream = {write_spans, &w, total, 0, NULL};
    /* Cannot fail: the spans hold exactly `total` bytes. */
    (void)pb_write(&stream, head, sizeof head);
    (void)pb_write(&stream, body, len);
    shmrpc_channel_commit(ch);
    return 0;
  }
  if (rc != SHMRPC_EMSGSIZE)
    return rc;
  uint8_t *buf = malloc(total);
  if (buf == NULL)
    return SHMRPC_ENOMEM;
  memcpy(buf, head, sizeof head);
  if (len > 0)
    memcpy(buf + sizeof head, body, len);
  rc = shmrpc_channel_send(ch, SHMRPC_COMMAND, buf, total, -1);
  free(buf);
  return rc;
}

int shmrpc__send_error(shmrpc_channel_t *ch, uint32_t call_id, int status,
                       const char *text) {
  if (text == NULL)
    text = shmrpc_status_name(status);
  shmrpc_envelope_t header = {
      .kind = SHMRPC_RPC_ERROR, .call_id = call_id, .status = (uint32_t)status};
  int rc = shmrpc__send_bytes(ch, &header, text, strlen(text));
  /* A status message too large for the client: the status alone. */
  if (rc == SHMRPC_EMSGSIZE)
    rc = shmrpc__send_bytes(ch, &header, text, 0);
  return rc;
}
