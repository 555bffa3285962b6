/* Cross-process transport: a service process listens under a name, clients
 * in other processes attach to it (docs/PROTOCOL.md section 9).
 *
 * The server listens on a Unix domain socket in the user's runtime
 * directory ($XDG_RUNTIME_DIR/shmrpc, else /tmp/shmrpc-UID, both 0700 and
 * owned by the user). For each client it creates one memfd segment and an
 * eventfd, passes them over the socket, and runs a service's shmrpc_serve
 * (c/include/shmrpc/host.h) on a thread of its own: a service library built
 * for the in-process host is served unchanged. The socket stays open for
 * the connection's life; when either process dies the kernel closes it and
 * the survivor marks the dead side's state in the segment and wakes every
 * waiter, so nothing waits for a peer that is gone.
 *
 * Example usage (a server):
 *
 *   shmrpc_xproc_server_options_t opts;
 *   shmrpc_xproc_server_options_init(&opts);
 *   opts.serve = shmrpc_serve;               // a service's entry point
 *   shmrpc_xproc_server_t *server;
 *   char why[SHMRPC_XPROC_ERROR_BYTES];
 *   int rc = shmrpc_xproc_server_start("calc", &opts, &server, why);
 *   if (rc < 0) fprintf(stderr, "%s\n", why);
 *   ...
 *   shmrpc_xproc_server_stop(server);        // stops and frees it
 *
 * and a client:
 *
 *   shmrpc_xproc_connection_t conn;
 *   if (shmrpc_xproc_connect("calc", NULL, &conn) < 0)
 *     fprintf(stderr, "%s\n", conn.error);
 *   shmrpc_channel_open(&ch, conn.segment, conn.segment_size,
 *                       SHMRPC_SIDE_CLIENT, NULL);
 *   ...
 *   shmrpc_channel_close(&ch);
 *   shmrpc_xproc_disconnect(&conn);
 */
#ifndef SHMRPC_XPROC_H
#define SHMRPC_XPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "shmrpc/host.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Room for an error description (a path, a uid, a reason). */
#define SHMRPC_XPROC_ERROR_BYTES 256
/* Longest name a server listens under: [A-Za-z0-9._-], not starting with
 * a dot. */
#define SHMRPC_XPROC_NAME_MAX 64

/* --- server ------------------------------------------------------------ */

typedef struct shmrpc_xproc_server_s shmrpc_xproc_server_t;

/* What happened to a connection, for the server's log. */
typedef enum {
  SHMRPC_XPROC_CONNECTED = 1,    /* handshake done, serve starts */
  SHMRPC_XPROC_REFUSED = 2,      /* credentials or handshake refused */
  SHMRPC_XPROC_DISCONNECTED = 3  /* serve returned, resources freed */
} shmrpc_xproc_event_kind_t;

typedef struct shmrpc_xproc_event_s {
  shmrpc_xproc_event_kind_t kind;
  pid_t pid; /* the peer's, from SO_PEERCRED */
  uid_t uid;
  gid_t gid;
  /* DISCONNECTED: true when the client's socket hung up before the
   * channel closed (the client died or dropped the connection). */
  bool hung_up;
  /* DISCONNECTED: what shmrpc_serve returned; REFUSED: the shmrpc code. */
  int result;
  /* REFUSED: why. DISCONNECTED: "" */
  const char *reason;
  size_t connections; /* open connections after this event */
} shmrpc_xproc_event_t;

typedef void (*shmrpc_xproc_event_fn)(void *user,
                                      const shmrpc_xproc_event_t *event);

typedef struct shmrpc_xproc_server_options_s {
  /* The service's entry point, run once per connection on its own thread.
   * Required. */
  shmrpc_serve_fn serve;
  /* Passed to serve as host->config. May be NULL. Copied. */
  const char *config;
  /* Spin budget of the server side before it parks: the cap of its
   * adaptive budget, or with spin_fixed every wait's. Default 50 000 ns. */
  uint32_t spin_ns;
  bool spin_fixed;
  /* Ring capacities when a client asks for none: default 1 MiB each. */
  uint32_t default_capacity;
  /* The largest ring a client may ask for. Default 64 MiB. */
  uint32_t max_capacity;
  /* Connections at once; more are refused. Default 64. */
  uint32_t max_connections;
  /* Who may attach: peers whose SO_PEERCRED uid is `allow_uid` (default:
   * this process's effective uid), or, when `allow_group` is true, whose
   * gid or supplementary groups include `allow_gid`. A group needs a
   * runtime directory that its members can reach (`runtime_dir`). */
  uid_t allow_uid;
  bool allow_group;
  gid_t allow_gid;
  /* The directory for the socket and lock file. NULL: the user's runtime
   * directory (see above), created if missing. It must be owned by this
   * process's effective uid, not a symbolic link, and give no access to
   * others (mode & 007 == 0; with allow_group, also no group write). */
  const char *runtime_dir;
  /* A client that sends no hello within this time is dropped. Default
   * 5000 ms. */
  int handshake_timeout_ms;
  /* Told of every connect, refusal and disconnect, on the server's
   * threads (one at a time). May be NULL. */
  shmrpc_xproc_event_fn on_event;
  void *on_event_user;
} shmrpc_xproc_server_options_t;

/* Fills `opts` with the defaults (no serve function). */
SHMRPC_EXTERN void
shmrpc_xproc_server_options_init(shmrpc_xproc_server_options_t *opts);

