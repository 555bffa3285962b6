/* Helpers shared by the channel tests (test_channel.c, test_channel_close.c):
 * wait-word accessors, a thread that collects every message, and a thread
 * that sends one message (and may block on a full ring). */
#ifndef SHMRPC_TEST_CHANNEL_HELPERS_H
#define SHMRPC_TEST_CHANNEL_HELPERS_H

#include "test_support.h"

#define CAP 256u

static inline uint32_t *ring0_producer_wait(test_pair_t *pair) {
  return test_word(pair,
                   SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_PRODUCER_WAIT);
}

static inline uint32_t *ring0_consumer_wait(test_pair_t *pair) {
  return test_word(pair,
                   SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT);
}

typedef struct collector_s {
  shmrpc_channel_t *ch;
  size_t count;
  size_t bytes;
  uint8_t *last; /* copy of the last message */
  size_t last_len;
  uint8_t last_type;
  uint64_t checksum;
  int result; /* what ended the loop */
} collector_t;

/* A dispatch callback recording every message into a collector_t. */
void collect(void *user, const shmrpc_msg_t *msg);
/* Thread body: dispatches into the collector_t until the channel closes. */
void *collect_until_closed(void *arg);

typedef struct blocked_send_s {
  shmrpc_channel_t *ch;
  size_t len;
  int timeout_ms;
  int result;
} blocked_send_t;

/* Thread body: sends one zeroed BINARY message of b->len bytes. */
void *send_in_thread(void *arg);

#endif
