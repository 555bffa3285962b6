// ServiceHost: runs a C service library (see c/include/shmrpc/host.h) on a
// native thread over a SharedArrayBuffer that JavaScript created, and wires
// the wake-ups between that thread and the JavaScript event loop. It is glue
// only: the protocol lives in the C library and the TypeScript runtime.
//
// Lifetime. What the thread uses (the segment's memory, the library, the
// host struct) lives in a ServiceThread that the thread and the JavaScript
// wrapper own together, so JavaScript may let go of a service whose thread
// has not returned (close()'s grace period passed, the environment ends)
// without the thread ever touching freed memory. The wrapper holds the
// JavaScript wake callback and the libuv handles only until release():
// after that nothing native refers to JavaScript objects, and a closed
// service is collected like any object.
#ifndef SHMRPC_NATIVE_SERVICE_HOST_H
#define SHMRPC_NATIVE_SERVICE_HOST_H

#include <napi.h>
#include <uv.h>
#include <v8.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "loop_spin.h"
#include "shmrpc/host.h"
#include "shmrpc/wait.h"

namespace shmrpc {

// What the service thread needs, owned jointly by the thread and the
// wrapper: freed (the library closed, the segment's memory let go) when
// the last of them is done.
struct ServiceThread {
  ~ServiceThread();

  // Keeps the SharedArrayBuffer's memory alive without keeping the
  // JavaScript object alive (V8 frees it with the last owner).
  std::shared_ptr<v8::BackingStore> memory;
  uint8_t* segment = nullptr;
  size_t segment_size = 0;
  std::string config;
  void* library = nullptr;
  shmrpc_host_t host{};
  // How the host wakes sleepers: futex, and the event loop via uv_async.
  shmrpc_parking_t parking{};
  std::atomic<bool> running{false};
  std::atomic<uint64_t> loop_wake_ups{0};  // uv_async_sends by the service
  // The service's return value; SHMRPC_EPEERDEAD while it has not returned
  // (it stays so for a thread that ended by pthread_exit). Written before
  // `running` turns false.
  int exit_code = SHMRPC_EPEERDEAD;

  // Guards `async` (the thread sends, the loop thread closes it) and
  // signals `ended`.
  std::mutex mutex;
  std::condition_variable ended;
  uv_async_t* async = nullptr;  // null once the loop side let go

  // Runs OnAsync on the loop thread, unless JavaScript let go.
  void WakeLoop();
};

class ServiceHost : public Napi::ObjectWrap<ServiceHost> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new ServiceHost(segment: Uint8Array over a SharedArrayBuffer,
  //                 library: string, onWake: () => void,
  //                 options?: { spinMicros?: number, spinFixed?: boolean,
  //                             loopSpinMicros?: number, config?: string,
  //                             cpu?: number })
  explicit ServiceHost(const Napi::CallbackInfo& info);
  ~ServiceHost() override;

 private:
  // JS methods.
  Napi::Value Ring(const Napi::CallbackInfo& info);       // (byteOffset)
  Napi::Value Wait(const Napi::CallbackInfo& info);       // (byteOffset, expected, timeoutMs) -> bool
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);  // (active)
  Napi::Value HoldWords(const Napi::CallbackInfo& info);  // Int32Array (loop_hold.h)
  Napi::Value Join(const Napi::CallbackInfo& info);       // () -> exit code
  Napi::Value Release(const Napi::CallbackInfo& info);    // () -> true if the thread had ended
  Napi::Value Running(const Napi::CallbackInfo& info);
  Napi::Value LoopWakeUps(const Napi::CallbackInfo& info);
  Napi::Value LoopSpins(const Napi::CallbackInfo& info);
  Napi::Value LoopSpinStats(const Napi::CallbackInfo& info);

  void Start(const std::string& library, uint32_t spin_ns, bool spin_fixed,
             int cpu);
  // Lets go of the thread (joined if it ended, else left to finish on its
  // own), the handles and the wake callback. Idempotent.
  bool ReleaseAll();
  // JavaScript is gone without closing: marks the client DEAD, gives the
  // service a bounded time to return, then releases.
  void Stop();
  static void WakeLoop(void* thread);
  static void ApplyHold(void* self, bool hold);
  static void OnAsync(uv_async_t* handle);
  static void CallOnWake(void* self);
  static void WakeSoon(void* self);
  static void EnvCleanup(void* self);

  std::shared_ptr<ServiceThread> thread_state_;
  Napi::FunctionReference on_wake_;
  Napi::AsyncContext* async_context_ = nullptr;
  std::thread thread_;
  uv_async_t* async_ = nullptr;  // also in thread_state_; freed in its close callback
  std::unique_ptr<LoopHold> hold_;  // outlives loop_spin_, which settles it
  std::unique_ptr<LoopSpin> loop_spin_;
  bool cleanup_hook_ = false;
  bool released_ = false;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_SERVICE_HOST_H
