/* Declarations shared by the cross-process transport's .c files (xproc_*);
 * not public API. docs/PROTOCOL.md section 9 is the handshake's byte
 * layout and the liveness rule. */
#ifndef SHMRPC_XPROC_INTERNAL_H
#define SHMRPC_XPROC_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "shmrpc/xproc.h"

/* Room for a socket path: what struct sockaddr_un holds. */
#define SHMRPC__XPROC_PATH_BYTES sizeof(((struct sockaddr_un *)0)->sun_path)

/* --- xproc_error.c --- */

/* Formats a description into `why` (SHMRPC_XPROC_ERROR_BYTES; NULL: no
 * description) and returns `code`. */
int shmrpc__xproc_fail(char *why, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As shmrpc__xproc_fail with SHMRPC_ESYSTEM and ": strerror(errno)"
 * appended (errno as on entry). */
int shmrpc__xproc_sys_fail(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- xproc_dir.c: names, the runtime directory, paths --- */

/* 0, or SHMRPC_EINVAL when `name` is not 1-SHMRPC_XPROC_NAME_MAX bytes of
 * [A-Za-z0-9._-] not starting with a dot. */
int shmrpc__xproc_check_name(const char *name, char *why);

/* The directory a server listens in: `explicit_dir`, else the user's
 * runtime directory (created 0700 when `create` and it is missing).
 * Writes it to `out` (PATH_MAX). Returns 0, SHMRPC_ENOSERVER (missing and
 * not created), SHMRPC_EINVAL (too long) or SHMRPC_ESYSTEM. */
int shmrpc__xproc_dir_resolve(const char *explicit_dir, bool create,
                              char out[PATH_MAX], char *why);

/* Checks that `dir` is a directory, not a symbolic link, owned by `owner`
 * and with none of the `forbidden` mode bits. Returns 0, SHMRPC_EACCES,
 * SHMRPC_ENOSERVER (missing) or SHMRPC_ESYSTEM. */
int shmrpc__xproc_dir_check(const char *dir, uid_t owner, mode_t forbidden,
                            char *why);

/* `dir`/`name``suffix` into `out` (SHMRPC__XPROC_PATH_BYTES). Returns 0 or
 * SHMRPC_EINVAL when it does not fit a socket address. */
int shmrpc__xproc_path(char out[SHMRPC__XPROC_PATH_BYTES], const char *dir,
                       const char *name, const char *suffix, char *why);

/* --- xproc_listen.c: the lock file and the listening socket --- */

typedef struct shmrpc__xproc_listener_s {
  int listen_fd;
  int lock_fd;
  char socket_path[SHMRPC__XPROC_PATH_BYTES];
  char lock_path[SHMRPC__XPROC_PATH_BYTES];
} shmrpc__xproc_listener_t;

/* Takes the name's lock file (flock; SHMRPC_EINUSE when a live server
 * holds it), replaces a stale socket, binds and listens; the socket gets
 * `mode` (and group `gid` unless (gid_t)-1). Returns 0 or an error with
 * `why`; on failure nothing is left behind. */
int shmrpc__xproc_listen(const char *dir, const char *name, mode_t mode,
                         gid_t gid, shmrpc__xproc_listener_t *out, char *why);

/* Removes the socket, closes it, removes and releases the lock file. */
void shmrpc__xproc_unlisten(shmrpc__xproc_listener_t *listener);

/* --- xproc_handshake.c: the hello and the welcome --- */

#define SHMRPC__XPROC_MAGIC 0x58524853u /* "SHRX" read as little-endian u32 */
#define SHMRPC__XPROC_VERSION_MAJOR 1
#define SHMRPC__XPROC_VERSION_MINOR 0
#define SHMRPC__XPROC_HELLO_BYTES 32u
#define SHMRPC__XPROC_WELCOME_HEADER_BYTES 32u
#define SHMRPC__XPROC_MESSAGE_MAX 200u
#define SHMRPC__XPROC_WELCOME_MAX_BYTES                                        \
  (SHMRPC__XPROC_WELCOME_HEADER_BYTES + SHMRPC__XPROC_MESSAGE_MAX)

typedef struct shmrpc__xproc_hello_s {
  uint16_t version_major;
  uint16_t version_minor;
  uint32_t capacity_c2s; /* 0: the server's default */
  uint32_t capacity_s2c;
} shmrpc__xproc_hello_t;

typedef struct shmrpc__xproc_welcome_s {
  uint16_t version_major;
  uint16_t version_minor;
  int32_t status; /* 0 or a negative SHMRPC_E* code */
  uint32_t segment_bytes;
  uint32_t capacity_c2s;
  uint32_t capacity_s2c;
  uint32_t server_pid;
  char message[SHMRPC__XPROC_MESSAGE_MAX + 1]; /* NUL-terminated */
} shmrpc__xproc_welcome_t;

void shmrpc__xproc_hello_encode(const shmrpc__xproc_hello_t *hello,
                                uint8_t out[SHMRPC__XPROC_HELLO_BYTES]);
/* Parses exactly `len` bytes. Returns 0, SHMRPC_EPROTO (size, magic,
 * reserved bytes) or SHMRPC_EVERSION (another major version). */
int shmrpc__xproc_hello_decode(const uint8_t *data, size_t len,
                               shmrpc__xproc_hello_t *out, char *why);
/* Returns the number of bytes written into `out`. */
size_t shmrpc__xproc_welcome_encode(
    const shmrpc__xproc_welcome_t *welcome,
    uint8_t out[SHMRPC__XPROC_WELCOME_MAX_BYTES]);
/* Parses exactly `len` bytes. Returns 0, SHMRPC_EPROTO or
 * SHMRPC_EVERSION. */
int shmrpc__xproc_welcome_decode(const uint8_t *data, size_t len,
                                 shmrpc__xproc_welcome_t *out, char *why);

/* Sends one message with up to 2 descriptors (SCM_RIGHTS). Never raises
 * SIGPIPE. Returns 0 or SHMRPC_ESYSTEM. */
int shmrpc__xproc_send(int fd, const void *data, size_t len, const int *fds,
                       int nfds, char *why);

/* Receives one message of at most `cap` bytes within `timeout_ms`, and
 * up to `max_fds` descriptors (close-on-exec) into `fds`, *nfds set to
 * their number. Returns the message length, SHMRPC_ECLOSED (the peer hung
 * up), SHMRPC_ETIMEDOUT, SHMRPC_EPROTO (truncated, or descriptors beyond
 * max_fds: all closed) or SHMRPC_ESYSTEM. */
int shmrpc__xproc_recv(int fd, void *data, size_t cap, int *fds, int max_fds,
                       int *nfds, int timeout_ms, char *why);

/* --- xproc_segment.c: a connection's memory, and a side that is gone --- */

/* Creates a sealed memfd of shmrpc_segment_size(c2s, s2c) bytes (its size
 * sealed, so that the other process cannot shrink it under us), maps and
 * initializes it. Returns 0 or an error; on failure nothing is left. */
int shmrpc__xproc_segment_create(uint32_t capacity_c2s, uint32_t capacity_s2c,
                                 int *memfd, void **mem, size_t *size,
                                 char *why);

/* Maps a segment received from the server after checking the memfd's size
 * and its seals. Returns 0, SHMRPC_EPROTO or SHMRPC_ESYSTEM. */
int shmrpc__xproc_segment_map(int memfd, size_t size, void **mem, char *why);

/* Marks `side` DEAD unless it left OPEN already, then wakes every waiter of
 * the segment (futex_wake, or `wake_loop` for a waiter parked in an event
 * loop): shmrpc_segment_mark_dead (shmrpc/wait.h). The survivor does this
 * for a peer whose socket hung up. Returns true when the side was still
 * open (or absent). */
bool shmrpc__xproc_mark_gone(void *segment, shmrpc_side_t side,
                             shmrpc_wake_loop_fn wake_loop, void *user);

/* --- xproc_peer.c: who is on the other end --- */

typedef struct shmrpc__xproc_peer_s {
  pid_t pid;
  uid_t uid;
  gid_t gid;
} shmrpc__xproc_peer_t;

/* SO_PEERCRED of a connected socket. Returns 0 or SHMRPC_ESYSTEM. */
int shmrpc__xproc_peer_cred(int fd, shmrpc__xproc_peer_t *out, char *why);

/* True when `peer` may attach under `opts` (uid, or group membership with
 * supplementary groups from SO_PEERGROUPS). */
bool shmrpc__xproc_peer_allowed(int fd, const shmrpc__xproc_peer_t *peer,
                                const shmrpc_xproc_server_options_t *opts);

/* --- xproc_connection.c: one client of a server --- */

/* A connection's phases; it moves forward only. */
enum {
  SHMRPC__CONN_HANDSHAKE = 0, /* its thread talks on the socket */
  SHMRPC__CONN_SERVING = 1,   /* its thread runs serve; the monitor watches
                                 the socket for a hang-up */
  SHMRPC__CONN_FINISHED = 2   /* its thread is done: join and free it */
};

typedef struct shmrpc__xproc_conn_s {
  struct shmrpc__xproc_conn_s *next; /* the server's list (monitor only) */
  shmrpc_xproc_server_t *server;
  int sock;
  int wake_fd; /* eventfd the client's event loop polls */
  shmrpc__xproc_peer_t peer;
  void *segment;
  size_t segment_size;
  shmrpc_host_t host;
  char host_peer[64]; /* host.peer: "process pid=PID uid=UID" */
  pthread_t thread;
  uint32_t phase;   /* SHMRPC__CONN_*, atomic */
  uint32_t stopping; /* set by the server's stop, atomic */
  bool connected;   /* the CONNECTED event was told (read after join) */
  bool hang_up_seen; /* the monitor saw the socket hang up (monitor only) */
  bool hung_up;      /* ...while the client side was open */
  int result;       /* what serve returned, or the handshake's error */
  char reason[SHMRPC_XPROC_ERROR_BYTES]; /* why the handshake failed */
} shmrpc__xproc_conn_t;

/* Starts a connection's thread for an accepted, admitted socket (which it
 * then owns). Returns 0 or SHMRPC_ENOMEM (the socket is then closed). */
int shmrpc__xproc_conn_start(shmrpc_xproc_server_t *server, int sock,
                             const shmrpc__xproc_peer_t *peer,
                             shmrpc__xproc_conn_t **out);

/* The client's socket hung up (monitor thread): marks the client side gone
 * so that serve returns. `hung_up` records whether it was still open (it
 * died or left without closing its channel). */
void shmrpc__xproc_conn_hang_up(shmrpc__xproc_conn_t *conn);

/* The server is stopping: ends the handshake or the serve. */
void shmrpc__xproc_conn_stop(shmrpc__xproc_conn_t *conn);

/* Frees everything a FINISHED connection held (its thread joined). */
void shmrpc__xproc_conn_free(shmrpc__xproc_conn_t *conn);

/* --- xproc_server.c, for connections --- */

const shmrpc_xproc_server_options_t *
shmrpc__xproc_server_options(const shmrpc_xproc_server_t *server);
/* Tells the monitor that a connection changed phase. */
void shmrpc__xproc_server_notify(shmrpc_xproc_server_t *server);
/* Calls the server's on_event (one call at a time). */
void shmrpc__xproc_server_tell(shmrpc_xproc_server_t *server,
                               shmrpc_xproc_event_kind_t kind,
                               const shmrpc__xproc_peer_t *peer, bool hung_up,
                               int result, const char *reason);

/* --- xproc_thread.c --- */

/* Starts a thread with every signal blocked (signals go to the
 * application's threads). Returns 0 or an errno value. */
int shmrpc__xproc_thread_start(pthread_t *thread, void *(*fn)(void *),
                               void *arg);

#endif /* SHMRPC_XPROC_INTERNAL_H */
