/* Typed RPC over a channel: the envelope (docs/PROTOCOL.md section 7), the
 * server that dispatches requests to generated nanopb handlers, and the call
 * context a handler works with.
 *
 * This layer links nanopb (target `shmrpc_rpc`); the channel underneath
 * (`shmrpc`) does not. Build code that includes this header against the
 * nanopb runtime of this build, `shmrpc::nanopb` (the `shmrpc_rpc` target
 * links it): -DPB_ENABLE_MALLOC (unbounded strings, bytes and repeated
 * fields are malloc'd pointers) and -DPB_FIELD_32BIT (fields up to the
 * message limit).
 *
 * Example usage (a hosted service library; see SHMRPC_SERVICE_LIBRARY):
 *
 *   static int say_hello(shmrpc_call_t *call, const greeter_HelloRequest *req,
 *                        greeter_HelloReply *res) {
 *     res->message = strdup(req->name);   // freed by the runtime
 *     return res->message ? SHMRPC_STATUS_OK :
 * SHMRPC_STATUS_RESOURCE_EXHAUSTED;
 *   }
 *   static const greeter_Greeter_handlers_t handlers = {.SayHello = say_hello};
 *   SHMRPC_SERVICE_LIBRARY(&greeter_Greeter_service, &handlers, NULL)
 */
#ifndef SHMRPC_RPC_H
#define SHMRPC_RPC_H

#include <stdbool.h>

#include "shmrpc/channel.h"
#include "shmrpc/envelope.h"
#include "shmrpc/host.h"
#include "shmrpc/service.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Server                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct shmrpc_server_s shmrpc_server_t;

typedef struct shmrpc_server_options_s {
  /* Calls in flight at once (including deferred and streaming calls whose
   * handler has not finished). A REQUEST beyond this is answered with
   * RESOURCE_EXHAUSTED. Default 65536. */
  uint32_t max_calls;
  /* What shmrpc_call_peer() reports, e.g. "in-process". Copied. Default
   * "unknown". */
  const char *peer;
  /* Receives the channel's TEXT and BINARY messages (RPC uses COMMAND
   * only). NULL drops them. Called on the dispatch thread. */
  shmrpc_message_fn on_other_message;
  void *on_other_message_user;
  /* Messages of a client-streaming or bidirectional call's request stream
   * that the client may send ahead of its handler (the credit the server
   * grants, docs/PROTOCOL.md section 7): at most this many wait per call,
   * each at most the server's message limit. Default 16. */
  uint32_t request_window;
} shmrpc_server_options_t;

/* Fills `opts` with the defaults. */
SHMRPC_EXTERN void shmrpc_server_options_init(shmrpc_server_options_t *opts);

/* Creates a server on an open channel (the server side). The channel must
 * outlive the server. `opts` may be NULL. Returns 0, SHMRPC_EINVAL or
 * SHMRPC_ENOMEM. Release with shmrpc_server_destroy. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_server_create(shmrpc_channel_t *ch, const shmrpc_server_options_t *opts,
                     shmrpc_server_t **out);

/* Registers a generated service with the user's handler table (the
 * generated `<pkg>_<Service>_handlers_t`) and user data that handlers read
 * through shmrpc_call_user_data(). `service` and `handlers` must outlive
 * the server. Call before serving. Returns 0, SHMRPC_EINVAL (NULL, or a
 * method id already registered) or SHMRPC_ENOMEM. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_server_register(shmrpc_server_t *server, const shmrpc_service_t *service,
                       const void *handlers, void *user_data);

/* Serves on the calling thread (the dispatch thread) until the client
 * closes the channel, then fails every call still in flight with
 * UNAVAILABLE (their writers return it, cancel hooks run) and closes this
 * side. Returns 0 after an orderly close, SHMRPC_EPEERDEAD when the client
 * died (an observer marked it DEAD), or SHMRPC_EPROTO. */
SHMRPC_EXTERN int shmrpc_server_run(shmrpc_server_t *server);

