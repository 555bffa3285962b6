/* The SPSC byte ring (docs/PROTOCOL.md section 2): a producer view and a
 * consumer view over one control block and one data area. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_support.h"

#define CAP 64u

typedef struct fixture_s {
  uint8_t *control; /* SHMRPC_RING_CONTROL_BYTES */
  uint8_t *data;    /* exactly CAP bytes: ASan flags any byte past it */
  shmrpc_ring_t producer;
  shmrpc_ring_t consumer;
} fixture_t;

static uint32_t *shared_u32(fixture_t *f, uint32_t offset) {
  return (uint32_t *)(void *)(f->control + offset);
}

/* Sets both shared indices to `start`, then attaches both views. */
static void attach_at(fixture_t *f, uint32_t start) {
  memset(f->control, 0, SHMRPC_RING_CONTROL_BYTES);
  *shared_u32(f, SHMRPC_RING_OFF_TAIL) = start;
  *shared_u32(f, SHMRPC_RING_OFF_HEAD) = start;
  assert_int_equal(shmrpc_ring_init(&f->producer, f->control, f->data, CAP), 0);
  assert_int_equal(shmrpc_ring_init(&f->consumer, f->control, f->data, CAP), 0);
}

static int setup(void **state) {
  fixture_t *f = calloc(1, sizeof *f);
  f->control = test_segment_alloc(SHMRPC_RING_CONTROL_BYTES);
  f->data = test_segment_alloc(CAP);
  memset(f->data, 0, CAP);
  attach_at(f, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  free(f->control);
  free(f->data);
  free(f);
  return 0;
}

static void ring_init_rejects_bad_arguments(void **state) {
  fixture_t *f = *state;
  shmrpc_ring_t ring;
  assert_int_equal(shmrpc_ring_init(NULL, f->control, f->data, CAP),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_ring_init(&ring, NULL, f->data, CAP), SHMRPC_EINVAL);
  assert_int_equal(shmrpc_ring_init(&ring, f->control, NULL, CAP),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_ring_init(&ring, f->control + 2, f->data, CAP),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_ring_init(&ring, f->control, f->data, 48),
                   SHMRPC_EINVAL);
  assert_int_equal(shmrpc_ring_init(&ring, f->control, f->data, 32),
                   SHMRPC_EINVAL);
}

static void ring_empty(void **state) {
  fixture_t *f = *state;
  assert_int_equal(shmrpc_ring_readable(&f->consumer), 0);
  assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
}

static void ring_full(void **state) {
  fixture_t *f = *state;
  uint8_t buf[CAP];
  test_fill(buf, CAP, 1);
  shmrpc_ring_write(&f->producer, buf, CAP);
  assert_int_equal(shmrpc_ring_writable(&f->producer), 0);
  shmrpc_ring_publish(&f->producer);
  assert_int_equal(*shared_u32(f, SHMRPC_RING_OFF_TAIL), CAP);
  assert_int_equal(shmrpc_ring_readable(&f->consumer), CAP);
  const uint8_t *span = shmrpc_ring_span(&f->consumer, 0, CAP);
  assert_ptr_equal(span, f->data);
  assert_memory_equal(span, buf, CAP);
  shmrpc_ring_consume(&f->consumer, CAP);
  assert_int_equal(*shared_u32(f, SHMRPC_RING_OFF_HEAD), CAP);
  assert_int_equal(shmrpc_ring_readable(&f->consumer), 0);
  assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
}

static void ring_unpublished_bytes_are_invisible(void **state) {
  fixture_t *f = *state;
  uint8_t buf[10] = {0};
  shmrpc_ring_write(&f->producer, buf, sizeof buf);
  assert_int_equal(shmrpc_ring_writable(&f->producer), CAP - 10);
  assert_int_equal(shmrpc_ring_readable(&f->consumer), 0);
  assert_int_equal(*shared_u32(f, SHMRPC_RING_OFF_TAIL), 0);
  shmrpc_ring_publish(&f->producer);
  assert_int_equal(shmrpc_ring_readable(&f->consumer), 10);
}

/* For every start offset and several lengths: write, publish, read back
 * through peek and span, consume. Spans exist exactly when the bytes do
 * not wrap. */
static void ring_wrap_around_at_every_offset(void **state) {
  fixture_t *f = *state;
  const uint32_t lengths[] = {1, 2, 5, 7, 31, 32, 63, 64};
  for (uint32_t start = 0; start < 2 * CAP; start++) {
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
      uint32_t len = lengths[i];
      uint8_t in[CAP], out[CAP];
      test_fill(in, len, start * 100 + len);
      attach_at(f, start);
      assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
      shmrpc_ring_write(&f->producer, in, len);
      shmrpc_ring_publish(&f->producer);
      assert_int_equal(shmrpc_ring_readable(&f->consumer), len);
      shmrpc_ring_peek(&f->consumer, 0, out, len);
      assert_memory_equal(out, in, len);
      uint32_t at = start % CAP;
      bool wraps = at + len > CAP;
      const uint8_t *span = shmrpc_ring_span(&f->consumer, 0, len);
      if (wraps) {
        assert_null(span);
        assert_memory_equal(f->data + at, in, CAP - at);
        assert_memory_equal(f->data, in + (CAP - at), len - (CAP - at));
      } else {
        assert_ptr_equal(span, f->data + at);
        assert_memory_equal(span, in, len);
      }
      /* A peek at an offset inside the published bytes. */
      if (len > 3) {
        shmrpc_ring_peek(&f->consumer, 3, out, len - 3);
        assert_memory_equal(out, in + 3, len - 3);
      }
      shmrpc_ring_consume(&f->consumer, len);
      assert_int_equal(shmrpc_ring_readable(&f->consumer), 0);
      assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
    }
  }
}

