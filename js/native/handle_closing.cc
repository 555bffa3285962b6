#include "handle_closing.h"

#include <mutex>
#include <unordered_map>

namespace shmrpc {
namespace {

struct LoopCloses {
  unsigned pending = 0;
  // The environment's exit hook, while it waits for the closes.
  napi_async_cleanup_hook_handle waiting = nullptr;
};

// Loops of worker threads have their own.
std::mutex mutex;
std::unordered_map<uv_loop_t*, LoopCloses> by_loop;

using FreeHandle = void (*)(uv_handle_t*);

void OnClosed(uv_handle_t* handle) {
  uv_loop_t* loop = handle->loop;
  reinterpret_cast<FreeHandle>(handle->data)(handle);
  napi_async_cleanup_hook_handle done = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    LoopCloses& closes = by_loop[loop];
    if (--closes.pending == 0 && closes.waiting != nullptr) {
      done = closes.waiting;
      by_loop.erase(loop);
    }
  }
  if (done != nullptr) napi_remove_async_cleanup_hook(done);
}

void OnEnvExit(napi_async_cleanup_hook_handle hook, void* arg) {
  auto* loop = static_cast<uv_loop_t*>(arg);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto found = by_loop.find(loop);
    if (found != by_loop.end() && found->second.pending > 0) {
      found->second.waiting = hook;
      return;
    }
    by_loop.erase(loop);
  }
  napi_remove_async_cleanup_hook(hook);
}

}  // namespace

void CloseOwned(uv_handle_t* handle, void (*free_handle)(uv_handle_t*)) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    by_loop[handle->loop].pending++;
  }
  // Nothing but the close callback runs for a closing handle: data is free.
  handle->data = reinterpret_cast<void*>(free_handle);
  uv_close(handle, OnClosed);
}

void WaitForClosesAtExit(napi_env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return;
  napi_add_async_cleanup_hook(env, OnEnvExit, loop, nullptr);
}

}  // namespace shmrpc
