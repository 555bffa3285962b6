// ServiceHost: runs a C service library (see c/include/shmrpc/host.h) on a
// native thread over a SharedArrayBuffer that JavaScript created, and wires
// the wake-ups between that thread and the JavaScript event loop. It is glue
// only: the protocol lives in the C library and the TypeScript runtime.
#ifndef SHMRPC_NATIVE_SERVICE_HOST_H
#define SHMRPC_NATIVE_SERVICE_HOST_H

#include <napi.h>
#include <uv.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "loop_spin.h"
#include "shmrpc/host.h"
#include "shmrpc/wait.h"

namespace shmrpc {

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
  Napi::Value Running(const Napi::CallbackInfo& info);
  Napi::Value LoopWakeUps(const Napi::CallbackInfo& info);
  Napi::Value LoopSpins(const Napi::CallbackInfo& info);
  Napi::Value LoopSpinStats(const Napi::CallbackInfo& info);

  void Start(const std::string& library, uint32_t spin_ns, bool spin_fixed,
             int cpu);
  void ServiceEnded();
  // Calls ServiceEnded when the service thread's body is left, by a return
  // or by pthread_exit's unwinding.
  struct ThreadEnd {
    ServiceHost* host;
    explicit ThreadEnd(ServiceHost* h) : host(h) {}
    ~ThreadEnd() { host->ServiceEnded(); }
  };
  void Stop();
  static void WakeLoop(void* self);
  static void ApplyHold(void* self, bool hold);
  static void OnAsync(uv_async_t* handle);
  static void CallOnWake(void* self);
  static void WakeSoon(void* self);
  static void EnvCleanup(void* self);

  Napi::Reference<Napi::Uint8Array> segment_ref_;  // keeps the memory alive
  Napi::FunctionReference on_wake_;
  Napi::AsyncContext* async_context_ = nullptr;
  uint8_t* segment_ = nullptr;
  size_t segment_size_ = 0;
  std::string config_;
  void* library_ = nullptr;
  shmrpc_host_t host_{};
  // How the host wakes sleepers: futex, and the event loop via uv_async.
  shmrpc_parking_t parking_{};
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> loop_wake_ups_{0};  // uv_async_sends by the service
  // The service's return value; SHMRPC_EPEERDEAD while it has not returned
  // (it stays so for a thread that ended by pthread_exit).
  int exit_code_ = SHMRPC_EPEERDEAD;
  uv_async_t* async_ = nullptr;  // freed in its close callback; holds the loop
  std::unique_ptr<LoopHold> hold_;  // outlives loop_spin_, which settles it
  std::unique_ptr<LoopSpin> loop_spin_;
  bool cleanup_hook_ = false;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_SERVICE_HOST_H
