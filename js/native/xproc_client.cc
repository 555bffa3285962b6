#include "xproc_client.h"

#include <sys/mman.h>
#include <unistd.h>
#include <v8.h>

#include <cstring>
#include <string>

#include "wake_glue.h"

namespace shmrpc {
namespace {

// The event loop's spin budget when JavaScript names none (as in-process).
constexpr uint32_t kDefaultLoopSpinNs = 50000;

// A real SharedArrayBuffer over the mapping, which it owns from now on (it
// unmaps it when collected). Node-API has no call for this: it is V8's
// own API, which ties the addon to the Node major it is built for (it is
// built at install time anyway; docs/CROSS-PROCESS.md). A napi_value is a
// v8::Local<v8::Value> in Node's implementation.
napi_value SharedBufferOver(void* data, size_t size) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  std::shared_ptr<v8::BackingStore> store =
      v8::SharedArrayBuffer::NewBackingStore(
          data, size,
          [](void* memory, size_t length, void*) { munmap(memory, length); },
          nullptr);
  v8::Local<v8::Value> value =
      v8::SharedArrayBuffer::New(isolate, std::move(store));
  static_assert(sizeof(napi_value) == sizeof(value),
                "napi_value is a v8::Local<v8::Value>");
  napi_value result;
  std::memcpy(&result, &value, sizeof result);
  return result;
}

// Connects on a libuv worker thread (connect and the handshake block for
// up to the timeout), then makes the XprocClient on the loop thread.
class ConnectWorker : public Napi::AsyncWorker {
 public:
  ConnectWorker(Napi::Env env, Napi::FunctionReference* constructor,
                const Napi::CallbackInfo& info)
      : Napi::AsyncWorker(env, "shmrpc:connect"),
        deferred_(Napi::Promise::Deferred::New(env)),
        constructor_(constructor),
        conn_(new shmrpc_xproc_connection_t()) {
    name_ = info[0].As<Napi::String>().Utf8Value();
    Napi::Object options = info[1].As<Napi::Object>();
    shmrpc_xproc_connect_options_init(&opts_);
    opts_.watch = false;  // the event loop watches the socket
    Napi::Value dir = options.Get("runtimeDir");
    if (dir.IsString()) {
      runtime_dir_ = dir.As<Napi::String>().Utf8Value();
      opts_.runtime_dir = runtime_dir_.c_str();
    }
    for (auto [key, field] : {std::pair{"capacityC2S", &opts_.capacity_c2s},
                              std::pair{"capacityS2C", &opts_.capacity_s2c}}) {
      Napi::Value v = options.Get(key);
      if (v.IsNumber()) *field = v.As<Napi::Number>().Uint32Value();
    }
    Napi::Value timeout = options.Get("timeoutMs");
    if (timeout.IsNumber()) opts_.timeout_ms = timeout.As<Napi::Number>().Int32Value();
    loop_spin_ns_ = MicrosAsNanos(options.Get("loopSpinMicros"), kDefaultLoopSpinNs);
    loop_spin_fixed_ = options.Get("loopSpinFixed").ToBoolean();
    on_wake_ = Napi::Persistent(info[2].As<Napi::Function>());
    on_server_gone_ = Napi::Persistent(info[3].As<Napi::Function>());
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    rc_ = shmrpc_xproc_connect(name_.c_str(), &opts_, conn_.get());
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (rc_ != 0) {
      Napi::Error error = Napi::Error::New(env, conn_->error);
      error.Set("code", Napi::String::New(env, shmrpc_err_name(rc_)));
      deferred_.Reject(error.Value());
      return;
    }
    // The client takes the connection over (it closes it if it throws).
    auto* conn = conn_.release();
    try {
      Napi::Object client = constructor_->New(
          {Napi::External<shmrpc_xproc_connection_t>::New(env, conn),
           on_wake_.Value(), on_server_gone_.Value(),
           Napi::Number::New(env, loop_spin_ns_),
           Napi::Boolean::New(env, loop_spin_fixed_)});
      deferred_.Resolve(client);
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference* constructor_;
  std::unique_ptr<shmrpc_xproc_connection_t> conn_;
  std::string name_;
  std::string runtime_dir_;
  shmrpc_xproc_connect_options_t opts_;
  uint32_t loop_spin_ns_ = 0;
  bool loop_spin_fixed_ = false;
  Napi::FunctionReference on_wake_;
  Napi::FunctionReference on_server_gone_;
  int rc_ = 0;
};

}  // namespace

Napi::Function XprocClient::DefineConnect(Napi::Env env) {
  Napi::Function cls = DefineClass(
      env, "XprocClient",
      {InstanceAccessor<&XprocClient::Buffer>("buffer"),
       InstanceMethod<&XprocClient::Ring>("ring"),
       InstanceMethod<&XprocClient::Wait>("wait"),
       InstanceMethod<&XprocClient::KeepAlive>("keepAlive"),
       InstanceAccessor<&XprocClient::HoldWords>("holdWords"),
       InstanceMethod<&XprocClient::Close>("close"),
       InstanceAccessor<&XprocClient::ServerPid>("serverPid"),
       InstanceAccessor<&XprocClient::Connected>("connected"),
       InstanceAccessor<&XprocClient::LoopWakeUps>("loopWakeUps"),
       InstanceAccessor<&XprocClient::LoopSpins>("loopSpins"),
       InstanceAccessor<&XprocClient::LoopSpinStats>("loopSpinStats")});
  // Connect makes instances through this reference; it lives as long as
  // the environment.
  auto* constructor = new Napi::FunctionReference(Napi::Persistent(cls));
  env.AddCleanupHook([constructor] { delete constructor; });
  return Napi::Function::New(env, Connect, "xprocConnect", constructor);
}

Napi::Value XprocClient::Connect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsObject() ||
      !info[2].IsFunction() || !info[3].IsFunction())
    throw Napi::TypeError::New(
        env, "xprocConnect(name, options, onWake, onServerGone)");
  auto* constructor = static_cast<Napi::FunctionReference*>(info.Data());
  auto* worker = new ConnectWorker(env, constructor, info);
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself once done
  return promise;
}

