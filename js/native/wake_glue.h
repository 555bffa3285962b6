// What the addon's two transports share (ServiceHost in-process,
// XprocClient across processes): the doorbell calls JavaScript makes on
// the segment's wait words, a share of a SharedArrayBuffer's memory,
// option parsing, libuv handle teardown, and calling JavaScript back from
// libuv.
#ifndef SHMRPC_NATIVE_WAKE_GLUE_H
#define SHMRPC_NATIVE_WAKE_GLUE_H

#include <napi.h>
#include <uv.h>

#include <v8.h>

#include <cstdint>
#include <memory>

#include "shmrpc/wait.h"

namespace shmrpc {

// The memory under a Uint8Array, owned (shared) rather than borrowed: a
// native thread that holds it never writes into freed memory, however long
// JavaScript keeps the array. V8's C++ API (docs/ELECTRON.md: allowed in
// Electron, which only refuses buffers over memory V8 did not allocate).
std::shared_ptr<v8::BackingStore> BackingStoreOf(napi_value array);

// Whether this runtime lets a buffer be made over memory V8 did not
// allocate (Node: yes; Electron 21+ with its V8 memory cage: no, and V8
// aborts the process on a backing store over such memory, so ask first).
bool ExternalBuffersAllowed(napi_env env);

// A microseconds option as nanoseconds (clamped), or `fallback` if unset.
uint32_t MicrosAsNanos(const Napi::Value& micros, uint32_t fallback);

// ring(byteOffset): futex_wake on one of the segment's four wait words
// (any other offset is a RangeError).
Napi::Value RingWaitWord(const Napi::CallbackInfo& info, uint8_t* segment);

// wait(byteOffset, expected, timeoutMs) -> false on timeout: futex_wait
// on one of the four wait words.
Napi::Value WaitOnWaitWord(const Napi::CallbackInfo& info, uint8_t* segment);

// A spin policy (shmrpc/wait.h) for JavaScript: { budgetMicros, maxMicros,
// fixed, caught, parked, probes }.
Napi::Value SpinStats(Napi::Env env, const shmrpc_spin_policy_t& policy);

// Calls `fn` with no arguments through MakeCallback (so promise jobs it
// queues run before control returns to libuv); a throw is fatal, as for
// any uncaught exception. Nothing happens once JavaScript can no longer
// run (a terminating Worker).
void CallBack(Napi::Env env, Napi::FunctionReference& fn,
              Napi::AsyncContext& context);

// Closes a libuv handle allocated with new (freed once libuv is done with
// it) and forgets it.
template <typename Handle>
void CloseHandle(Handle*& handle) {
  if (handle == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  handle = nullptr;
}

// Runs `teardown` where nothing could catch what node-addon-api throws (an
// environment cleanup hook, a destructor, which are noexcept): a release
// that fails while the environment goes away is left to the environment
// instead of ending the process in std::terminate.
template <typename Teardown>
void TearDownQuietly(Teardown teardown) noexcept {
  try {
    teardown();
  } catch (const Napi::Error&) {
  }
}

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_WAKE_GLUE_H