/* The counters are free-running: crossing 2^32 changes nothing. */
static void ring_counters_wrap_past_u32_max(void **state) {
  fixture_t *f = *state;
  attach_at(f, UINT32_MAX - 20);
  for (uint32_t round = 0; round < 10; round++) {
    uint8_t in[13], out[13];
    test_fill(in, sizeof in, round);
    shmrpc_ring_write(&f->producer, in, sizeof in);
    shmrpc_ring_publish(&f->producer);
    assert_int_equal(shmrpc_ring_readable(&f->consumer), sizeof in);
    shmrpc_ring_peek(&f->consumer, 0, out, sizeof out);
    assert_memory_equal(out, in, sizeof in);
    shmrpc_ring_consume(&f->consumer, sizeof in);
    assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
  }
  assert_int_equal(*shared_u32(f, SHMRPC_RING_OFF_TAIL),
                   (uint32_t)(UINT32_MAX - 20 + 130));
}

static void ring_tail_beyond_capacity_is_protocol_error(void **state) {
  fixture_t *f = *state;
  *shared_u32(f, SHMRPC_RING_OFF_TAIL) = CAP + 1;
  assert_int_equal(shmrpc_ring_readable(&f->consumer), SHMRPC_EPROTO);
  *shared_u32(f, SHMRPC_RING_OFF_TAIL) = CAP;
  assert_int_equal(shmrpc_ring_readable(&f->consumer), CAP);
}

static void ring_tail_behind_head_is_protocol_error(void **state) {
  fixture_t *f = *state;
  attach_at(f, 1000);
  *shared_u32(f, SHMRPC_RING_OFF_TAIL) = 999;
  assert_int_equal(shmrpc_ring_readable(&f->consumer), SHMRPC_EPROTO);
}

static void ring_head_moved_backwards_is_protocol_error(void **state) {
  fixture_t *f = *state;
  attach_at(f, 1000);
  uint8_t buf[40] = {0};
  shmrpc_ring_write(&f->producer, buf, sizeof buf);
  shmrpc_ring_publish(&f->producer);
  shmrpc_ring_consume(&f->consumer, sizeof buf);
  assert_int_equal(shmrpc_ring_writable(&f->producer), CAP);
  /* The consumer claims to have consumed less than before: more than a
   * ring's worth would be in use. */
  *shared_u32(f, SHMRPC_RING_OFF_HEAD) = 1040 - CAP - 1;
  assert_int_equal(shmrpc_ring_writable(&f->producer), SHMRPC_EPROTO);
}

static void ring_head_ahead_of_tail_is_protocol_error(void **state) {
  fixture_t *f = *state;
  uint8_t buf[8] = {0};
  shmrpc_ring_write(&f->producer, buf, sizeof buf);
  shmrpc_ring_publish(&f->producer);
  /* Unpublished bytes cannot have been consumed either. */
  shmrpc_ring_write(&f->producer, buf, sizeof buf);
  *shared_u32(f, SHMRPC_RING_OFF_HEAD) = 12;
  assert_int_equal(shmrpc_ring_writable(&f->producer), SHMRPC_EPROTO);
  *shared_u32(f, SHMRPC_RING_OFF_HEAD) = 8;
  assert_int_equal(shmrpc_ring_writable(&f->producer), CAP - 8);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(ring_init_rejects_bad_arguments),
      T(ring_empty),
      T(ring_full),
      T(ring_unpublished_bytes_are_invisible),
      T(ring_wrap_around_at_every_offset),
      T(ring_counters_wrap_past_u32_max),
      T(ring_tail_beyond_capacity_is_protocol_error),
      T(ring_tail_behind_head_is_protocol_error),
      T(ring_head_moved_backwards_is_protocol_error),
      T(ring_head_ahead_of_tail_is_protocol_error),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}