XprocClient::XprocClient(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<XprocClient>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsExternal() || !info[1].IsFunction() ||
      !info[2].IsFunction() || !info[3].IsNumber())
    throw Napi::TypeError::New(env, "XprocClient: made by xprocConnect only");
  conn_.reset(info[0].As<Napi::External<shmrpc_xproc_connection_t>>().Data());
  // The SharedArrayBuffer owns the mapping from here on; the connection
  // keeps only its descriptors.
  segment_ = static_cast<uint8_t*>(conn_->segment);
  segment_size_ = conn_->segment_size;
  conn_->mapping_taken = true;
  buffer_ = Napi::Persistent(
      Napi::Value(env, SharedBufferOver(segment_, segment_size_)));
  on_wake_ = Napi::Persistent(info[1].As<Napi::Function>());
  on_server_gone_ = Napi::Persistent(info[2].As<Napi::Function>());
  async_context_ = new Napi::AsyncContext(env, "shmrpc:wake");
  Start(env, info[3].As<Napi::Number>().Uint32Value(), info[4].ToBoolean());
  napi_add_env_cleanup_hook(env, EnvCleanup, this);
  cleanup_hook_ = true;
}

void XprocClient::Start(Napi::Env env, uint32_t loop_spin_ns,
                        bool loop_spin_fixed) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok)
    throw Napi::Error::New(env, "XprocClient: no event loop");
  async_ = new uv_async_t;
  uv_async_init(loop, async_, OnAsync);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  wake_poll_ = new uv_poll_t;
  uv_poll_init(loop, wake_poll_, conn_->wake_fd);
  wake_poll_->data = this;
  uv_poll_start(wake_poll_, UV_READABLE, OnWakeFd);
  uv_unref(reinterpret_cast<uv_handle_t*>(wake_poll_));
  socket_poll_ = new uv_poll_t;
  uv_poll_init(loop, socket_poll_, conn_->socket_fd);
  socket_poll_->data = this;
  uv_poll_start(socket_poll_, UV_READABLE | UV_DISCONNECT, OnSocket);
  uv_unref(reinterpret_cast<uv_handle_t*>(socket_poll_));
  hold_ = std::make_unique<LoopHold>(env, ApplyHold, this);
  loop_spin_ = std::make_unique<LoopSpin>(segment_, loop_spin_ns,
                                          loop_spin_fixed, CallOnWake,
                                          WakeSoon, this, hold_.get());
  loop_spin_->Start(loop);
}

