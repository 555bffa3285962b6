// LoopSpin: spin-then-park for the JavaScript side of an in-process
// channel, in the event loop. Waking a loop that sleeps costs the service a
// uv_async_send and the loop a wake-up (microseconds on a VM), while a
// service that is spinning answers in well under one. So when JavaScript
// waits for the service in its event loop, it parks its consumer wait word
// with 3 (SPINNING, docs/PROTOCOL.md section 4), which the service does not
// wake; just before the loop would block (a uv_prepare handle), LoopSpin
// takes the word to 0 and watches the ring for up to its budget. When the
// service's message arrives it runs the wake callback itself; only when the
// budget runs out does it park the word with 2 and let the loop block until
// the service wakes it.
#ifndef SHMRPC_NATIVE_LOOP_SPIN_H
#define SHMRPC_NATIVE_LOOP_SPIN_H

#include <uv.h>

#include <cstdint>

namespace shmrpc {

class LoopSpin {
 public:
  using WakeFn = void (*)(void* user);

  // `segment` is the client's view of the shared segment; `wake` runs on the
  // loop thread when the service has published something (or closed), and
  // `wake_soon` makes the loop run it after its next poll instead.
  LoopSpin(uint8_t* segment, uint32_t spin_ns, WakeFn wake, WakeFn wake_soon,
           void* user);
  // Closes the handle: libuv must never call into a freed LoopSpin.
  ~LoopSpin() { Close(); }
  LoopSpin(const LoopSpin&) = delete;
  LoopSpin& operator=(const LoopSpin&) = delete;

  // Starts watching before each blocking poll of `loop`; the handle does
  // not keep the loop alive. No-op for a zero budget.
  void Start(uv_loop_t* loop);
  // Stops and closes the handle (it frees itself once libuv is done).
  void Close();
  // Whether JavaScript may park its consumer with SPINNING.
  bool Active() const { return prepare_ != nullptr; }

 private:
  static void OnPrepare(uv_prepare_t* handle);
  bool HasNews() const;
  bool SpinForNews() const;

  uint32_t* wait_word_;        // the client's consumer wait word (ring 1)
  const uint32_t* tail_;       // ring 1: what the service published
  const uint32_t* head_;       // ring 1: what the client consumed
  const uint32_t* peer_state_; // the service's state word
  uint32_t spin_ns_;
  WakeFn wake_;
  WakeFn wake_soon_;
  void* user_;
  uv_prepare_t* prepare_ = nullptr;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_LOOP_SPIN_H
