// The shmrpc Node addon: exports ServiceHost, xprocConnect (the
// cross-process client, js/native/xproc_client.h), pinThread (benchmarks pin
// the JavaScript thread and the service thread to different cores) and
// copyBytes (a plain memcpy for large copies into and out of the shared
// segment, which V8 performs with relaxed atomic word moves).
#include <napi.h>

#include <dlfcn.h>

#include <cstring>

#include "affinity.h"
#include "service_host.h"
#include "xproc_client.h"

namespace {

// pinThread(cpu): pins the calling JavaScript thread (-1: every CPU again);
// false if refused.
Napi::Value PinThread(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "pinThread(cpu) takes a CPU number");
  int cpu = info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(info.Env(), shmrpc::PinCurrentThread(cpu));
}

Napi::Uint8Array Bytes(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), "copyBytes(target, targetOffset, source) takes Uint8Arrays");
  return info[index].As<Napi::Uint8Array>();
}

// copyBytes(target, targetOffset, source): target.set(source, targetOffset)
// as one memcpy. The arrays may not overlap (one is shared, one is not).
Napi::Value CopyBytes(const Napi::CallbackInfo& info) {
  Napi::Uint8Array target = Bytes(info, 0);
  Napi::Uint8Array source = Bytes(info, 2);
  if (!info[1].IsNumber())
    throw Napi::TypeError::New(info.Env(), "copyBytes: targetOffset must be a number");
  double offset = info[1].As<Napi::Number>().DoubleValue();
  if (!(offset >= 0) || offset + source.ByteLength() > target.ByteLength())
    throw Napi::RangeError::New(info.Env(), "copyBytes: the source does not fit at targetOffset");
  std::memcpy(target.Data() + static_cast<size_t>(offset), source.Data(), source.ByteLength());
  return info.Env().Undefined();
}

// Keeps this addon mapped for the life of the process: Node unloads the
// addons a Worker loaded when its environment goes, and code here may
// still run after that: libuv finishes closing the Worker's handles (their
// close callbacks are here), and V8 frees a cross-process segment's
// SharedArrayBuffer (its deleter is here) when the isolate is torn down.
// The handle is never closed, on purpose.
void KeepCodeLoaded() {
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&KeepCodeLoaded), &self) != 0 && self.dli_fname != nullptr)
    dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KeepCodeLoaded();
  exports.Set("ServiceHost", shmrpc::ServiceHost::Define(env));
  exports.Set("xprocConnect", shmrpc::XprocClient::DefineConnect(env));
  exports.Set("pinThread", Napi::Function::New(env, PinThread));
  exports.Set("copyBytes", Napi::Function::New(env, CopyBytes));
  return exports;
}

}  // namespace

NODE_API_MODULE(shmrpc, Init)
