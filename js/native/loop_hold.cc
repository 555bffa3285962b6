#include "loop_hold.h"

namespace shmrpc {

LoopHold::LoopHold(Napi::Env env, ApplyFn apply, void* user)
    : apply_(apply), user_(user) {
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, 2 * sizeof(int32_t));
  words_ = static_cast<int32_t*>(buffer.Data());
  words_[kWanted] = 0;
  words_[kHeld] = 0;
  buffer_ = Napi::Persistent(buffer);
}

Napi::Value LoopHold::Words(Napi::Env env) {
  return Napi::Int32Array::New(env, 2, buffer_.Value(), 0);
}

void LoopHold::Set(bool hold) {
  words_[kWanted] = hold;
  words_[kHeld] = hold;
  apply_(user_, hold);
}

void LoopHold::Settle() {
  if (words_[kHeld] != 0 && words_[kWanted] == 0) Set(false);
}

}  // namespace shmrpc
