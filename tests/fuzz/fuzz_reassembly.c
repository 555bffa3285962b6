/* Fragment reassembly, checked against a model: the fuzzer's input is a
 * stream of frames (type byte with MORE, length, payload), written whole
 * into the ring as a correct producer would, with reads interleaved so the
 * stream can be longer than the ring. The model (docs/PROTOCOL.md sections
 * 3 and 5) says which messages must come out, in order and byte for byte,
 * and where the channel must fail with SHMRPC_EPROTO instead: a reserved
 * type, a fragment whose type differs from its first, or a message beyond
 * the receiver's limit. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"

/* The model's message in progress and what it has delivered. */
typedef struct model_s {
  uint32_t max_message;
  int type; /* of the message in progress, -1 if none */
  uint8_t *buf;
  size_t len;
  bool violated;
} model_t;

/* What the channel delivered, checked against the model's message. */
typedef struct expected_s {
  int type;
  const uint8_t *data;
  size_t len;
  bool ready; /* the model completed a message not yet seen */
} expected_t;

/* Feeds one frame to the model; sets *out when it completes a message. */
static void model_frame(model_t *m, uint8_t type_byte, const uint8_t *payload,
                        uint32_t len, expected_t *out) {
  int type = type_byte & 0x7f;
  bool more = (type_byte & SHMRPC_FRAME_MORE) != 0;
  if (!shmrpc_frame_type_valid((unsigned)type) ||
      (m->type >= 0 && type != m->type) ||
      (m->type < 0 && !more && len > m->max_message) ||
      (m->type >= 0 || more ? len > m->max_message - m->len : false)) {
    m->violated = true;
    return;
  }
  if (m->type < 0 && !more) {
    *out = (expected_t){type, payload, len, true};
    return;
  }
  memcpy(m->buf + m->len, payload, len);
  m->len += len;
  m->type = type;
  if (!more) {
    *out = (expected_t){type, m->buf, m->len, true};
    m->len = 0;
    m->type = -1;
  }
}

/* Receives what the channel has and compares it with the model. Returns
 * false once the channel failed (as the model must have said). */
static bool receive(shmrpc_channel_t *server, model_t *m, expected_t *want) {
  for (;;) {
    shmrpc_msg_t msg;
    int rc = shmrpc_channel_recv(server, &msg, 0);
    if (rc == SHMRPC_EPROTO) {
      FUZZ_CHECK(m->violated && !want->ready);
      return false;
    }
    FUZZ_CHECK(rc == 0 || rc == 1);
    if (rc == 0)
      return true;
    FUZZ_CHECK(want->ready);
    FUZZ_CHECK(msg.type == want->type);
    FUZZ_CHECK(msg.len == want->len);
    FUZZ_CHECK(msg.len == 0 || memcmp(msg.data, want->data, msg.len) == 0);
    want->ready = false;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input_t in = {data, size};
  uint32_t capacity = 64u << (fuzz_u8(&in) % 3);
  model_t m = {.max_message = fuzz_u16(&in) % 1024, .type = -1};
  m.buf = malloc(m.max_message + 1);
  fuzz_pair_t pair;
  fuzz_pair_open(&pair, capacity, 64, m.max_message);
  shmrpc_ring_t *tx = &pair.client.tx;
  expected_t want = {0};
  bool alive = true;
  while (alive && in.left > 0 && !m.violated) {
    uint8_t type_byte = fuzz_u8(&in);
    /* Any length a frame can have in this ring; the payload is what the
     * input has left, padded with zeros. */
    uint32_t len = fuzz_u16(&in) % (capacity - SHMRPC_FRAME_HEADER_BYTES + 1);
    uint8_t payload[512 - SHMRPC_FRAME_HEADER_BYTES] = {0};
    size_t got;
    memcpy(payload, fuzz_bytes(&in, len, &got), got);
    /* Make room: the previous message is taken (and its checks run)
     * before this frame goes in. */
    alive = receive(&pair.server, &m, &want);
    while (alive && shmrpc_ring_writable(tx) < SHMRPC_FRAME_HEADER_BYTES + len)
      alive = receive(&pair.server, &m, &want);
    if (!alive)
      break;
    uint8_t header[SHMRPC_FRAME_HEADER_BYTES];
    header[0] = type_byte;
    header[1] = (uint8_t)(len >> 24);
    header[2] = (uint8_t)(len >> 16);
    header[3] = (uint8_t)(len >> 8);
    header[4] = (uint8_t)len;
    shmrpc_ring_write(tx, header, sizeof header);
    shmrpc_ring_write(tx, payload, len);
    shmrpc_ring_publish(tx);
    /* A payload the channel may point into stays valid: copy it where the
     * model keeps it until it is compared. */
    static uint8_t single[512];
    memcpy(single, payload, len);
    model_frame(&m, type_byte, single, len, &want);
  }
  if (alive) {
    alive = receive(&pair.server, &m, &want);
    FUZZ_CHECK(!want.ready);
    FUZZ_CHECK(alive == !m.violated);
  }
  fuzz_pair_free(&pair);
  free(m.buf);
  return 0;
}
