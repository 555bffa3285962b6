/* The frame header parser (docs/PROTOCOL.md section 3): every 5 bytes
 * decode to a valid header or SHMRPC_EPROTO for a reserved type, and a
 * decoded header encodes back to the same bytes. */
#include <string.h>

#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (size_t at = 0; at + SHMRPC_FRAME_HEADER_BYTES <= size;
       at += SHMRPC_FRAME_HEADER_BYTES) {
    const uint8_t *raw = data + at;
    shmrpc_frame_header_t header;
    int rc = shmrpc_frame_header_decode(raw, &header);
    unsigned type = raw[0] & 0x7fu;
    FUZZ_CHECK((rc == 0) == shmrpc_frame_type_valid(type));
    if (rc != 0) {
      FUZZ_CHECK(rc == SHMRPC_EPROTO);
      continue;
    }
    FUZZ_CHECK(header.type == type);
    FUZZ_CHECK(header.more == ((raw[0] & SHMRPC_FRAME_MORE) != 0));
    uint8_t again[SHMRPC_FRAME_HEADER_BYTES];
    shmrpc_frame_header_encode(again, header.type, header.more, header.length);
    FUZZ_CHECK(memcmp(again, raw, sizeof again) == 0);
  }
  return 0;
}
