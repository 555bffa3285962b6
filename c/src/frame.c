/* Frame header encoding (docs/PROTOCOL.md section 3). */
#include "shmrpc/frame.h"

bool shmrpc_frame_type_valid(unsigned type) {
  return type == SHMRPC_TEXT || type == SHMRPC_BINARY ||
         type == SHMRPC_COMMAND;
}

void shmrpc_frame_header_encode(uint8_t out[5], uint8_t type, bool more,
                                uint32_t length) {
  out[0] = (uint8_t)((type & 0x7fu) | (more ? SHMRPC_FRAME_MORE : 0u));
  /* The length is big-endian: it belongs to the message format. */
  out[1] = (uint8_t)(length >> 24);
  out[2] = (uint8_t)(length >> 16);
  out[3] = (uint8_t)(length >> 8);
  out[4] = (uint8_t)length;
}

int shmrpc_frame_header_decode(const uint8_t in[5],
                               shmrpc_frame_header_t *out) {
  unsigned type = in[0] & 0x7fu;
  if (!shmrpc_frame_type_valid(type))
    return SHMRPC_EPROTO;
  out->type = (uint8_t)type;
  out->more = (in[0] & SHMRPC_FRAME_MORE) != 0;
  out->length = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
                (uint32_t)in[3] << 8 | (uint32_t)in[4];
  return 0;
}