/* One round of serving for hosts with their own loop: waits up to
 * `timeout_ms` (0 = do not wait, -1 = forever) for messages, handles them
 * and expires deadlines. Always call from the same thread. Returns the
 * number of messages handled, SHMRPC_ECLOSED once the channel closed or
 * SHMRPC_EPEERDEAD once the client died (calls in flight have then been
 * failed as in shmrpc_server_run), or SHMRPC_EPROTO. */
SHMRPC_EXTERN int shmrpc_server_poll(shmrpc_server_t *server, int timeout_ms);

/* Sends a one-way EVENT to the client: `event_id` names it (the client
 * subscribes by that id), `fields`/`message` are the nanopb descriptor and
 * struct of its payload (the caller keeps ownership of `message`). Any
 * thread. Waits while the client's ring is full (the TypeScript client
 * reads it while it has calls in flight or event listeners). The event id
 * is usually shmrpc_event_id("pkg.Service/EventName"). Returns 0,
 * SHMRPC_ECLOSED, SHMRPC_EMSGSIZE, SHMRPC_ENOMEM, SHMRPC_EPROTO or
 * SHMRPC_EINVAL (the message does not encode). */
SHMRPC_EXTERN int shmrpc_server_emit(shmrpc_server_t *server, uint32_t event_id,
                                     const pb_msgdesc_t *fields,
                                     const void *message);

/* Calls in the server's call table: started, not yet answered, cancelled
 * or expired. Any thread. */
SHMRPC_EXTERN size_t shmrpc_server_calls_in_flight(shmrpc_server_t *server);

/* Calls whose memory is still held: in the table, or deferred and not yet
 * finished by their handler. Any thread. */
SHMRPC_EXTERN size_t shmrpc_server_calls_alive(shmrpc_server_t *server);

/* Replies the client will not see because it gave up first: calls
 * cancelled or expired before their handler finished. Any thread. */
SHMRPC_EXTERN uint64_t shmrpc_server_calls_abandoned(shmrpc_server_t *server);

/* Frees the server. Call after run/poll returned, when no other thread
 * uses it. Calls that a handler deferred and never finished are freed too:
 * their shmrpc_call_t pointers are invalid afterwards. */
SHMRPC_EXTERN void shmrpc_server_destroy(shmrpc_server_t *server);

/* What a service library runs around serving (SHMRPC_SERVICE_LIBRARY).
 * Every member is optional. */
typedef struct shmrpc_service_hooks_s {
  /* Handed to handlers (shmrpc_call_user_data) unless `setup` replaces it. */
  void *user_data;
  /* Runs on the service thread before the first call, with the server
   * (set options, emit events later) and the string the client gave the
   * host (InProcessService's `config`, shmrpc-host's --config), or NULL.
   * May replace `*user_data`. Returns 0, or a negative SHMRPC_E* code to
   * refuse to serve: the channel closes and the host gets that code. */
  int (*setup)(shmrpc_server_t *server, const char *config, void **user_data);
  /* Runs once the client is gone, after `setup` succeeded: no handler runs
   * any more and the channel is closed, so what a deferred call still
   * sends fails at once. Stop the service's threads (finishing the calls
   * they hold) and free `user_data`; the server is destroyed afterwards. */
  void (*teardown)(shmrpc_server_t *server, void *user_data);
} shmrpc_service_hooks_t;

/* Serves `service` on the host's channel until the client closes it:
 * opens the channel, creates a server (its peer is the host's `peer`),
 * runs `hooks->setup`, registers, runs, closes, runs `hooks->teardown`,
 * cleans up. `hooks` may be NULL. Returns 0 after an orderly close or a
 * negative SHMRPC_E* code. SHMRPC_SERVICE_LIBRARY is the way to use it;
 * call it yourself only from a shmrpc_serve of your own that does more
 * than one service's work. */
SHMRPC_EXTERN int shmrpc_serve_service(const shmrpc_host_t *host,
                                       const shmrpc_service_t *service,
                                       const void *handlers,
                                       const shmrpc_service_hooks_t *hooks);