// The server wrote the eventfd: JavaScript parked in the loop has news.
void XprocClient::OnWakeFd(uv_poll_t* handle, int status, int events) {
  (void)status;
  (void)events;
  auto* self = static_cast<XprocClient*>(handle->data);
  uint64_t count;
  (void)!read(self->conn_->wake_fd, &count, sizeof count);
  self->loop_wake_ups_++;
  if (self->loop_spin_) self->loop_spin_->Woken();
  CallOnWake(self);
}

// The socket is readable or hung up: the server is gone (it sends nothing
// after the handshake). Marks its side closed in the segment, then tells
// JavaScript, whose channel fails what was pending.
void XprocClient::OnSocket(uv_poll_t* handle, int status, int events) {
  (void)status;
  (void)events;
  auto* self = static_cast<XprocClient*>(handle->data);
  shmrpc_xproc_server_gone(self->conn_.get());
  self->Disconnect();
  if (!self->on_server_gone_.IsEmpty())
    CallBack(self->Env(), self->on_server_gone_, *self->async_context_);
}

void XprocClient::OnAsync(uv_async_t* handle) { CallOnWake(handle->data); }

void XprocClient::WakeSoon(void* self) {
  uv_async_send(static_cast<XprocClient*>(self)->async_);
}

void XprocClient::CallOnWake(void* client) {
  auto* self = static_cast<XprocClient*>(client);
  if (self->on_wake_.IsEmpty()) return;  // closed
  CallBack(self->Env(), self->on_wake_, *self->async_context_);
}

// Stops watching and closes the descriptors (the polls first: libuv must
// not poll a closed descriptor). The mapping stays with the buffer.
void XprocClient::Disconnect() {
  CloseHandle(wake_poll_);
  CloseHandle(socket_poll_);
  if (conn_) shmrpc_xproc_disconnect(conn_.get());
}

Napi::Value XprocClient::Buffer(const Napi::CallbackInfo& info) {
  if (buffer_.IsEmpty()) return info.Env().Undefined();  // closed
  return buffer_.Value();
}

Napi::Value XprocClient::Ring(const Napi::CallbackInfo& info) {
  return RingWaitWord(info, segment_);
}

Napi::Value XprocClient::Wait(const Napi::CallbackInfo& info) {
  return WaitOnWaitWord(info, segment_);
}

// While active, the eventfd's poll holds the loop open: a reply or the
// server's end will come through it (or through the socket).
Napi::Value XprocClient::KeepAlive(const Napi::CallbackInfo& info) {
  hold_->Set(info.Length() > 0 && info[0].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value XprocClient::HoldWords(const Napi::CallbackInfo& info) {
  return hold_->Words(info.Env());
}

void XprocClient::ApplyHold(void* self, bool hold) {
  auto* handle = reinterpret_cast<uv_handle_t*>(static_cast<XprocClient*>(self)->wake_poll_);
  if (handle == nullptr) return;
  hold ? uv_ref(handle) : uv_unref(handle);
}

Napi::Value XprocClient::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

// Closes every handle and descriptor, and lets go of the callbacks and
// the buffer (JavaScript's channel holds it): nothing native keeps the
// connection's JavaScript objects alive after close(), so a closed
// connection is collected, and its mapping with its buffer.
void XprocClient::Shutdown() {
  Disconnect();
  if (loop_spin_) loop_spin_->Close();
  CloseHandle(async_);
  on_wake_.Reset();
  on_server_gone_.Reset();
  buffer_.Reset();
}

Napi::Value XprocClient::ServerPid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), conn_ ? conn_->server_pid : 0);
}

Napi::Value XprocClient::Connected(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), socket_poll_ != nullptr);
}

Napi::Value XprocClient::LoopWakeUps(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(loop_wake_ups_));
}

Napi::Value XprocClient::LoopSpins(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), loop_spin_ && loop_spin_->Active());
}

Napi::Value XprocClient::LoopSpinStats(const Napi::CallbackInfo& info) {
  return SpinStats(info.Env(), loop_spin_->Policy());
}

void XprocClient::EnvCleanup(void* self) {
  auto* client = static_cast<XprocClient*>(self);
  client->cleanup_hook_ = false;
  client->Shutdown();
}

XprocClient::~XprocClient() {
  if (cleanup_hook_) napi_remove_env_cleanup_hook(Env(), EnvCleanup, this);
  Shutdown();
  delete async_context_;
}

}  // namespace shmrpc
