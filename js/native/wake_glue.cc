#include "wake_glue.h"

#include <algorithm>
#include <cstring>

#include "shmrpc/segment.h"
#include "shmrpc/wait.h"

namespace shmrpc {
namespace {

// The only words JavaScript may ring or wait on: the four ring wait words.
bool IsWaitWordOffset(uint32_t offset) {
  for (uint32_t ring : {SHMRPC_OFF_RING0_CONTROL, SHMRPC_OFF_RING1_CONTROL}) {
    if (offset == ring + SHMRPC_RING_OFF_CONSUMER_WAIT ||
        offset == ring + SHMRPC_RING_OFF_PRODUCER_WAIT)
      return true;
  }
  return false;
}

uint32_t* WaitWord(const Napi::CallbackInfo& info, uint8_t* segment) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "wait word offset must be a number");
  uint32_t offset = info[0].As<Napi::Number>().Uint32Value();
  if (!IsWaitWordOffset(offset))
    throw Napi::RangeError::New(info.Env(), "not a wait word offset");
  return reinterpret_cast<uint32_t*>(segment + offset);
}

}  // namespace

std::shared_ptr<v8::BackingStore> BackingStoreOf(napi_value array) {
  // A napi_value is a v8::Local<v8::Value> in Node's implementation.
  static_assert(sizeof(napi_value) == sizeof(v8::Local<v8::Value>),
                "napi_value is a v8::Local<v8::Value>");
  v8::Local<v8::Value> value;
  std::memcpy(static_cast<void*>(&value), &array, sizeof array);
  v8::Local<v8::Value> buffer = value.As<v8::ArrayBufferView>()->Buffer();
  if (buffer->IsSharedArrayBuffer())
    return buffer.As<v8::SharedArrayBuffer>()->GetBackingStore();
  return buffer.As<v8::ArrayBuffer>()->GetBackingStore();
}

bool ExternalBuffersAllowed(napi_env env) {
#ifdef V8_ENABLE_SANDBOX
  // Built against a V8 with the memory cage (Electron's headers).
  (void)env;
  return false;
#else
  // Node-API refuses external buffers where the cage is on
  // (napi_no_external_buffers_allowed), whatever the headers said.
  static char probe;
  napi_value result;
  return napi_create_external_arraybuffer(env, &probe, 1, nullptr, nullptr,
                                          &result) == napi_ok;
#endif
}

uint32_t MicrosAsNanos(const Napi::Value& micros, uint32_t fallback) {
  if (!micros.IsNumber()) return fallback;
  double ns = micros.As<Napi::Number>().DoubleValue() * 1000;
  return ns >= UINT32_MAX ? UINT32_MAX : ns > 0 ? static_cast<uint32_t>(ns) : 0;
}

Napi::Value RingWaitWord(const Napi::CallbackInfo& info, uint8_t* segment) {
  uint32_t* word = WaitWord(info, segment);
  const shmrpc_waiter_t* waiter = shmrpc_default_waiter();
  waiter->wake(waiter->user, word);
  return info.Env().Undefined();
}

Napi::Value WaitOnWaitWord(const Napi::CallbackInfo& info, uint8_t* segment) {
  uint32_t* word = WaitWord(info, segment);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber())
    throw Napi::TypeError::New(info.Env(),
                               "wait(offset, expected, timeoutMs) takes numbers");
  uint32_t expected = info[1].As<Napi::Number>().Uint32Value();
  double timeout_ms = info[2].As<Napi::Number>().DoubleValue();
  uint64_t deadline = SHMRPC_DEADLINE_NEVER;
  if (timeout_ms >= 0)
    deadline = shmrpc_now_ns() + static_cast<uint64_t>(std::min(timeout_ms, 1e12) * 1e6);
  const shmrpc_waiter_t* waiter = shmrpc_default_waiter();
  waiter->wait(waiter->user, word, expected, deadline);
  return Napi::Boolean::New(info.Env(), deadline == SHMRPC_DEADLINE_NEVER ||
                                            shmrpc_now_ns() < deadline);
}

Napi::Value SpinStats(Napi::Env env, const shmrpc_spin_policy_t& policy) {
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("budgetMicros", Napi::Number::New(env, policy.budget_ns / 1000.0));
  stats.Set("maxMicros", Napi::Number::New(env, policy.max_ns / 1000.0));
  stats.Set("fixed", Napi::Boolean::New(env, policy.fixed));
  stats.Set("caught", Napi::Number::New(env, static_cast<double>(policy.caught)));
  stats.Set("parked", Napi::Number::New(env, static_cast<double>(policy.parked)));
  stats.Set("probes", Napi::Number::New(env, static_cast<double>(policy.probes)));
  return stats;
}

void CallBack(Napi::Env env, Napi::FunctionReference& fn,
              Napi::AsyncContext& context) {
  // The C API throughout: node-addon-api would turn a failed call into a
  // Napi::Error, whose construction aborts the process once JavaScript
  // cannot run any more.
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value global;
  napi_value result;
  // napi_make_callback needs an object as the receiver.
  if (napi_get_global(env, &global) == napi_ok &&
      napi_make_callback(env, context, global, fn.Value(), 0, nullptr,
                         &result) == napi_pending_exception) {
    napi_value error;
    if (napi_get_and_clear_last_exception(env, &error) == napi_ok)
      napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace shmrpc
