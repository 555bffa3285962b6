// XprocClient: the addon's half of a cross-process connection
// (docs/PROTOCOL.md section 9; js/src/transport/cross-process.ts). The C
// client (shmrpc_xproc_connect, c/include/shmrpc/xproc.h) attaches and
// maps the segment; JavaScript then takes one of two routes to it
// (docs/CROSS-PROCESS.md):
// - direct (mapSegment): the mapping becomes a SharedArrayBuffer; the
//   server writes the connection's eventfd when JavaScript parks in the
//   event loop (a uv_poll runs onWake), and JavaScript rings and waits on
//   futex words of the mapping;
// - relay (startRelay): JavaScript allocates a segment of its own and the
//   C relay (c/include/shmrpc/relay.h) forwards between it and the
//   mapping on two threads, waking the event loop through a uv_async; for
//   Electron, which refuses buffers over memory V8 did not allocate.
// Either way a hang-up of the socket (the server died or stopped) marks
// the server side dead in the mapping and runs onServerGone. Glue only:
// the protocol lives in the C library and the TypeScript runtime.
// xproc_connect.cc holds the connect step and the class's definition.
#ifndef SHMRPC_NATIVE_XPROC_CLIENT_H
#define SHMRPC_NATIVE_XPROC_CLIENT_H

#include <napi.h>
#include <uv.h>
#include <v8.h>

#include <atomic>
#include <memory>

#include "loop_spin.h"
#include "shmrpc/relay.h"
#include "shmrpc/xproc.h"

namespace shmrpc {

class XprocClient : public Napi::ObjectWrap<XprocClient> {
 public:
  // Defines the class and returns the function that makes its instances:
  // xprocConnect(name, options, onWake, onServerGone) -> Promise<XprocClient>
  // options: { runtimeDir?, capacityC2S?, capacityS2C?, timeoutMs?,
  //            loopSpinMicros?, loopSpinFixed? }. Connects on a libuv worker thread; rejects
  // with an Error whose `code` is the SHMRPC_E* name. The client then
  // takes a route: mapSegment() or startRelay(segment, options).
  static Napi::Function DefineConnect(Napi::Env env);

  // Internal: made by Connect with the connection it established.
  explicit XprocClient(const Napi::CallbackInfo& info);
  ~XprocClient() override;

 private:
  // JS API.
  Napi::Value MapSegment(const Napi::CallbackInfo& info);  // () -> SharedArrayBuffer (direct route)
  Napi::Value StartRelay(const Napi::CallbackInfo& info);  // (Uint8Array, { spinMicros?, spinFixed? })
  Napi::Value Buffer(const Napi::CallbackInfo& info);      // the mapping's SharedArrayBuffer, if mapped
  Napi::Value Capacities(const Napi::CallbackInfo& info);  // [c2s, s2c] of the server's segment
  Napi::Value Ring(const Napi::CallbackInfo& info);        // (byteOffset)
  Napi::Value Wait(const Napi::CallbackInfo& info);        // (byteOffset, expected, timeoutMs) -> bool
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);   // (active)
  Napi::Value HoldWords(const Napi::CallbackInfo& info);   // Int32Array (loop_hold.h)
  Napi::Value Close(const Napi::CallbackInfo& info);       // drops the connection
  Napi::Value ServerPid(const Napi::CallbackInfo& info);
  Napi::Value Connected(const Napi::CallbackInfo& info);   // false once the socket is gone
  Napi::Value RelayCounts(const Napi::CallbackInfo& info); // [up, down] messages relayed
  Napi::Value LoopWakeUps(const Napi::CallbackInfo& info);
  Napi::Value LoopSpins(const Napi::CallbackInfo& info);
  Napi::Value LoopSpinStats(const Napi::CallbackInfo& info);

  static Napi::Value Connect(const Napi::CallbackInfo& info);
  void Start(Napi::Env env);
  // Either route, once: JavaScript's segment is `segment` from now on.
  void ChooseRoute(Napi::Env env, uint8_t* segment);
  // Stops the relay (waiting up to flush_ms for what JavaScript sent
  // before closing to reach the server), then watching, then closes the
  // descriptors (and unmaps, unless a buffer took the mapping).
  void Disconnect(int flush_ms);
  void Shutdown(int flush_ms);
  static void OnWakeFd(uv_poll_t* handle, int status, int events);
  static void OnSocket(uv_poll_t* handle, int status, int events);
  static void OnAsync(uv_async_t* handle);
  static void CallOnWake(void* self);
  static void WakeSoon(void* self);
  static void RelayWake(void* self);  // on a relay thread
  static void ApplyHold(void* self, bool hold);
  static void EnvCleanup(void* self);

  std::unique_ptr<shmrpc_xproc_connection_t> conn_;
  uint8_t* segment_ = nullptr;  // JavaScript's: the mapping, or its own (relay)
  size_t segment_size_ = 0;
  Napi::Reference<Napi::Value> buffer_;  // direct: owns the mapping
  // Relay: JavaScript's segment's memory, shared so that it outlives any
  // use here, and the relay, stopped before the mapping goes.
  std::shared_ptr<v8::BackingStore> relay_memory_;
  shmrpc_relay_t* relay_ = nullptr;
  uint64_t relay_counts_[2] = {0, 0};  // kept when the relay stops
  std::atomic<uint64_t> relay_wake_ups_{0};
  Napi::FunctionReference on_wake_;
  Napi::FunctionReference on_server_gone_;
  Napi::AsyncContext* async_context_ = nullptr;
  uv_poll_t* wake_poll_ = nullptr;    // direct: the eventfd; ref'd while active
  uv_poll_t* socket_poll_ = nullptr;  // the socket; never holds the loop
  uv_async_t* async_ = nullptr;       // LoopSpin's "wake after the poll"; the relay's wake-ups
  std::unique_ptr<LoopHold> hold_;  // outlives loop_spin_, which settles it
  std::unique_ptr<LoopSpin> loop_spin_;
  uint32_t loop_spin_ns_ = 0;
  bool loop_spin_fixed_ = false;
  uint64_t loop_wake_ups_ = 0;
  bool cleanup_hook_ = false;
};

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_XPROC_CLIENT_H