/* The one way to write a C service: defines the library's `shmrpc_serve`
 * entry point (host.h) for one service, so that every host runs it (the
 * Node addon in-process, shmrpc-host across processes, a browser Worker).
 * `hooks` is a const shmrpc_service_hooks_t * or NULL.
 *
 *   SHMRPC_SERVICE_LIBRARY(&greeter_Greeter_service, &handlers, NULL)
 *
 *   static const shmrpc_service_hooks_t hooks = {.setup = open_device,
 *                                                .teardown = close_device};
 *   SHMRPC_SERVICE_LIBRARY(&audio_Engine_service, &handlers, &hooks)
 *
 * Lower levels, for what this does not cover: shmrpc_server_create/
 * register/run/poll serve RPC on a channel you opened yourself (your own
 * host, or a server inside a bigger program), and shmrpc_host_run (host.h)
 * serves raw TEXT/BINARY/COMMAND frames without RPC. */
#define SHMRPC_SERVICE_LIBRARY(service, handlers, hooks)                       \
  SHMRPC_EXTERN int shmrpc_serve(const shmrpc_host_t *host) {                  \
    return shmrpc_serve_service(host, (service), (handlers), (hooks));         \
  }

/* ------------------------------------------------------------------------ */
/* Call context                                                              */
/* ------------------------------------------------------------------------ */

/* A call's lifetime: the runtime creates it when a REQUEST arrives and
 * hands it to the handler on the dispatch thread (a handler that blocks
 * delays every other call; long work belongs on another thread, with
 * SHMRPC_DEFERRED). A handler must not return a number it did not choose
 * (a status taken from a request, an errno): -1 is SHMRPC_DEFERRED, and a
 * call it defers by accident is never answered. The handler's part ends when it returns a status, or,
 * when it returned SHMRPC_DEFERRED, when shmrpc_call_finish() is called
 * exactly once (from any thread). Until then the call, its request struct
 * and (unary) its response struct stay valid, also after the client
 * cancelled; afterwards the pointers are invalid. A client-streaming or
 * bidirectional handler gets no request struct: it reads the request
 * stream with shmrpc_call_read(). Accessors may be used
 * from any thread while the handler's part lasts. */

SHMRPC_EXTERN uint32_t shmrpc_call_id(const shmrpc_call_t *call);
SHMRPC_EXTERN const shmrpc_method_t *
shmrpc_call_method(const shmrpc_call_t *call);
/* The user data registered with the call's service. */
SHMRPC_EXTERN void *shmrpc_call_user_data(const shmrpc_call_t *call);
SHMRPC_EXTERN shmrpc_server_t *shmrpc_call_server(const shmrpc_call_t *call);
/* The server's peer label (shmrpc_server_options_t.peer). */
SHMRPC_EXTERN const char *shmrpc_call_peer(const shmrpc_call_t *call);

/* The deadline that travelled with the request, as CLOCK_MONOTONIC
 * nanoseconds, or 0 when the call has none. */
SHMRPC_EXTERN uint64_t shmrpc_call_deadline_ns(const shmrpc_call_t *call);
/* Microseconds left until the deadline (0 once it passed), or -1 when the
 * call has none. */
SHMRPC_EXTERN int64_t shmrpc_call_time_left_us(const shmrpc_call_t *call);

/* True once the client cancelled the call, its deadline passed or the
 * channel closed: whatever the handler still sends is dropped, so a long
 * handler should check this and stop. */
SHMRPC_EXTERN bool shmrpc_call_cancelled(const shmrpc_call_t *call);

/* Registers `fn` to run once when the call is cancelled (as above), on the
 * dispatch thread; at once on this thread if it already is. A handler that
 * returned SHMRPC_DEFERRED typically finishes the call there (a handler
 * that returns a status must not: the runtime finishes its call). Only one
 * hook per call; a later registration replaces an earlier one. If the hook
 * finishes the call, nothing else may. Not called once the call finished. */
