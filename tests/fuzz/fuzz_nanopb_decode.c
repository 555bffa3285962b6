/* The generated nanopb decoders (every field a malloc'd pointer, 32-bit
 * field sizes) over arbitrary bytes: the first input byte picks a message
 * type of tests/proto/shmrpc/test or tests/services/rpc_test.proto, the
 * rest is decoded into a struct allocated at its exact size. A message
 * that decodes must encode, and its encoding must decode and encode again
 * to the same bytes; everything is released (LeakSanitizer checks). */
#include <stdlib.h>
#include <string.h>

#include <pb_decode.h>
#include <pb_encode.h>

#include "fuzz_support.h"
#include "rpc_test.pb.h"
#include "shmrpc/test/everything.pb.h"
#include "shmrpc/test/service.pb.h"

#define TYPE(name) {name##_fields, sizeof(name)}

static const struct {
  const pb_msgdesc_t *fields;
  size_t size;
} types[] = {
    TYPE(shmrpc_test_Everything), TYPE(shmrpc_test_Scalars),
    TYPE(shmrpc_test_Optionals),  TYPE(shmrpc_test_Repeateds),
    TYPE(shmrpc_test_Maps),       TYPE(shmrpc_test_Oneofs),
    TYPE(shmrpc_test_Outer),      TYPE(shmrpc_test_Tree),
    TYPE(shmrpc_test_Awkward),    TYPE(shmrpc_test_api_EchoRequest),
    TYPE(rpctest_EchoRequest),    TYPE(rpctest_EchoReply),
    TYPE(rpctest_CountRequest),   TYPE(rpctest_Stats),
};

/* Encodes `message` into a malloc'd buffer; *len gets its size. */
static uint8_t *encode(const pb_msgdesc_t *fields, const void *message,
                       size_t *len) {
  FUZZ_CHECK(pb_get_encoded_size(len, fields, message));
  uint8_t *buf = malloc(*len > 0 ? *len : 1);
  pb_ostream_t os = pb_ostream_from_buffer(buf, *len);
  FUZZ_CHECK(pb_encode(&os, fields, message));
  FUZZ_CHECK(os.bytes_written == *len);
  return buf;
}

/* Decodes into a fresh struct of exactly `size` bytes, or returns NULL
 * (nanopb has released what it allocated). */
static void *decode(const pb_msgdesc_t *fields, size_t size,
                    const uint8_t *data, size_t len) {
  void *message = calloc(1, size);
  pb_istream_t is = pb_istream_from_buffer(data, len);
  if (!pb_decode(&is, fields, message)) {
    free(message);
    return NULL;
  }
  return message;
}

static void release(const pb_msgdesc_t *fields, void *message) {
  pb_release(fields, message);
  free(message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  size_t pick = data[0] % (sizeof types / sizeof types[0]);
  const pb_msgdesc_t *fields = types[pick].fields;
  /* An exact-size copy, so that reading one byte past the input is seen. */
  uint8_t *input = malloc(size - 1 > 0 ? size - 1 : 1);
  memcpy(input, data + 1, size - 1);
  void *first = decode(fields, types[pick].size, input, size - 1);
  free(input);
  if (first == NULL)
    return 0;
  size_t len1, len2;
  uint8_t *bytes1 = encode(fields, first, &len1);
  void *second = decode(fields, types[pick].size, bytes1, len1);
  FUZZ_CHECK(second != NULL);
  uint8_t *bytes2 = encode(fields, second, &len2);
  FUZZ_CHECK(len1 == len2 && memcmp(bytes1, bytes2, len1) == 0);
  free(bytes1);
  free(bytes2);
  release(fields, first);
  release(fields, second);
  return 0;
}
