#include "xproc_client.h"

#include <sys/mman.h>
#include <unistd.h>
#include <v8.h>

#include <cstring>
#include <string>

#include "shmrpc/segment.h"
#include "wake_glue.h"

namespace shmrpc {
namespace {

// The relay threads' spin budget when JavaScript names none.
constexpr uint32_t kDefaultRelaySpinNs = 50000;
// How long close() waits for what JavaScript sent before it closed to pass
// the relay; a server that does not drain its ring makes close() drop it
// after this long (shmrpc_relay_stop).
constexpr int kRelayFlushMs = 200;
// The code of mapSegment's error where buffers over outside memory are
// refused (Electron): connect() takes the relay then.
constexpr const char* kExternalRefused = "ERR_SHMRPC_EXTERNAL_REFUSED";

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

}  // namespace

XprocClient::XprocClient(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<XprocClient>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsExternal() || !info[1].IsFunction() ||
      !info[2].IsFunction() || !info[3].IsNumber())
    throw Napi::TypeError::New(env, "XprocClient: made by xprocConnect only");
  conn_.reset(info[0].As<Napi::External<shmrpc_xproc_connection_t>>().Data());
  on_wake_ = Napi::Persistent(info[1].As<Napi::Function>());
  on_server_gone_ = Napi::Persistent(info[2].As<Napi::Function>());
  loop_spin_ns_ = info[3].As<Napi::Number>().Uint32Value();
  loop_spin_fixed_ = info[4].ToBoolean();
  async_context_ = new Napi::AsyncContext(env, "shmrpc:wake");
  Start(env);
  napi_add_env_cleanup_hook(env, EnvCleanup, this);
  cleanup_hook_ = true;
}

// What both routes need: the socket's watch (the server's liveness) and
// the uv_async (LoopSpin's "wake after the poll", the relay's wake-ups).
void XprocClient::Start(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok)
    throw Napi::Error::New(env, "XprocClient: no event loop");
  async_ = new uv_async_t;
  uv_async_init(loop, async_, OnAsync);
  async_->data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_));
  socket_poll_ = new uv_poll_t;
  uv_poll_init(loop, socket_poll_, conn_->socket_fd);
  socket_poll_->data = this;
  uv_poll_start(socket_poll_, UV_READABLE | UV_DISCONNECT, OnSocket);
  uv_unref(reinterpret_cast<uv_handle_t*>(socket_poll_));
  hold_ = std::make_unique<LoopHold>(env, ApplyHold, this);
}

void XprocClient::ChooseRoute(Napi::Env env, uint8_t* segment) {
  if (segment_ != nullptr)
    throw Napi::Error::New(env, "XprocClient: the route is chosen already");
  if (!socket_poll_)
    throw Napi::Error::New(env, "XprocClient: the connection is closed");
  segment_ = segment;
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  loop_spin_ = std::make_unique<LoopSpin>(segment_, loop_spin_ns_,
                                          loop_spin_fixed_, CallOnWake,
                                          WakeSoon, this, hold_.get());
  loop_spin_->Start(loop);
}

// The direct route: a real SharedArrayBuffer over the mapping, which owns
// it from then on; the connection keeps only its descriptors.
Napi::Value XprocClient::MapSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ExternalBuffersAllowed(env)) {
    Napi::Error error = Napi::Error::New(
        env, "this runtime refuses buffers over memory V8 did not allocate "
             "(Electron's memory cage): connect() relays instead "
             "(docs/CROSS-PROCESS.md)");
    error.Set("code", Napi::String::New(env, kExternalRefused));
    throw error;
  }
  ChooseRoute(env, static_cast<uint8_t*>(conn_->segment));
  segment_size_ = conn_->segment_size;
  conn_->mapping_taken = true;
  buffer_ = Napi::Persistent(
      Napi::Value(env, SharedBufferOver(segment_, segment_size_)));
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  wake_poll_ = new uv_poll_t;
  uv_poll_init(loop, wake_poll_, conn_->wake_fd);
  wake_poll_->data = this;
  uv_poll_start(wake_poll_, UV_READABLE, OnWakeFd);
  uv_unref(reinterpret_cast<uv_handle_t*>(wake_poll_));
  return buffer_.Value();
}

