/* The golden vectors of tests/vectors/channel/ (written by an independent
 * generator, tests/vectors/make_channel_vectors.py): the C encoder must
 * produce the same bytes and the C decoder must read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "test_support.h"

#define RING0_DATA SHMRPC_SEGMENT_HEADER_BYTES

/* Sends one message from a fresh client and compares the bytes that land
 * in ring 0 with the vector; then receives it on the server. */
static void check_frame_vector(const char *name, uint8_t type,
                               const void *payload, size_t len) {
  size_t vec_len;
  uint8_t *vec = test_read_vector(name, &vec_len);
  assert_int_equal(vec_len, 5 + len);
  test_pair_t pair;
  test_pair_open(&pair, 512, 64, NULL, NULL);
  assert_int_equal(
      shmrpc_channel_send(&pair.client, type, payload, len, 0), 0);
  assert_int_equal(*test_word(&pair, SHMRPC_OFF_RING0_CONTROL), vec_len);
  assert_memory_equal(pair.mem + RING0_DATA, vec, vec_len);
  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&pair.server, &msg, 0), 1);
  assert_int_equal(msg.type, type);
  assert_int_equal(msg.len, len);
  if (len > 0)
    assert_memory_equal(msg.data, vec + 5, len);
  test_pair_free(&pair);
  free(vec);
}

static void vectors_frame_text_hi(void **state) {
  (void)state;
  check_frame_vector("channel/frame_text_hi.bin", SHMRPC_TEXT, "hi", 2);
}

static void vectors_frame_text_utf8(void **state) {
  (void)state;
  const char *text = "h\xc3\xa9llo \xe2\x9c\x93"; /* "héllo ✓" */
  check_frame_vector("channel/frame_text_utf8.bin", SHMRPC_TEXT, text,
                     strlen(text));
}

static void vectors_frame_binary_empty(void **state) {
  (void)state;
  check_frame_vector("channel/frame_binary_empty.bin", SHMRPC_BINARY, NULL, 0);
}

static void vectors_frame_binary_256(void **state) {
  (void)state;
  uint8_t payload[256];
  for (int i = 0; i < 256; i++)
    payload[i] = (uint8_t)i;
  check_frame_vector("channel/frame_binary_256.bin", SHMRPC_BINARY, payload,
                     sizeof payload);
}

static void vectors_frame_command(void **state) {
  (void)state;
  const uint8_t payload[] = {1, 2, 3};
  check_frame_vector("channel/frame_command.bin", SHMRPC_COMMAND, payload,
                     sizeof payload);
}

#ifndef __wasm__ /* needs a second thread: native builds only */
static void *send_100_bytes(void *arg) {
  shmrpc_channel_t *client = arg;
  uint8_t payload[100];
  for (int i = 0; i < 100; i++)
    payload[i] = (uint8_t)i;
  intptr_t rc =
      shmrpc_channel_send(client, SHMRPC_BINARY, payload, sizeof payload, 5000);
  return (void *)rc;
}

/* The sender's fragment split, captured raw from the ring as the server
 * side drains it. */
static void vectors_fragments_binary_100_cap64_encode(void **state) {
  (void)state;
  size_t vec_len;
  uint8_t *vec = test_read_vector("channel/fragments_binary_100_cap64.bin",
                                  &vec_len);
  assert_int_equal(vec_len, 150);
  test_pair_t pair;
  test_pair_open(&pair, 64, 64, NULL, NULL);
  pthread_t sender;
  test_thread_start(&sender, send_100_bytes, &pair.client);
  uint8_t stream[150];
  size_t got = 0;
  double give_up = test_now_ms() + 5000;
  shmrpc_ring_t *rx = &pair.server.rx;
  while (got < sizeof stream && test_now_ms() < give_up) {
    int64_t avail = shmrpc_ring_readable(rx);
    assert_true(avail >= 0 && got + (size_t)avail <= sizeof stream);
    if (avail == 0)
      continue;
    shmrpc_ring_peek(rx, 0, stream + got, (uint32_t)avail);
    shmrpc_ring_consume(rx, (uint32_t)avail);
    shmrpc_wake(rx->shared_producer_wait, &pair.server.parking);
    got += (size_t)avail;
  }
  void *rc;
  pthread_join(sender, &rc);
  assert_int_equal((intptr_t)rc, 0);
  assert_int_equal(got, 150);
  assert_memory_equal(stream, vec, 150);
  test_pair_free(&pair);
  free(vec);
}
#endif

