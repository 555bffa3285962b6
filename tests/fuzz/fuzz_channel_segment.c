/* The channel's receive path over a segment that a hostile peer scribbles
 * on between the server's reads: the fuzzer writes frame bytes into the
 * client-to-server ring, publishes or forges its tail, overwrites any
 * shared word (header, peer states and limits, indices, wait words, data)
 * and closes the client, interleaved with the server's recv, dispatch and
 * sends. The server may fail with SHMRPC_EPROTO or see its peer gone, but
 * it never touches memory outside the segment (allocated at its exact
 * size, so AddressSanitizer reports any stray byte), never blocks (every
 * timeout is 0) and delivers only messages of a valid type within its
 * limit. */
#include <stdbool.h>

#include "fuzz_support.h"

enum {
  OP_WRITE,      /* frame bytes at the client's write position */
  OP_PUBLISH,    /* store the client's tail */
  OP_SCRIBBLE,   /* any u32 anywhere in the segment */
  OP_RECV,       /* server: zero-copy receive of one message */
  OP_DISPATCH,   /* server: deliver everything published */
  OP_SEND,       /* server: a message into the other ring */
  OP_CLOSE_PEER, /* the client closes */
  OP_COUNT
};

typedef struct limits_s {
  uint32_t max_message;
  unsigned delivered;
} limits_t;

static void check_message(limits_t *limits, const shmrpc_msg_t *msg) {
  FUZZ_CHECK(shmrpc_frame_type_valid(msg->type));
  FUZZ_CHECK(msg->len <= limits->max_message);
  FUZZ_CHECK(msg->data != NULL);
  /* Read every byte: a message that points outside memory it owns is
   * reported here. */
  uint8_t sum = 0;
  for (size_t i = 0; i < msg->len; i++)
    sum ^= msg->data[i];
  __asm__ volatile("" : : "r"(sum));
  limits->delivered++;
}

static void on_message(void *user, const shmrpc_msg_t *msg) {
  check_message(user, msg);
}

/* What the server's calls may return after any scribble. */
static bool expected_rc(int rc) {
  /* EPEERDEAD: the mutated segment may hold DEAD (4) in the peer's state. */
  return rc >= 0 || rc == SHMRPC_EPROTO || rc == SHMRPC_ECLOSED ||
         rc == SHMRPC_EPEERDEAD || rc == SHMRPC_EAGAIN || rc == SHMRPC_EMSGSIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_input_t in = {data, size};
  uint32_t c2s = 64u << (fuzz_u8(&in) % 4);
  limits_t limits = {.max_message = 1 + fuzz_u16(&in) % 2048};
  fuzz_pair_t pair;
  fuzz_pair_open(&pair, c2s, 64, limits.max_message);
  shmrpc_ring_t *tx = &pair.client.tx;
  shmrpc_channel_t *server = &pair.server;
  int ops = 0;
  while (in.left > 0 && ops++ < 4096) {
    int rc = 0;
    size_t n;
    const uint8_t *bytes;
    switch (fuzz_u8(&in) % OP_COUNT) {
    case OP_WRITE:
      bytes = fuzz_bytes(&in, (size_t)fuzz_u8(&in) + 1, &n);
      shmrpc_ring_write(tx, bytes, (uint32_t)n);
      break;
    case OP_PUBLISH:
      shmrpc_ring_publish(tx);
      break;
    case OP_SCRIBBLE: {
      uint32_t offset = (uint32_t)(fuzz_u16(&in) % (pair.size / 4)) * 4;
      __atomic_store_n((uint32_t *)(void *)(pair.mem + offset), fuzz_u32(&in),
                       __ATOMIC_SEQ_CST);
      break;
    }
    case OP_RECV: {
      shmrpc_msg_t msg;
      rc = shmrpc_channel_recv(server, &msg, 0);
      if (rc == 1)
        check_message(&limits, &msg);
      break;
    }
    case OP_DISPATCH:
      rc = shmrpc_channel_dispatch(server, on_message, &limits, 0);
      break;
    case OP_SEND:
      bytes = fuzz_bytes(&in, fuzz_u8(&in), &n);
      rc = shmrpc_channel_try_send(server, fuzz_u8(&in) % 3, bytes, n);
      break;
    case OP_CLOSE_PEER:
      shmrpc_channel_close(&pair.client);
      break;
    }
    FUZZ_CHECK(expected_rc(rc));
  }
  /* Whatever is left is delivered or refused, never waited for. */
  for (int i = 0; i < 64; i++) {
    int rc = shmrpc_channel_dispatch(server, on_message, &limits, 0);
    FUZZ_CHECK(expected_rc(rc));
    if (rc <= 0)
      break;
  }
  fuzz_pair_free(&pair);
  return 0;
}
