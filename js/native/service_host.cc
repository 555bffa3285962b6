#include "service_host.h"

#include <dlfcn.h>

#include <chrono>

#include "affinity.h"
#include "wake_glue.h"
#include "shmrpc/segment.h"

namespace shmrpc {
namespace {

// The service's spin budget when JavaScript names none: the channel default.
constexpr uint32_t kDefaultSpinNs = 50000;

// How long an environment that ends (or a wrapper collected) without
// closing waits for its service to return after marking the client DEAD;
// a service still running then is left to finish on its own.
constexpr auto kStopGrace = std::chrono::milliseconds(1000);

// The service thread is ending. A service that did not close is dead
// (docs/PROTOCOL.md section 5): the core marks it DEAD and wakes every
// sleeper, so pending calls fail at once instead of waiting for replies.
void ThreadEnded(ServiceThread* state) {
  shmrpc_segment_mark_dead(state->segment, SHMRPC_SIDE_SERVER,
                           &state->parking);
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->running.store(false);
    // Let JavaScript see the server's final state.
    if (state->async != nullptr) uv_async_send(state->async);
  }
  state->ended.notify_all();
}

}  // namespace

ServiceThread::~ServiceThread() {
  if (library != nullptr) dlclose(library);
}

void ServiceThread::WakeLoop() {
  loop_wake_ups.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mutex);
  if (async != nullptr) uv_async_send(async);
}

Napi::Function ServiceHost::Define(Napi::Env env) {
  return DefineClass(env, "ServiceHost",
                     {InstanceMethod<&ServiceHost::Ring>("ring"),
                      InstanceMethod<&ServiceHost::Wait>("wait"),
                      InstanceMethod<&ServiceHost::KeepAlive>("keepAlive"),
                      InstanceAccessor<&ServiceHost::HoldWords>("holdWords"),
                      InstanceMethod<&ServiceHost::Join>("join"),
                      InstanceMethod<&ServiceHost::Release>("release"),
                      InstanceAccessor<&ServiceHost::Running>("running"),
                      InstanceAccessor<&ServiceHost::LoopWakeUps>("loopWakeUps"),
                      InstanceAccessor<&ServiceHost::LoopSpins>("loopSpins"),
                      InstanceAccessor<&ServiceHost::LoopSpinStats>("loopSpinStats")});
}

ServiceHost::ServiceHost(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<ServiceHost>(info),
      thread_state_(std::make_shared<ServiceThread>()) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(
        env, "ServiceHost: argument 1 must be a Uint8Array over the segment");
  if (!info[1].IsString())
    throw Napi::TypeError::New(
        env, "ServiceHost: argument 2 must be the service library path");
  if (!info[2].IsFunction())
    throw Napi::TypeError::New(
        env, "ServiceHost: argument 3 must be the wake callback");
  Napi::Object options = info.Length() > 3 && info[3].IsObject()
                             ? info[3].As<Napi::Object>()
                             : Napi::Object::New(env);
  uint32_t spin_ns = MicrosAsNanos(options.Get("spinMicros"), kDefaultSpinNs);
  // The event loop spins as long as the service does, unless told otherwise.
  uint32_t loop_spin_ns = MicrosAsNanos(options.Get("loopSpinMicros"), spin_ns);
  // Both sides' budgets adapt (shmrpc/wait.h) unless told to stay fixed.
  bool spin_fixed = options.Get("spinFixed").ToBoolean();
  ServiceThread& state = *thread_state_;
  Napi::Value config = options.Get("config");
  if (config.IsString()) state.config = config.As<Napi::String>().Utf8Value();
  Napi::Value cpu_value = options.Get("cpu");
  int cpu = cpu_value.IsNumber() ? cpu_value.As<Napi::Number>().Int32Value() : -1;

  // Node 20 has no SharedArrayBuffer check in Node-API, but the typed
  // array's data pointer is the shared memory (../shared/FACTS.md).
  Napi::Uint8Array segment = info[0].As<Napi::Uint8Array>();
  state.segment = segment.Data();
  state.segment_size = segment.ByteLength();
  // V8 allocates SharedArrayBuffers with malloc (16-byte aligned), so only
  // the 4-byte alignment of the atomic words can be required (as C does).
  if (state.segment_size < SHMRPC_SEGMENT_HEADER_BYTES ||
      reinterpret_cast<uintptr_t>(state.segment) % 4 != 0)
    throw Napi::RangeError::New(
        env, "ServiceHost: the segment must be 4-byte aligned and hold a "
             "segment header");
  state.memory = BackingStoreOf(segment);
  on_wake_ = Napi::Persistent(info[2].As<Napi::Function>());
  async_context_ = new Napi::AsyncContext(env, "shmrpc:wake");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok)
    throw Napi::Error::New(env, "ServiceHost: no event loop");
  async_ = new uv_async_t;
  uv_async_init(loop, async_, OnAsync);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  state.async = async_;
  hold_ = std::make_unique<LoopHold>(env, ApplyHold, this);
  loop_spin_ = std::make_unique<LoopSpin>(state.segment, loop_spin_ns,
                                          spin_fixed, CallOnWake, WakeSoon,
                                          this, hold_.get());

  try {
    Start(info[1].As<Napi::String>().Utf8Value(), spin_ns, spin_fixed, cpu);
  } catch (...) {
    // The destructor will not run: close the handle that points at us.
    state.async = nullptr;
    CloseHandle(async_);
    delete async_context_;
    async_context_ = nullptr;
    throw;
  }
  loop_spin_->Start(loop);
  // Only once nothing can throw: a constructor that throws never runs the
  // destructor, and a hook left behind would point at freed memory.
  napi_add_env_cleanup_hook(env, EnvCleanup, this);
  cleanup_hook_ = true;
}

