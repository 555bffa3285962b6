/* Helpers for the cross-process tests: a private runtime directory, the
 * shmrpc-host process, and a small RPC client over a cross-process
 * connection that speaks the envelope (docs/PROTOCOL.md 7) with nanopb.
 * Functions that can run in a forked child return errors instead of
 * failing the test. */
#ifndef SHMRPC_XPROC_TEST_SUPPORT_H
#define SHMRPC_XPROC_TEST_SUPPORT_H

#include <stdbool.h>
#include <sys/types.h>

#include <pb.h>

#include "rpc_test.shmrpc.h"
#include "shmrpc/xproc.h"

/* A fresh 0700 directory under $TMPDIR (or /tmp); free with
 * xtest_dir_remove (removes what is left in it). */
void xtest_dir_make(char out[128]);
void xtest_dir_remove(const char *dir);

/* Starts shmrpc-host NAME LIBRARY --runtime-dir DIR [extra...] with its
 * stderr in DIR/NAME.log and waits until it accepts. Returns its pid. */
pid_t xtest_host_start(const char *dir, const char *name, const char *library,
                       const char *const *extra);
/* Waits up to `timeout_ms` for the process to exit; returns its wait
 * status, or -1 (still running: it is then killed with SIGKILL). */
int xtest_wait_exit(pid_t pid, int timeout_ms);
/* The path of a test service library in the build (SHMRPC_SERVICES_DIR). */
const char *xtest_service(const char *file);
/* Entries of /proc/PID/fd and /proc/PID/task. */
int xtest_count_fds(pid_t pid);
int xtest_count_threads(pid_t pid);
/* True once `count` equals `want` within `timeout_ms`. */
bool xtest_wait_count(int (*count)(pid_t), pid_t pid, int want,
                      int timeout_ms);
/* True once `count` exceeds `floor` within `timeout_ms`. */
bool xtest_wait_above(int (*count)(pid_t), pid_t pid, int floor,
                      int timeout_ms);
/* `count` once it has not changed for `settle_ms` (within `timeout_ms`;
 * else its last value): e.g. descriptors a connection that just ended
 * has not closed yet. */
int xtest_wait_steady(int (*count)(pid_t), pid_t pid, int settle_ms,
                      int timeout_ms);
/* The host's log (DIR/NAME.log) contains `text`. */
bool xtest_log_contains(const char *dir, const char *name, const char *text);

/* An RPC client over a cross-process connection. */
typedef struct xclient_s {
  shmrpc_xproc_connection_t conn;
  shmrpc_channel_t ch;
  bool open;
} xclient_t;

/* Connects to NAME in DIR and opens the client side. Returns 0 or the
 * shmrpc error (conn.error says why). */
int xclient_open(xclient_t *c, const char *dir, const char *name);
/* Closes the channel and disconnects. */
void xclient_close(xclient_t *c);

/* Sends a REQUEST envelope with `message` as its body. */
int xclient_request(xclient_t *c, uint32_t call_id, uint32_t method_id,
                    uint32_t schema_hash, uint32_t credit,
                    const pb_msgdesc_t *fields, const void *message);
/* Sends a body-less envelope (CANCEL, CREDIT). */
int xclient_control(xclient_t *c, uint8_t kind, uint32_t call_id,
                    uint32_t credit);

/* One envelope received; `body` is a private copy (free it). */
typedef struct xreply_s {
  shmrpc_envelope_t env;
  uint8_t *body;
} xreply_t;
/* Receives the next envelope. Returns 1, 0 on timeout, or a negative
 * error (SHMRPC_ECLOSED once the server is gone). */
int xclient_recv(xclient_t *c, xreply_t *out, int timeout_ms);
/* Decodes a reply's body. */
bool xreply_decode(const xreply_t *r, const pb_msgdesc_t *fields, void *out);

/* Starts a Hang call (answered only by its cancellation). */
int xclient_hang(xclient_t *c, uint32_t call_id);
/* Receives and drops envelopes until none comes: returns 0 (timeout) or
 * the error that ended the stream (SHMRPC_ECLOSED once the server is
 * gone). */
int xclient_drain(xclient_t *c, int timeout_ms);

/* Calls Echo(text) and checks the answer. Returns 0, or -1 with a message
 * on stderr. */
int xclient_echo(xclient_t *c, uint32_t call_id, const char *text);

#endif /* SHMRPC_XPROC_TEST_SUPPORT_H */