typedef void (*shmrpc_cancel_fn)(shmrpc_call_t *call, void *user);
SHMRPC_EXTERN void shmrpc_call_on_cancel(shmrpc_call_t *call,
                                         shmrpc_cancel_fn fn, void *user);

/* Sets the status message sent with a non-OK status (printf format,
 * copied). Returns 0 or SHMRPC_ENOMEM. */
SHMRPC_EXTERN int shmrpc_call_set_error(shmrpc_call_t *call, const char *fmt,
                                        ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Sends one message of a server-streaming or bidirectional call (`message` is a struct of
 * the method's response type; the caller keeps ownership). Consumes one
 * unit of the client's credit; when there is none it waits for more:
 * on the dispatch thread it keeps reading CREDIT and CANCEL frames (new
 * requests wait until the handler returns), on another thread it sleeps.
 * Not to be called for one call from two threads at once. Returns
 * SHMRPC_STATUS_OK, CANCELLED (the client cancelled), DEADLINE_EXCEEDED,
 * UNAVAILABLE (the channel closed), RESOURCE_EXHAUSTED (larger than the
 * client accepts), INTERNAL (the message does not encode) or
 * FAILED_PRECONDITION (no response stream). After anything but OK the
 * stream is over for the client (or unusable): finish the call. */
SHMRPC_EXTERN int shmrpc_call_write(shmrpc_call_t *call, const void *message);

/* Reads the next message of a client-streaming or bidirectional call's
 * request stream. On OK, `*message` points at the decoded request struct
 * (the runtime's: valid until the next read or the end of the call, its
 * pointer fields released by the runtime), or is NULL when the client
 * ended its stream (it half-closed: nothing more will come). Waits while
 * nothing has arrived: on the dispatch thread it keeps reading the
 * channel (new requests wait until the handler returns), on another
 * thread it sleeps. Reading grants the client credit for more (up to
 * request_window messages wait per call). Not to be called for one call
 * from two threads at once. Returns SHMRPC_STATUS_OK, CANCELLED,
 * DEADLINE_EXCEEDED, UNAVAILABLE (the channel closed), INVALID_ARGUMENT (a
 * message does not decode, with the reason set as the call's error
 * message: return it; or the client broke the stream's rules, and the
 * call is over) or FAILED_PRECONDITION (not a call with a request stream,
 * or it finished). After anything but OK, finish the call.
 *
 * Example usage (a client-streaming handler):
 *
 *   const pkg_Item *item;
 *   int status;
 *   while ((status = pkg_Svc_Sum_read(call, &item)) == SHMRPC_STATUS_OK &&
 *          item != NULL)
 *     response->total += item->value;
 *   return status;
 */
SHMRPC_EXTERN int shmrpc_call_read(shmrpc_call_t *call, const void **message);

/* Ends the call with `status` (a shmrpc_status_t) from any thread; the
 * call pointer is invalid afterwards. A unary or client-streaming call with OK sends
 * `response` (a response struct: the one the handler was given, or another
 * of the same type); any other status sends ERROR with the message set by
 * shmrpc_call_set_error (or the status name). A server-streaming or
 * bidirectional call sends STREAM_END with the status. The request struct and the response struct
 * the handler was given are released with pb_release here, so their
 * pointer fields must be malloc'd; any other `response` stays the
 * caller's. Returns SHMRPC_STATUS_OK when the reply was sent; CANCELLED
 * when the client had cancelled, DEADLINE_EXCEEDED when the deadline had
 * passed (the client gets DEADLINE_EXCEEDED, not the reply); UNAVAILABLE
 * when the channel closed; RESOURCE_EXHAUSTED or INTERNAL when the
 * response could not be sent (larger than the client accepts, or it does
 * not encode: the client gets that status instead). */
SHMRPC_EXTERN int shmrpc_call_finish(shmrpc_call_t *call, int status,
                                     const void *response);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_RPC_H */
