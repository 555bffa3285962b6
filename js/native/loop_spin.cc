#include "loop_spin.h"

#include <mutex>
#include <unordered_map>
#include <vector>

#include "wake_glue.h"

namespace shmrpc {
namespace {

// Wake-ups one prepare phase may deliver before it lets the loop poll:
// back-to-back calls otherwise keep the loop from timers and I/O.
constexpr unsigned kMaxWakesPerPrepare = 64;

}  // namespace

// The one uv_prepare handle of an event loop, which steps every LoopSpin
// on that loop. A handle per LoopSpin is not enough: JavaScript that one
// channel's wake-up runs (a reply on channel A starts a call on channel B)
// parks B's word with SPINNING, and if B's handle had already run in this
// prepare phase, the loop blocked with nobody spinning for B and nobody to
// wake it, until a timer or other I/O happened to end the poll (seconds).
// So the handle steps all of them again after any pass that ran
// JavaScript, until a pass runs none.
class LoopSpin::Watchers {
 public:
  static void Add(uv_loop_t* loop, LoopSpin* spin) {
    std::lock_guard<std::mutex> lock(mutex_);
    Watchers*& watchers = by_loop_[loop];
    if (watchers == nullptr) watchers = new Watchers(loop);
    watchers->spins_.push_back(spin);
    spin->watchers_ = watchers;
  }

  // Removes `spin` (its loop's thread); the handle goes with the last one.
  static void Remove(LoopSpin* spin) {
    Watchers* watchers = spin->watchers_;
    spin->watchers_ = nullptr;
    for (LoopSpin*& entry : watchers->spins_)
      if (entry == spin) entry = nullptr;
    if (!watchers->stepping_) watchers->Compact();
  }

 private:
  explicit Watchers(uv_loop_t* loop) : loop_(loop) {
    prepare_ = new uv_prepare_t;
    uv_prepare_init(loop, prepare_);
    prepare_->data = this;
    uv_prepare_start(prepare_, OnPrepare);
    uv_unref(reinterpret_cast<uv_handle_t*>(prepare_));
  }

  static void OnPrepare(uv_prepare_t* handle) {
    auto* self = static_cast<Watchers*>(handle->data);
    self->stepping_ = true;
    unsigned wakes = 0;
    bool ran;
    do {
      ran = false;
      // By index: a wake-up may add or remove entries.
      for (size_t i = 0; i < self->spins_.size(); i++) {
        while (self->spins_[i] != nullptr &&
               self->spins_[i]->Step(wakes >= kMaxWakesPerPrepare)) {
          wakes++;
          ran = true;
        }
      }
    } while (ran);
    // Whatever JavaScript did meanwhile, each hold follows its last wish
    // before the loop blocks (or ends).
    for (LoopSpin* spin : self->spins_)
      if (spin != nullptr) spin->hold_->Settle();
    self->stepping_ = false;
    self->Compact();
  }

  // Drops removed entries; closes the handle when none is left.
  void Compact() {
    std::vector<LoopSpin*> kept;
    for (LoopSpin* spin : spins_)
      if (spin != nullptr) kept.push_back(spin);
    spins_.swap(kept);
    if (!spins_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      by_loop_.erase(loop_);
    }
    uv_prepare_stop(prepare_);
    CloseHandle(prepare_);
    delete this;
  }

  // Event loops of worker threads have their own.
  static std::mutex mutex_;
  static std::unordered_map<uv_loop_t*, Watchers*> by_loop_;

  uv_loop_t* loop_;
  uv_prepare_t* prepare_;
  std::vector<LoopSpin*> spins_;
  bool stepping_ = false;
};

std::mutex LoopSpin::Watchers::mutex_;
std::unordered_map<uv_loop_t*, LoopSpin::Watchers*> LoopSpin::Watchers::by_loop_;

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

void LoopSpin::Start(uv_loop_t* loop) { Watchers::Add(loop, this); }

void LoopSpin::Close() {
  if (watchers_ != nullptr) Watchers::Remove(this);
}

bool LoopSpin::Step(bool yield) {
  if (!spins_) return false;
  switch (shmrpc_loop_watch_step(&watch_, yield)) {
    case SHMRPC_LOOP_IDLE:
    case SHMRPC_LOOP_PARKED:
      return false;
    case SHMRPC_LOOP_NEWS_LATER:
      // Timers and I/O go first: the loop polls without blocking, then
      // takes the wake-up.
      wake_soon_(user_);
      return false;
    case SHMRPC_LOOP_NEWS:
      // JavaScript drains the ring and may park the word again.
      wake_(user_);
      return true;
  }
  return false;
}

}  // namespace shmrpc
