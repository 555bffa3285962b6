// Closing the addon's libuv handles so that Node never unloads the addon
// while a close callback (addon code) is still to run: a Worker's
// environment unloads its addons right after its cleanup hooks, and libuv
// would then call into unmapped memory when it finishes those closes.
// Every handle the addon owns is closed through CloseHandle; the async
// cleanup hook each environment gets when the addon loads
// (WaitForClosesAtExit) is removed only once no close is pending on that
// environment's loop, and Node runs the loop until then.
#ifndef SHMRPC_NATIVE_HANDLE_CLOSING_H
#define SHMRPC_NATIVE_HANDLE_CLOSING_H

#include <node_api.h>
#include <uv.h>

namespace shmrpc {

// uv_close(handle), counted on its loop; `free_handle` runs once libuv is
// done with it.
void CloseOwned(uv_handle_t* handle, void (*free_handle)(uv_handle_t*));

// Holds `env`'s teardown until the closes on its loop are done (call once
// per environment, when the addon loads there).
void WaitForClosesAtExit(napi_env env);

// Closes a libuv handle allocated with new (freed once libuv is done with
// it) and forgets it.
template <typename Handle>
void CloseHandle(Handle*& handle) {
  if (handle == nullptr) return;
  CloseOwned(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  handle = nullptr;
}

}  // namespace shmrpc

#endif  // SHMRPC_NATIVE_HANDLE_CLOSING_H