void ServiceHost::Start(const std::string& library, uint32_t spin_ns,
                        bool spin_fixed, int cpu) {
  Napi::Env env = Env();
  ServiceThread& state = *thread_state_;
  state.library = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (state.library == nullptr)
    throw Napi::Error::New(env, std::string("ServiceHost: cannot load ") +
                                    library + ": " + dlerror());
  auto serve = reinterpret_cast<shmrpc_serve_fn>(
      dlsym(state.library, SHMRPC_SERVE_SYMBOL));
  if (serve == nullptr)
    throw Napi::Error::New(env, "ServiceHost: " + library + " does not export " +
                                    SHMRPC_SERVE_SYMBOL);
  state.parking.wake_loop = WakeLoop;
  state.parking.wake_loop_user = &state;
  state.host.abi_version = SHMRPC_HOST_ABI_VERSION;
  state.host.segment = state.segment;
  state.host.segment_size = state.segment_size;
  state.host.spin_ns = spin_ns;
  state.host.spin_fixed = spin_fixed;
  state.host.wake_loop = WakeLoop;
  state.host.wake_loop_user = &state;
  state.host.config = state.config.empty() ? nullptr : state.config.c_str();
  state.host.peer = "in-process";
  state.running.store(true);
  // The thread owns a share of its state: it may outlive this wrapper.
  thread_ = std::thread([owned = thread_state_, serve, cpu] {
    // Runs however the thread ends: serve returning, or the service calling
    // pthread_exit (which unwinds this frame).
    struct End {
      ServiceThread* state;
      ~End() { ThreadEnded(state); }
    } end{owned.get()};
    if (cpu >= 0) PinCurrentThread(cpu);
    owned->exit_code = serve(&owned->host);
  });
}

// Called by the service thread when the client is parked in the event loop.
void ServiceHost::WakeLoop(void* thread) {
  static_cast<ServiceThread*>(thread)->WakeLoop();
}

// Called on the loop thread by LoopSpin: OnAsync after the next poll.
void ServiceHost::WakeSoon(void* self) {
  auto* host = static_cast<ServiceHost*>(self);
  if (host->async_ != nullptr) uv_async_send(host->async_);
}

void ServiceHost::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<ServiceHost*>(handle->data);
  if (self->loop_spin_) self->loop_spin_->Woken();
  CallOnWake(self);
}

