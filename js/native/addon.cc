// The shmrpc Node addon: exports ServiceHost and pinThread (benchmarks pin
// the JavaScript thread and the service thread to different cores).
#include <napi.h>

#include "affinity.h"
#include "service_host.h"

namespace {

// pinThread(cpu): pins the calling JavaScript thread; false if refused.
Napi::Value PinThread(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(info.Env(), "pinThread(cpu) takes a CPU number");
  int cpu = info[0].As<Napi::Number>().Int32Value();
  return Napi::Boolean::New(info.Env(), shmrpc::PinCurrentThread(cpu));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ServiceHost", shmrpc::ServiceHost::Define(env));
  exports.Set("pinThread", Napi::Function::New(env, PinThread));
  return exports;
}

}  // namespace

NODE_API_MODULE(shmrpc, Init)
