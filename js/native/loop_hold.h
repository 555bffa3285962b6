// LoopHold: whether a transport's libuv handle holds the event loop open,
// as JavaScript asks through two words it shares with the addon, so that
// the change at every call's start and end costs no call into the addon:
// 1. JavaScript stores 1 (hold) or 0 (release) into words[kWanted];
// 2. it calls keepAlive(true) only while words[kHeld] is 0, since the loop
//    must not end meanwhile (Set holds at once and stores 1 there);
// 3. a release waits for the loop's next prepare callback (LoopSpin calls
//    Settle), which runs before the loop would block or end; a call started
//    meanwhile finds the hold still there.
#ifndef SHMRPC_NATIVE_LOOP_HOLD_H
#define SHMRPC_NATIVE_LOOP_HOLD_H

#include <napi.h>

#include <cstdint>

namespace shmrpc {

class LoopHold {
 public:
  // Applies a hold (true) or a release on the transport's handle.
  using ApplyFn = void (*)(void* user, bool hold);
  static constexpr int kWanted = 0;  // written by JavaScript
  static constexpr int kHeld = 1;    // written by the addon

  LoopHold(Napi::Env env, ApplyFn apply, void* user);
  LoopHold(const LoopHold&) = delete;
  LoopHold& operator=(const LoopHold&) = delete;

  // The two words, as an Int32Array for JavaScript.
  Napi::Value Words(Napi::Env env);
  // keepAlive(active): applies at once.
  void Set(bool hold);
  // Releases the hold if JavaScript no longer wants it.
  void Settle();

 private:
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  int32_t* words_;  // in buffer_ (V8 never moves an ArrayBuffer's store)
  ApplyFn apply_;
  void* user_;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_LOOP_HOLD_H