// The relay route: JavaScript's own segment (formatted, its client side
// open), and the C relay between it and the mapping.
Napi::Value XprocClient::StartRelay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(
        env, "startRelay: argument 1 must be a Uint8Array over the segment");
  Napi::Object options = info.Length() > 1 && info[1].IsObject()
                             ? info[1].As<Napi::Object>()
                             : Napi::Object::New(env);
  Napi::Uint8Array array = info[0].As<Napi::Uint8Array>();
  uint8_t* segment = array.Data();
  size_t size = array.ByteLength();
  ChooseRoute(env, segment);
  segment_size_ = size;
  relay_memory_ = BackingStoreOf(array);
  shmrpc_relay_options_t opts;
  shmrpc_relay_options_init(&opts);
  opts.spin_ns = MicrosAsNanos(options.Get("spinMicros"), kDefaultRelaySpinNs);
  opts.spin_fixed = options.Get("spinFixed").ToBoolean();
  opts.wake_client_loop = RelayWake;
  opts.wake_client_loop_user = this;
  int rc = shmrpc_relay_start(segment, size, conn_->segment,
                              conn_->segment_size, &opts, &relay_);
  if (rc != 0) {
    Napi::Error error = Napi::Error::New(
        env, std::string("startRelay: ") + shmrpc_strerror(rc));
    error.Set("code", Napi::String::New(env, shmrpc_err_name(rc)));
    throw error;
  }
  return env.Undefined();
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
// after the handshake). Marks its side dead in the segment, then tells
// JavaScript, whose channel fails what was pending.
void XprocClient::OnSocket(uv_poll_t* handle, int status, int events) {
  (void)status;
  (void)events;
  auto* self = static_cast<XprocClient*>(handle->data);
  shmrpc_xproc_server_gone(self->conn_.get());
  // The relay passes the server's death on to JavaScript's segment (its
  // threads, or its stop, which ends that side as DEAD) before it stops.
  self->Disconnect(0);
  if (!self->on_server_gone_.IsEmpty())
    CallBack(self->Env(), self->on_server_gone_, *self->async_context_);
}

// LoopSpin's "wake after the poll", or a relay thread woke the loop (a
// real wake-up, which ends a parked wait for the spin policy).
void XprocClient::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<XprocClient*>(handle->data);
  if (self->relay_ != nullptr && self->loop_spin_) self->loop_spin_->Woken();
  CallOnWake(self);
}

void XprocClient::WakeSoon(void* self) {
  uv_async_send(static_cast<XprocClient*>(self)->async_);
}

// Runs on a relay thread: JavaScript parked in the loop has news. The
// relay is stopped before the handle closes.
void XprocClient::RelayWake(void* client) {
  auto* self = static_cast<XprocClient*>(client);
  self->relay_wake_ups_.fetch_add(1, std::memory_order_relaxed);
  uv_async_send(self->async_);
}

void XprocClient::CallOnWake(void* client) {
  auto* self = static_cast<XprocClient*>(client);
  if (self->on_wake_.IsEmpty()) return;  // closed
  CallBack(self->Env(), self->on_wake_, *self->async_context_);
}

void XprocClient::Disconnect(int flush_ms) {
  if (relay_ != nullptr) {
    (void)shmrpc_relay_stop(relay_, flush_ms, &relay_counts_[0],
                            &relay_counts_[1]);
    relay_ = nullptr;
  }
  // The polls first: libuv must not poll a closed descriptor.
  CloseHandle(wake_poll_);
  CloseHandle(socket_poll_);
  if (conn_) shmrpc_xproc_disconnect(conn_.get());
}