/* The vector's frames, published into a 64-byte ring a ring-full at a
 * time, reassemble into payload 0..99. */
static void vectors_fragments_binary_100_cap64_decode(void **state) {
  (void)state;
  size_t vec_len;
  uint8_t *vec = test_read_vector("channel/fragments_binary_100_cap64.bin",
                                  &vec_len);
  test_pair_t pair;
  test_pair_open(&pair, 64, 64, NULL, NULL);
  shmrpc_msg_t msg;
  size_t done = 0;
  int delivered = 0;
  while (done < vec_len) {
    /* Whole 16-byte fragment frames (the last is 6 bytes), up to 64. */
    size_t chunk = vec_len - done < 64 ? vec_len - done : 64;
    shmrpc_ring_write(&pair.client.tx, vec + done, (uint32_t)chunk);
    shmrpc_ring_publish(&pair.client.tx);
    done += chunk;
    delivered = shmrpc_channel_recv(&pair.server, &msg, 0);
    assert_int_equal(delivered, done < vec_len ? 0 : 1);
  }
  assert_int_equal(msg.type, SHMRPC_BINARY);
  assert_int_equal(msg.len, 100);
  for (int i = 0; i < 100; i++)
    assert_int_equal(msg.data[i], i);
  test_pair_free(&pair);
  free(vec);
}

static void vectors_segment_init_64_128(void **state) {
  (void)state;
  size_t vec_len;
  uint8_t *vec = test_read_vector("channel/segment_init_64_128.bin", &vec_len);
  size_t size = shmrpc_segment_size(64, 128);
  assert_int_equal(vec_len, size);
  uint8_t *mem = test_segment_alloc(size);
  memset(mem, 0x5A, size);
  assert_int_equal(shmrpc_segment_init(mem, size, 64, 128), 0);
  assert_memory_equal(mem, vec, size);
  free(mem);
  free(vec);
}

/* Ring 0 holds BINARY 20..39, whose frame wraps the data end (delivered
 * from a private copy), then TEXT "wrap-around!" (delivered in place). */
static void vectors_segment_64_wrapped_receive(void **state) {
  (void)state;
  size_t size;
  uint8_t *vec = test_read_vector("channel/segment_64_wrapped.bin", &size);
  uint8_t *mem = test_segment_alloc(size);
  memcpy(mem, vec, size);
  shmrpc_channel_t server;
  assert_int_equal(
      shmrpc_channel_open(&server, mem, size, SHMRPC_SIDE_SERVER, NULL), 0);

  shmrpc_msg_t msg;
  assert_int_equal(shmrpc_channel_recv(&server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_BINARY);
  assert_int_equal(msg.len, 20);
  for (int i = 0; i < 20; i++)
    assert_int_equal(msg.data[i], 20 + i);
  assert_true(msg.data < mem || msg.data >= mem + size);

  assert_int_equal(shmrpc_channel_recv(&server, &msg, 0), 1);
  assert_int_equal(msg.type, SHMRPC_TEXT);
  assert_int_equal(msg.len, 12);
  assert_memory_equal(msg.data, "wrap-around!", 12);
  assert_ptr_equal(msg.data, mem + RING0_DATA + (75 + 5) % 64);

  assert_int_equal(shmrpc_channel_recv(&server, &msg, 0), 0);
  uint32_t head;
  memcpy(&head, mem + SHMRPC_OFF_RING0_CONTROL + SHMRPC_RING_OFF_HEAD, 4);
  assert_int_equal(head, 92);
  shmrpc_channel_close(&server);
  shmrpc_channel_destroy(&server);
  free(mem);
  free(vec);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vectors_frame_text_hi),
      cmocka_unit_test(vectors_frame_text_utf8),
      cmocka_unit_test(vectors_frame_binary_empty),
      cmocka_unit_test(vectors_frame_binary_256),
      cmocka_unit_test(vectors_frame_command),
#ifndef __wasm__
      cmocka_unit_test(vectors_fragments_binary_100_cap64_encode),
#endif
      cmocka_unit_test(vectors_fragments_binary_100_cap64_decode),
      cmocka_unit_test(vectors_segment_init_64_128),
      cmocka_unit_test(vectors_segment_64_wrapped_receive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
