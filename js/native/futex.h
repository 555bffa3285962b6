// futex wait/wake on a 32-bit word of the shared segment. Shared (not
// PRIVATE) operations, so a waiter in another process is woken too.
#ifndef SHMRPC_NATIVE_FUTEX_H
#define SHMRPC_NATIVE_FUTEX_H

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace shmrpc {

inline void FutexWakeAll(uint32_t* word) {
  syscall(SYS_futex, word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0);
}

// Sleeps while *word == expected, at most timeout_ms (< 0: no limit).
// Returns false only when the timeout expired.
inline bool FutexWait(uint32_t* word, uint32_t expected, double timeout_ms) {
  struct timespec ts;
  struct timespec* limit = nullptr;
  if (timeout_ms >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ms / 1000);
    ts.tv_nsec = static_cast<long>((timeout_ms - ts.tv_sec * 1000.0) * 1e6);
    limit = &ts;
  }
  long rc = syscall(SYS_futex, word, FUTEX_WAIT, expected, limit, nullptr, 0);
  return !(rc == -1 && errno == ETIMEDOUT);
}

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_FUTEX_H
