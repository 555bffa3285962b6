/* The WebAssembly backend of shmrpc_waiter_t (c/include/shmrpc/wait.h),
 * linked in place of wait_futex.c by the wasm32 build. A Worker sleeps in
 * memory.atomic.wait32 on the shared WebAssembly.Memory; memory.atomic.notify
 * wakes it, and wakes JavaScript too: V8 keeps one waiter list per address
 * for both, so a page parked in Atomics.waitAsync hears this notify and a
 * Worker parked here hears the page's Atomics.notify. */
#include "shmrpc/wait.h"

#if !defined(__wasm__)
#error "wait_wasm.c is the WebAssembly waiter; native builds link wait_futex.c"
#endif

static void wasm_wait(void *user, uint32_t *word, uint32_t expected,
                      uint64_t deadline_ns) {
  (void)user;
  /* wait32 takes a relative timeout in nanoseconds, -1 for none. */
  int64_t timeout = -1;
  if (deadline_ns != SHMRPC_DEADLINE_NEVER) {
    uint64_t now = shmrpc_now_ns();
    if (deadline_ns <= now)
      return;
    uint64_t left = deadline_ns - now;
    timeout = left > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)left;
  }
  (void)__builtin_wasm_memory_atomic_wait32((int32_t *)word, (int32_t)expected,
                                            timeout);
}

static void wasm_wake(void *user, uint32_t *word) {
  (void)user;
  (void)__builtin_wasm_memory_atomic_notify((int32_t *)word, UINT32_MAX);
}

static const shmrpc_waiter_t wasm_waiter = {wasm_wait, wasm_wake, NULL};

const shmrpc_waiter_t *shmrpc_default_waiter(void) { return &wasm_waiter; }
