#include "loop_spin.h"

#include <time.h>

#include "shmrpc/segment.h"

namespace shmrpc {
namespace {

// Wake-ups one prepare callback may deliver before it lets the loop poll:
// back-to-back calls otherwise keep the loop from timers and I/O.
constexpr unsigned kMaxWakesPerPrepare = 64;
// Ring polls between two clock reads.
constexpr unsigned kPollsPerClockRead = 64;

uint64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

// Tells the CPU this is a spin-wait loop (as c/src/park.c does).
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

uint32_t Load(const uint32_t* word) {
  return __atomic_load_n(word, __ATOMIC_SEQ_CST);
}

// Takes the word from `from` to `to`; false if it held something else.
bool Exchange(uint32_t* word, uint32_t from, uint32_t to) {
  return __atomic_compare_exchange_n(word, &from, to, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST);
}

uint32_t* Word(uint8_t* segment, uint32_t offset) {
  return reinterpret_cast<uint32_t*>(segment + offset);
}

}  // namespace

LoopSpin::LoopSpin(uint8_t* segment, uint32_t spin_ns, WakeFn wake,
                   WakeFn wake_soon, void* user)
    : wait_word_(Word(segment, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_CONSUMER_WAIT)),
      tail_(Word(segment, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_TAIL)),
      head_(Word(segment, SHMRPC_OFF_RING1_CONTROL + SHMRPC_RING_OFF_HEAD)),
      peer_state_(Word(segment, SHMRPC_OFF_SERVER_STATE)),
      spin_ns_(spin_ns),
      wake_(wake),
      wake_soon_(wake_soon),
      user_(user) {}

void LoopSpin::Start(uv_loop_t* loop) {
  if (spin_ns_ == 0) return;
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

// A parked client has consumed (and handed back) everything, so any
// difference between tail and head is new; a service that ended is news too.
bool LoopSpin::HasNews() const {
  if (Load(tail_) != Load(head_)) return true;
  uint32_t peer = Load(peer_state_);
  return peer == SHMRPC_STATE_CLOSED || peer == SHMRPC_STATE_FAILED;
}

bool LoopSpin::SpinForNews() const {
  uint64_t start = 0;
  for (unsigned i = 1;; i++) {
    CpuRelax();
    if (HasNews()) return true;
    if (i % kPollsPerClockRead == 0) {
      uint64_t now = NowNs();
      if (start == 0) start = now;
      if (now - start >= spin_ns_) return false;
    }
  }
}

void LoopSpin::OnPrepare(uv_prepare_t* handle) {
  auto* self = static_cast<LoopSpin*>(handle->data);
  for (unsigned wakes = 0;; wakes++) {
    // Not waiting for the service (or parked for good after a spin): the
    // loop has other work, or the service's uv_async is on its way.
    if (!Exchange(self->wait_word_, SHMRPC_WAIT_SPINNING, SHMRPC_WAIT_NONE)) return;
    bool yield = wakes == kMaxWakesPerPrepare;
    if (yield || !self->SpinForNews()) {
      // Park for good: store, then look once more, as any parker does. If
      // the service took the word back meanwhile, its uv_async wakes us.
      __atomic_store_n(self->wait_word_, SHMRPC_WAIT_LOOP, __ATOMIC_SEQ_CST);
      if (!self->HasNews() ||
          !Exchange(self->wait_word_, SHMRPC_WAIT_LOOP, SHMRPC_WAIT_NONE))
        return;
      if (yield) {
        // Something is there, but timers and I/O go first: the loop polls
        // without blocking and then takes the wake-up.
        self->wake_soon_(self->user_);
        return;
      }
    }
    // JavaScript drains the ring and may park the word again: then spin on.
    self->wake_(self->user_);
    if (self->prepare_ == nullptr) return;  // closed by the callback
  }
}

}  // namespace shmrpc
