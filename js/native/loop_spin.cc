#include "loop_spin.h"

namespace shmrpc {
namespace {

// Wake-ups one prepare callback may deliver before it lets the loop poll:
// back-to-back calls otherwise keep the loop from timers and I/O.
constexpr unsigned kMaxWakesPerPrepare = 64;

}  // namespace

LoopSpin::LoopSpin(uint8_t* segment, uint32_t spin_ns, bool spin_fixed,
                   WakeFn wake, WakeFn wake_soon, void* user, LoopHold* hold)
    : spins_(spin_ns > 0),
      wake_(wake),
      wake_soon_(wake_soon),
      user_(user),
      hold_(hold) {
  shmrpc_loop_watch_init(&watch_, segment, SHMRPC_SIDE_CLIENT, spin_ns,
                         spin_fixed);
}

void LoopSpin::Start(uv_loop_t* loop) {
  prepare_ = new uv_prepare_t;
  uv_prepare_init(loop, prepare_);
  prepare_->data = this;
  uv_prepare_start(prepare_, OnPrepare);
  uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
}

void LoopSpin::Close() {
  if (prepare_ == nullptr) return;
  uv_prepare_stop(prepare_);
  uv_close(reinterpret_cast<uv_handle_t*>(prepare_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_prepare_t*>(h); });
  prepare_ = nullptr;
}

void LoopSpin::OnPrepare(uv_prepare_t* handle) {
  auto* self = static_cast<LoopSpin*>(handle->data);
  if (self->spins_) self->Watch();
  // Whatever JavaScript did meanwhile, the hold follows its last wish
  // before the loop blocks (or ends).
  if (self->prepare_ != nullptr) self->hold_->Settle();
}

void LoopSpin::Watch() {
  for (unsigned wakes = 0;; wakes++) {
    switch (shmrpc_loop_watch_step(&watch_, wakes == kMaxWakesPerPrepare)) {
      case SHMRPC_LOOP_IDLE:
      case SHMRPC_LOOP_PARKED:
        return;
      case SHMRPC_LOOP_NEWS_LATER:
        // Timers and I/O go first: the loop polls without blocking, then
        // takes the wake-up.
        wake_soon_(user_);
        return;
      case SHMRPC_LOOP_NEWS:
        // JavaScript drains the ring and may park the word again: look again.
        wake_(user_);
        if (prepare_ == nullptr) return;  // closed by the callback
        break;
    }
  }
}

}  // namespace shmrpc
