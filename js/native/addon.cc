// The shmrpc Node addon: exports ServiceHost, nothing else.
#include <napi.h>

#include "service_host.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ServiceHost", shmrpc::ServiceHost::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(shmrpc, Init)