void ServiceHost::CallOnWake(void* host) {
  auto* self = static_cast<ServiceHost*>(host);
  if (self->on_wake_.IsEmpty()) return;  // released
  CallBack(self->Env(), self->on_wake_, *self->async_context_);
}

Napi::Value ServiceHost::Ring(const Napi::CallbackInfo& info) {
  return RingWaitWord(info, thread_state_->segment);
}

Napi::Value ServiceHost::Wait(const Napi::CallbackInfo& info) {
  return WaitOnWaitWord(info, thread_state_->segment);
}

Napi::Value ServiceHost::KeepAlive(const Napi::CallbackInfo& info) {
  hold_->Set(info.Length() > 0 && info[0].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value ServiceHost::HoldWords(const Napi::CallbackInfo& info) {
  return hold_->Words(info.Env());
}

// The uv_async handle holds the loop: the service's wake-ups come through
// it. Once released there is no handle, and nothing to hold.
void ServiceHost::ApplyHold(void* self, bool hold) {
  auto* handle = reinterpret_cast<uv_handle_t*>(static_cast<ServiceHost*>(self)->async_);
  if (handle == nullptr) return;
  hold ? uv_ref(handle) : uv_unref(handle);
}

Napi::Value ServiceHost::Join(const Napi::CallbackInfo& info) {
  if (thread_.joinable()) thread_.join();
  return Napi::Number::New(info.Env(), thread_state_->exit_code);
}

Napi::Value ServiceHost::Release(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), ReleaseAll());
}

Napi::Value ServiceHost::Running(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), thread_state_->running.load());
}

Napi::Value ServiceHost::LoopWakeUps(const Napi::CallbackInfo& info) {
  return Napi::Number::New(
      info.Env(), static_cast<double>(thread_state_->loop_wake_ups.load(
                      std::memory_order_relaxed)));
}

Napi::Value ServiceHost::LoopSpins(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), loop_spin_ && loop_spin_->Active());
}

Napi::Value ServiceHost::LoopSpinStats(const Napi::CallbackInfo& info) {
  return SpinStats(info.Env(), loop_spin_->Policy());
}

bool ServiceHost::ReleaseAll() {
  ServiceThread& state = *thread_state_;
  bool ended = !state.running.load();
  if (released_) return ended;
  released_ = true;
  if (thread_.joinable()) {
    // A thread still running keeps its share of the state (the segment's
    // memory, the library) until it returns.
    if (ended)
      thread_.join();
    else
      thread_.detach();
  }
  {
    // From here on the thread never touches the handle.
    std::lock_guard<std::mutex> lock(state.mutex);
    state.async = nullptr;
  }
  // The LoopSpin object stays (a callback may be on the stack); its handle
  // goes.
  if (loop_spin_) loop_spin_->Close();
  CloseHandle(async_);
  // The callback may be running (release() is called from it): the
  // reference goes, the function stays on the stack. The async context
  // stays until the destructor for the same reason; it refers to no
  // object of ours.
  on_wake_.Reset();
  return ended;
}

void ServiceHost::Stop() {
  if (released_) return;
  ServiceThread& state = *thread_state_;
  if (state.running.load()) {
    // JavaScript is gone without closing: to the service, a dead client.
    shmrpc_segment_mark_dead(state.segment, SHMRPC_SIDE_CLIENT, &state.parking);
    std::unique_lock<std::mutex> lock(state.mutex);
    state.ended.wait_for(lock, kStopGrace, [&] { return !state.running.load(); });
  }
  ReleaseAll();
}

// The environment is going away (process exit, worker termination) while
// the wrapper may never be finalized: stop the thread now.
void ServiceHost::EnvCleanup(void* self) {
  auto* host = static_cast<ServiceHost*>(self);
  host->cleanup_hook_ = false;
  TearDownQuietly([host] { host->Stop(); });
}

ServiceHost::~ServiceHost() {
  if (cleanup_hook_) napi_remove_env_cleanup_hook(Env(), EnvCleanup, this);
  TearDownQuietly([this] { Stop(); });
  delete async_context_;
}

}  // namespace shmrpc
