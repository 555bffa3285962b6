/* The host side of a service compiled to WebAssembly: what the Worker's
 * JavaScript calls (js/src/wasm/wasm-host.ts). It plays the part the Node
 * addon plays natively: it makes the segment in this module's memory (so
 * the C heap never overlaps it), then runs the service's shmrpc_serve on
 * the Worker's one thread until the client closes the channel.
 *
 * Linked into every module that shmrpc_wasm_service() builds, beside the
 * user's service library (which defines shmrpc_serve, usually with
 * SHMRPC_SERVICE_LIBRARY). */
#include <stdlib.h>

#include "shmrpc/host.h"

#define WASM_EXPORT(name) __attribute__((export_name(name)))

/* The service library's entry point (shmrpc/host.h). */
int shmrpc_serve(const shmrpc_host_t *host);

/* A new segment with these ring capacities (powers of two, see
 * shmrpc_segment_size), formatted and 64-byte aligned in this module's
 * memory; its address is its byte offset in the memory's buffer. Returns 0
 * for a bad capacity or when memory is short. */
WASM_EXPORT("shmrpc_wasm_segment_create")
uintptr_t shmrpc_wasm_segment_create(uint32_t capacity_c2s,
                                     uint32_t capacity_s2c) {
  size_t size = shmrpc_segment_size(capacity_c2s, capacity_s2c);
  if (size == 0)
    return 0;
  void *mem = aligned_alloc(64, size);
  if (mem == NULL)
    return 0;
  if (shmrpc_segment_init(mem, size, capacity_c2s, capacity_s2c) != 0) {
    free(mem);
    return 0;
  }
  return (uintptr_t)mem;
}

/* The bytes of the segment at `segment` (its header's record). */
WASM_EXPORT("shmrpc_wasm_segment_size")
uint32_t shmrpc_wasm_segment_size(uintptr_t segment) {
  const uint32_t *words = (const uint32_t *)segment;
  return words[SHMRPC_OFF_SEGMENT_BYTES / 4];
}

/* Releases a segment once the service returned. */
WASM_EXPORT("shmrpc_wasm_segment_free")
void shmrpc_wasm_segment_free(uintptr_t segment) { free((void *)segment); }

/* Serves the segment as the server side until the client closes it (or
 * the service stops): returns what shmrpc_serve returned (0 after an
 * orderly close, else a negative SHMRPC_E* code). Blocks the Worker: it
 * parks in memory.atomic.wait32 between messages. */
WASM_EXPORT("shmrpc_wasm_serve")
int shmrpc_wasm_serve(uintptr_t segment, uint32_t spin_ns) {
  shmrpc_host_t host = {
      .abi_version = SHMRPC_HOST_ABI_VERSION,
      .segment = (void *)segment,
      .segment_size = shmrpc_wasm_segment_size(segment),
      .spin_ns = spin_ns,
      /* The client parks in its event loop with Atomics.waitAsync, which
       * memory.atomic.notify (the waiter's wake) reaches. */
      .wake_loop = NULL,
      .wake_loop_user = NULL,
      .config = NULL,
      .peer = "wasm-worker",
  };
  return shmrpc_serve(&host);
}
