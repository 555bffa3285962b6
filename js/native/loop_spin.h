// LoopSpin: the uv_prepare glue of the C core's event-loop spin
// (shmrpc_loop_watch_step, c/include/shmrpc/wait.h; wait value 3 in
// docs/PROTOCOL.md section 4). When JavaScript waits for the service in its
// event loop it parks its consumer wait word with 3 (SPINNING); just before
// the loop would block, this handle lets the core watch the ring for the
// budget, and runs the wake callback when something arrived. Only when the
// budget runs out does the core park the word with 2, and the loop blocks
// until the service wakes it through uv_async. One prepare handle per
// event loop steps every LoopSpin on it (LoopSpin::Watchers, loop_spin.cc).
#ifndef SHMRPC_NATIVE_LOOP_SPIN_H
#define SHMRPC_NATIVE_LOOP_SPIN_H

#include <uv.h>

#include <cstdint>

#include "loop_hold.h"
#include "shmrpc/wait.h"

namespace shmrpc {

class LoopSpin {
 public:
  using WakeFn = void (*)(void* user);

  // `segment` is the client's view of the shared segment; `wake` runs on the
  // loop thread when the service has published something (or left OPEN),
  // and `wake_soon` makes the loop run it after its next poll instead.
  // `hold` (not owned; it outlives the LoopSpin) is settled at the end of
  // every prepare callback.
  LoopSpin(uint8_t* segment, uint32_t spin_ns, bool spin_fixed, WakeFn wake,
           WakeFn wake_soon, void* user, LoopHold* hold);
  // Stops watching: the loop's handle must never call into a freed LoopSpin.
  ~LoopSpin() { Close(); }
  LoopSpin(const LoopSpin&) = delete;
  LoopSpin& operator=(const LoopSpin&) = delete;

  // Starts watching before each blocking poll of `loop` (the spin only
  // with a budget); the loop's handle does not keep the loop alive.
  void Start(uv_loop_t* loop);
  // Stops watching (on the loop's thread); the loop's handle goes with
  // the last LoopSpin on it.
  void Close();
  // Whether JavaScript may park its consumer with SPINNING.
  bool Active() const { return watchers_ != nullptr && spins_; }
  // The peer woke the loop (its uv_async or eventfd): ends a parked wait
  // for the spin policy.
  void Woken() { shmrpc_loop_watch_woken(&watch_); }
  // The loop spin's policy: its budget and its waits (for stats).
  const shmrpc_spin_policy_t& Policy() const { return watch_.spin; }

 private:
  class Watchers;
  // One step of the core's loop watch (`yield`: spin no more, let the loop
  // poll first); true when it ran the wake callback, that is JavaScript.
  bool Step(bool yield);

  shmrpc_loop_watch_t watch_;
  bool spins_;
  WakeFn wake_;
  WakeFn wake_soon_;
  void* user_;
  LoopHold* hold_;
  Watchers* watchers_ = nullptr;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_LOOP_SPIN_H