Napi::Value XprocClient::Buffer(const Napi::CallbackInfo& info) {
  if (buffer_.IsEmpty()) return info.Env().Undefined();  // relayed or closed
  return buffer_.Value();
}

// The ring capacities the server granted, from the mapping's header (the
// C client validated it; JavaScript's own segment takes the same).
Napi::Value XprocClient::Capacities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array result = Napi::Array::New(env, 2);
  const auto* header = static_cast<const uint8_t*>(conn_->segment);
  for (uint32_t i = 0; i < 2; i++) {
    uint32_t capacity = 0;
    if (header != nullptr)
      std::memcpy(&capacity, header + SHMRPC_OFF_CAPACITY_C2S + 4 * i,
                  sizeof capacity);
    result.Set(i, Napi::Number::New(env, capacity));
  }
  return result;
}

Napi::Value XprocClient::RelayCounts(const Napi::CallbackInfo& info) {
  if (relay_ != nullptr)
    shmrpc_relay_counts(relay_, &relay_counts_[0], &relay_counts_[1]);
  Napi::Env env = info.Env();
  Napi::Array result = Napi::Array::New(env, 2);
  for (uint32_t i = 0; i < 2; i++)
    result.Set(i, Napi::Number::New(env, static_cast<double>(relay_counts_[i])));
  return result;
}

Napi::Value XprocClient::Ring(const Napi::CallbackInfo& info) {
  if (segment_ == nullptr) throw Napi::Error::New(info.Env(), "ring: no route chosen");
  return RingWaitWord(info, segment_);
}

Napi::Value XprocClient::Wait(const Napi::CallbackInfo& info) {
  if (segment_ == nullptr) throw Napi::Error::New(info.Env(), "wait: no route chosen");
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

// The handle the server's wake-ups come through holds the loop: the
// eventfd's poll (direct), or the uv_async the relay sends.
void XprocClient::ApplyHold(void* client, bool hold) {
  auto* self = static_cast<XprocClient*>(client);
  auto* handle = self->wake_poll_ != nullptr
                     ? reinterpret_cast<uv_handle_t*>(self->wake_poll_)
                     : self->relay_ != nullptr
                           ? reinterpret_cast<uv_handle_t*>(self->async_)
                           : nullptr;
  if (handle == nullptr) return;
  hold ? uv_ref(handle) : uv_unref(handle);
}

Napi::Value XprocClient::Close(const Napi::CallbackInfo& info) {
  Shutdown(kRelayFlushMs);
  return info.Env().Undefined();
}

// Stops the relay (after up to flush_ms for what JavaScript sent before it
// closed), closes every handle and descriptor, and lets go of the
// callbacks and the buffer (JavaScript's channel holds it): nothing native
// keeps the connection's JavaScript objects alive after close(), so a
// closed connection is collected, and its mapping with its buffer.
void XprocClient::Shutdown(int flush_ms) {
  Disconnect(flush_ms);
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
  uint64_t wake_ups = loop_wake_ups_ + relay_wake_ups_.load(std::memory_order_relaxed);
  return Napi::Number::New(info.Env(), static_cast<double>(wake_ups));
}

Napi::Value XprocClient::LoopSpins(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), loop_spin_ && loop_spin_->Active());
}

Napi::Value XprocClient::LoopSpinStats(const Napi::CallbackInfo& info) {
  if (!loop_spin_) return info.Env().Undefined();  // no route yet
  return SpinStats(info.Env(), loop_spin_->Policy());
}

void XprocClient::EnvCleanup(void* self) {
  auto* client = static_cast<XprocClient*>(self);
  client->cleanup_hook_ = false;
  // JavaScript is gone: nothing to wait for.
  TearDownQuietly([client] { client->Shutdown(0); });
}

XprocClient::~XprocClient() {
  if (cleanup_hook_) napi_remove_env_cleanup_hook(Env(), EnvCleanup, this);
  // Collected without close(): nobody waits for the channel.
  TearDownQuietly([this] { Shutdown(0); });
  delete async_context_;
}

}  // namespace shmrpc
