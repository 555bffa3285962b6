// XprocClient: the addon's half of a cross-process connection
// (docs/PROTOCOL.md section 9; js/src/transport/cross-process.ts). The C
// client (shmrpc_xproc_connect, c/include/shmrpc/xproc.h) attaches and
// maps the segment; this class hands JavaScript the mapping as a
// SharedArrayBuffer and wires the wake-ups: the server writes the
// connection's eventfd when JavaScript parks in the event loop (a uv_poll
// runs onWake), JavaScript rings and waits on futex words of the mapping,
// and a hang-up of the socket (the server died or stopped) marks the server
// side closed in the segment and runs onServerGone. Glue only: the
// protocol lives in the C library and the TypeScript runtime.
#ifndef SHMRPC_NATIVE_XPROC_CLIENT_H
#define SHMRPC_NATIVE_XPROC_CLIENT_H

#include <napi.h>
#include <uv.h>

#include <memory>

#include "loop_spin.h"
#include "shmrpc/xproc.h"

namespace shmrpc {

class XprocClient : public Napi::ObjectWrap<XprocClient> {
 public:
  // Defines the class and returns the function that makes its instances:
  // xprocConnect(name, options, onWake, onServerGone) -> Promise<XprocClient>
  // options: { runtimeDir?, capacityC2S?, capacityS2C?, timeoutMs?,
  //            loopSpinMicros?, loopSpinFixed? }. Connects on a libuv worker thread; rejects
  // with an Error whose `code` is the SHMRPC_E* name.
  static Napi::Function DefineConnect(Napi::Env env);

  // Internal: made by Connect with the connection it established.
  explicit XprocClient(const Napi::CallbackInfo& info);
  ~XprocClient() override;

 private:
  // JS API.
  Napi::Value Buffer(const Napi::CallbackInfo& info);      // SharedArrayBuffer
  Napi::Value Ring(const Napi::CallbackInfo& info);        // (byteOffset)
  Napi::Value Wait(const Napi::CallbackInfo& info);        // (byteOffset, expected, timeoutMs) -> bool
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);   // (active)
  Napi::Value HoldWords(const Napi::CallbackInfo& info);   // Int32Array (loop_hold.h)
  Napi::Value Close(const Napi::CallbackInfo& info);       // drops the connection
  Napi::Value ServerPid(const Napi::CallbackInfo& info);
  Napi::Value Connected(const Napi::CallbackInfo& info);   // false once the socket is gone
  Napi::Value LoopWakeUps(const Napi::CallbackInfo& info);
  Napi::Value LoopSpins(const Napi::CallbackInfo& info);
  Napi::Value LoopSpinStats(const Napi::CallbackInfo& info);

  static Napi::Value Connect(const Napi::CallbackInfo& info);
  void Start(Napi::Env env, uint32_t loop_spin_ns, bool loop_spin_fixed);
  void Disconnect();
  void Shutdown();
  static void OnWakeFd(uv_poll_t* handle, int status, int events);
  static void OnSocket(uv_poll_t* handle, int status, int events);
  static void OnAsync(uv_async_t* handle);
  static void CallOnWake(void* self);
  static void WakeSoon(void* self);
  static void ApplyHold(void* self, bool hold);
  static void EnvCleanup(void* self);

  std::unique_ptr<shmrpc_xproc_connection_t> conn_;
  uint8_t* segment_ = nullptr;  // owned by the SharedArrayBuffer
  size_t segment_size_ = 0;
  Napi::Reference<Napi::Value> buffer_;
  Napi::FunctionReference on_wake_;
  Napi::FunctionReference on_server_gone_;
  Napi::AsyncContext* async_context_ = nullptr;
  uv_poll_t* wake_poll_ = nullptr;    // the eventfd; ref'd while active
  uv_poll_t* socket_poll_ = nullptr;  // the socket; never holds the loop
  uv_async_t* async_ = nullptr;       // LoopSpin's "wake after the poll"
  std::unique_ptr<LoopHold> hold_;  // outlives loop_spin_, which settles it
  std::unique_ptr<LoopSpin> loop_spin_;
  uint64_t loop_wake_ups_ = 0;
  bool cleanup_hook_ = false;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_XPROC_CLIENT_H
