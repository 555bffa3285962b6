/* A fake RPC client for the dispatcher tests (test_rpc_server.c,
 * test_rpc_request_stream.c): a real segment and channel pair, the server
 * (shmrpc_server_run) on its own thread, and the test writing envelopes
 * into the client side and reading what the server answers. */
#ifndef RPC_FAKE_CLIENT_H
#define RPC_FAKE_CLIENT_H

#include <pthread.h>
#include <stdbool.h>

#include "shmrpc/rpc.h"
#include "test_support.h"

#define RECV_TIMEOUT_MS 3000

typedef struct fixture_s {
  test_pair_t pair;
  shmrpc_server_t *server;
  pthread_t thread;
  int run_result;
  bool client_closed;
  /* TEXT/BINARY messages the server passed on */
  int other_messages;
} fixture_t;

/* Opens a pair of `capacity`-byte rings and creates the server with `opts`
 * (its peer label "test", TEXT/BINARY counted in other_messages). Register
 * services, then fixture_run. */
fixture_t *fixture_create(uint32_t capacity, shmrpc_server_options_t *opts);

/* Runs the server on its own thread. */
void fixture_run(fixture_t *f);

/* Closes the client side and waits for the server to return. */
void fixture_close(fixture_t *f);

/* Checks that the server returned cleanly with no call left, and frees
 * everything. */
void fixture_free(fixture_t *f);

void send_raw(fixture_t *f, const void *data, size_t len);
/* Sends `header` with `message` encoded by `fields` (NULL: no body). */
void send_envelope(fixture_t *f, const shmrpc_envelope_t *header,
                   const pb_msgdesc_t *fields, const void *message);
/* Sends a header-only envelope (CANCEL, CREDIT, REQUEST_END, ...). */
void send_control(fixture_t *f, uint8_t kind, uint32_t call_id,
                  uint32_t credit);

/* One envelope the server sent; `body` is a private copy (free it). */
typedef struct reply_s {
  shmrpc_envelope_t env;
  uint8_t *body;
} reply_t;

/* Receives the next envelope, or returns false after `timeout_ms`. */
bool try_recv(fixture_t *f, reply_t *out, int timeout_ms);
reply_t recv_reply(fixture_t *f);
/* Expects an ERROR for `call_id` with `status` (and `text` unless NULL). */
void expect_error(fixture_t *f, uint32_t call_id, uint32_t status,
                  const char *text);
/* Expects no envelope within `ms`. */
void expect_nothing(fixture_t *f, int ms);
/* Decodes a reply's body. */
void decode(const reply_t *r, const pb_msgdesc_t *fields, void *out);

#endif /* RPC_FAKE_CLIENT_H */