/* Listens under `name` and serves clients on threads of their own until
 * shmrpc_xproc_server_stop. A socket left by a server that died is
 * replaced; a live server under the same name is refused. On failure
 * `why` (SHMRPC_XPROC_ERROR_BYTES, may be NULL) says what failed.
 * Returns 0, SHMRPC_EINVAL (bad name or options), SHMRPC_EACCES (the
 * directory's owner or mode), SHMRPC_EINUSE (a live server), SHMRPC_ENOMEM
 * or SHMRPC_ESYSTEM. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_xproc_server_start(const char *name,
                          const shmrpc_xproc_server_options_t *opts,
                          shmrpc_xproc_server_t **out, char *why);

/* The socket's path (valid until stop). */
SHMRPC_EXTERN const char *
shmrpc_xproc_server_path(const shmrpc_xproc_server_t *server);

/* Connections being served now. */
SHMRPC_EXTERN size_t
shmrpc_xproc_server_connections(shmrpc_xproc_server_t *server);

/* Stops listening and removes the socket, then ends every connection: it
 * marks the client side closed in each segment, which makes the service
 * cancel the calls in flight and return; the client sees the server side
 * close (its pending calls fail). Waits up to `timeout_ms` (-1: forever)
 * for the connection threads, then frees everything and the server.
 * Returns 0, or SHMRPC_ETIMEDOUT when a service did not return in time:
 * then its thread, segment and descriptors are left behind (leaked on
 * purpose: freeing memory a thread still uses would be worse). */
SHMRPC_EXTERN int shmrpc_xproc_server_stop(shmrpc_xproc_server_t *server,
                                           int timeout_ms);

/* --- client ------------------------------------------------------------ */

typedef struct shmrpc_xproc_connect_options_s {
  /* Ring capacities to ask for (powers of two in [64 B, 1 GiB]); 0 takes
   * the server's default. */
  uint32_t capacity_c2s;
  uint32_t capacity_s2c;
  /* Where the server listens; NULL: as shmrpc_xproc_server_options_t. */
  const char *runtime_dir;
  /* The uid the server must run as (checked on the directory, the socket
   * and SO_PEERCRED). Default: this process's effective uid. */
  uid_t server_uid;
  /* Waiting for the server's answer. Default 5000 ms. */
  int timeout_ms;
  /* Start a thread that watches the socket and marks the server side
   * closed when the server dies (C clients). An event-loop client
   * watches `socket_fd` itself and calls shmrpc_xproc_server_gone.
   * Default true. */
  bool watch;
} shmrpc_xproc_connect_options_t;

SHMRPC_EXTERN void
shmrpc_xproc_connect_options_init(shmrpc_xproc_connect_options_t *opts);

/* A client's connection. The caller owns the struct; fields are read-only
 * for the caller. It may be moved or copied while connected (the watcher
 * thread holds state of its own, not this struct), but disconnected only
 * once, from one copy. */
typedef struct shmrpc_xproc_connection_s {
  void *segment; /* MAP_SHARED mapping, initialized by the server */
  size_t segment_size;
  /* Held open for the connection's life: the server's liveness signal,
   * and this side's (readable or hung up = the server is gone). */
  int socket_fd;
  /* Written by the server when this side parks in an event loop (wait
   * word SHMRPC_WAIT_LOOP); an event loop polls it. */
  int wake_fd;
  pid_t server_pid;
  /* Set by a caller that hands the mapping to an owner of its own (the
   * Node addon gives it to a SharedArrayBuffer, which unmaps it when
   * collected): shmrpc_xproc_disconnect then leaves it mapped. */
  bool mapping_taken;
  /* Private: the watcher thread's state (opts.watch), or NULL. */
  struct shmrpc_xproc_watch_s *watch;
  /* Why connect failed. */
  char error[SHMRPC_XPROC_ERROR_BYTES];
} shmrpc_xproc_connection_t;

/* Attaches to the server listening under `name`: checks the directory and
 * socket (owner, mode, not a symbolic link), connects, checks the server's
 * credentials, sends the hello, receives and maps the segment. `opts` may
 * be NULL. Returns 0, or SHMRPC_ENOSERVER (nobody listens under that
 * name), SHMRPC_EACCES (an owner, mode or credential check failed, here or
 * in the server), SHMRPC_EINVAL, SHMRPC_EVERSION, SHMRPC_EPROTO,
 * SHMRPC_EAGAIN (the server is full), SHMRPC_ETIMEDOUT, SHMRPC_ENOMEM or
 * SHMRPC_ESYSTEM, with `conn->error` saying why; on failure nothing needs
 * releasing. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_xproc_connect(const char *name,
                     const shmrpc_xproc_connect_options_t *opts,
                     shmrpc_xproc_connection_t *conn);

/* Marks the server side of the segment closed (unless it closed or failed
 * already) and wakes every waiter on it. For an event-loop client whose
 * watch of `socket_fd` saw the server hang up; the watcher thread does the
 * same. */
SHMRPC_EXTERN void
shmrpc_xproc_server_gone(shmrpc_xproc_connection_t *conn);

/* Stops the watcher, closes the descriptors and unmaps the segment (unless
 * `mapping_taken`). Close the channel first (the server then finishes); no
 * thread may use the segment afterwards. */
SHMRPC_EXTERN void shmrpc_xproc_disconnect(shmrpc_xproc_connection_t *conn);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_XPROC_H */
