// xprocConnect: the handshake on a libuv worker thread, then the
// XprocClient made on the loop thread (js/native/xproc_client.h), and the
// class's definition for JavaScript.
#include <memory>
#include <string>
#include <utility>

#include "wake_glue.h"
#include "xproc_client.h"

namespace shmrpc {
namespace {

// The event loop's spin budget when JavaScript names none (as in-process).
constexpr uint32_t kDefaultLoopSpinNs = 50000;

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
      {InstanceMethod<&XprocClient::MapSegment>("mapSegment"),
       InstanceMethod<&XprocClient::StartRelay>("startRelay"),
       InstanceAccessor<&XprocClient::Buffer>("buffer"),
       InstanceAccessor<&XprocClient::Capacities>("capacities"),
       InstanceMethod<&XprocClient::Ring>("ring"),
       InstanceMethod<&XprocClient::Wait>("wait"),
       InstanceMethod<&XprocClient::KeepAlive>("keepAlive"),
       InstanceAccessor<&XprocClient::HoldWords>("holdWords"),
       InstanceMethod<&XprocClient::Close>("close"),
       InstanceAccessor<&XprocClient::ServerPid>("serverPid"),
       InstanceAccessor<&XprocClient::Connected>("connected"),
       InstanceAccessor<&XprocClient::RelayCounts>("relayCounts"),
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

}  // namespace shmrpc
