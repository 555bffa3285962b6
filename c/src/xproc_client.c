/* The client of a named server: checks, connect, handshake, mapping
 * (docs/PROTOCOL.md 9.2), and the watch that marks the server side closed
 * when the server dies (9.3). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xproc_internal.h"

#define DEFAULT_TIMEOUT_MS 5000

void shmrpc_xproc_connect_options_init(shmrpc_xproc_connect_options_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->server_uid = geteuid();
  opts->timeout_ms = DEFAULT_TIMEOUT_MS;
  opts->watch = true;
}

/* The socket file must be a socket owned by the server's user that others
 * cannot write to (connect needs write permission). */
static int check_socket_file(const char *path, uid_t owner, char *why) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT)
      return shmrpc__xproc_fail(why, SHMRPC_ENOSERVER,
                                "no server: %s does not exist", path);
    return shmrpc__xproc_sys_fail(why, "cannot stat %s", path);
  }
  if (!S_ISSOCK(st.st_mode))
    return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                              "%s is not a socket: refused", path);
  if (st.st_uid != owner)
    return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                              "%s is owned by uid %u, not uid %u: refused",
                              path, (unsigned)st.st_uid, (unsigned)owner);
  if ((st.st_mode & 0002) != 0)
    return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                              "%s has mode %04o, writable by others: refused",
                              path, (unsigned)(st.st_mode & 07777));
  return 0;
}

static int connect_socket(const char *path, char *why) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return shmrpc__xproc_sys_fail(why, "socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int rc;
  do {
    rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0)
    return fd;
  int err = errno;
  close(fd);
  if (err == ECONNREFUSED || err == ENOENT)
    return shmrpc__xproc_fail(why, SHMRPC_ENOSERVER,
                              "no server accepts on %s (a stale socket: the "
                              "server is not running)",
                              path);
  if (err == EACCES || err == EPERM)
    return shmrpc__xproc_fail(why, SHMRPC_EACCES, "%s: permission denied",
                              path);
  if (err == EAGAIN)
    return shmrpc__xproc_fail(why, SHMRPC_EAGAIN,
                              "%s: the server's backlog is full", path);
  errno = err;
  return shmrpc__xproc_sys_fail(why, "cannot connect to %s", path);
}

/* Sends the hello and takes the welcome: the segment is mapped into conn.
 * The descriptors received are closed on failure. */
static int handshake(shmrpc_xproc_connection_t *conn,
                     const shmrpc_xproc_connect_options_t *o) {
  char *why = conn->error;
  shmrpc__xproc_hello_t hello = {
      .version_major = SHMRPC__XPROC_VERSION_MAJOR,
      .version_minor = SHMRPC__XPROC_VERSION_MINOR,
      .capacity_c2s = o->capacity_c2s,
      .capacity_s2c = o->capacity_s2c};
  uint8_t hello_bytes[SHMRPC__XPROC_HELLO_BYTES];
  shmrpc__xproc_hello_encode(&hello, hello_bytes);
  /* A server that refuses at once (credentials, a full server) may have
   * answered and closed already: read its answer even if this fails. */
  int sent = shmrpc__xproc_send(conn->socket_fd, hello_bytes,
                                sizeof hello_bytes, NULL, 0, why);
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES + 1];
  int fds[2];
  int nfds = 0;
  int rc = shmrpc__xproc_recv(conn->socket_fd, bytes, sizeof bytes, fds, 2, &nfds,
                          o->timeout_ms, why);
  if (rc == SHMRPC_ECLOSED && sent != 0)
    return shmrpc__xproc_fail(why, sent, "cannot send the hello: the server "
                                         "hung up");
  if (rc == SHMRPC_ECLOSED)
    return shmrpc__xproc_fail(why, SHMRPC_ENOSERVER,
                              "the server hung up during the handshake");
  if (rc < 0)
    return rc;
  shmrpc__xproc_welcome_t welcome;
  rc = shmrpc__xproc_welcome_decode(bytes, (size_t)rc, &welcome, why);
  if (rc == 0 && welcome.status < 0)
    rc = shmrpc__xproc_fail(why, welcome.status, "the server refused: %s",
                            welcome.message);
  if (rc == 0 && welcome.status > 0)
    rc = shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                            "the server answered status %d", welcome.status);
  size_t size =
      shmrpc_segment_size(welcome.capacity_c2s, welcome.capacity_s2c);
  if (rc == 0 && (nfds != 2 || size == 0 || size != welcome.segment_bytes))
    rc = shmrpc__xproc_fail(why, SHMRPC_EPROTO,
                            "the server's welcome does not describe a "
                            "segment, or its descriptors are missing");
  if (rc == 0)
    rc = shmrpc__xproc_segment_map(fds[0], size, &conn->segment, why);
  if (rc != 0) {
    for (int i = 0; i < nfds; i++)
      close(fds[i]);
    return rc;
  }
  close(fds[0]); /* the mapping keeps the memory */
  conn->segment_size = size;
  conn->wake_fd = fds[1];
  conn->server_pid = (pid_t)welcome.server_pid;
  return 0;
}

/* The watcher thread's own state: what it needs outlives any copy of the
 * connection struct, which may move while the thread runs. */
struct shmrpc_xproc_watch_s {
  pthread_t thread;
  int socket_fd; /* the connection's, borrowed: closed after the join */
  int stop_fd;   /* written by shmrpc_xproc_disconnect */
  void *segment; /* the mapping, which outlives the thread */
};

static void *watch_main(void *arg) {
  struct shmrpc_xproc_watch_s *watch = arg;
  struct pollfd fds[2] = {
      {.fd = watch->socket_fd, .events = POLLIN | POLLRDHUP},
      {.fd = watch->stop_fd, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents != 0)
      return NULL;
    if (fds[0].revents != 0)
      break;
  }
  /* A server sends nothing after the welcome: readable means gone. */
  shmrpc__xproc_mark_gone(watch->segment, SHMRPC_SIDE_SERVER, NULL, NULL);
  return NULL;
}

static int start_watch(shmrpc_xproc_connection_t *conn) {
  struct shmrpc_xproc_watch_s *watch = malloc(sizeof *watch);
  if (watch == NULL)
    return shmrpc__xproc_fail(conn->error, SHMRPC_ENOMEM,
                              "cannot allocate the watcher");
  watch->socket_fd = conn->socket_fd;
  watch->segment = conn->segment;
  watch->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (watch->stop_fd < 0) {
    free(watch);
    return shmrpc__xproc_sys_fail(conn->error, "eventfd");
  }
  if (shmrpc__xproc_thread_start(&watch->thread, watch_main, watch) != 0) {
    close(watch->stop_fd);
    free(watch);
    return shmrpc__xproc_fail(conn->error, SHMRPC_ENOMEM,
                              "cannot start the watch thread");
  }
  conn->watch = watch;
  return 0;
}

/* Stops and joins the watcher, if one runs. */
static void stop_watch(shmrpc_xproc_connection_t *conn) {
  struct shmrpc_xproc_watch_s *watch = conn->watch;
  if (watch == NULL)
    return;
  uint64_t one = 1;
  (void)!write(watch->stop_fd, &one, sizeof one);
  pthread_join(watch->thread, NULL);
  close(watch->stop_fd);
  free(watch);
  conn->watch = NULL;
}

int shmrpc_xproc_connect(const char *name,
                         const shmrpc_xproc_connect_options_t *opts,
                         shmrpc_xproc_connection_t *conn) {
  if (conn == NULL)
    return SHMRPC_EINVAL;
  memset(conn, 0, sizeof *conn);
  conn->socket_fd = conn->wake_fd = -1;
  shmrpc_xproc_connect_options_t defaults;
  if (opts == NULL) {
    shmrpc_xproc_connect_options_init(&defaults);
    opts = &defaults;
  }
  char *why = conn->error;
  char dir[PATH_MAX];
  char path[SHMRPC__XPROC_PATH_BYTES];
  int rc = shmrpc__xproc_check_name(name, why);
  if (rc == 0)
    rc = shmrpc__xproc_dir_resolve(opts->runtime_dir, false, dir, why);
  /* Nobody but the server's user may write into the directory. */
  if (rc == 0)
    rc = shmrpc__xproc_dir_check(dir, opts->server_uid, 0022, why);
  if (rc == 0)
    rc = shmrpc__xproc_path(path, dir, name, ".sock", why);
  if (rc == 0)
    rc = check_socket_file(path, opts->server_uid, why);
  if (rc != 0)
    return rc;
  int fd = connect_socket(path, why);
  if (fd < 0)
    return fd;
  conn->socket_fd = fd;
  shmrpc__xproc_peer_t server;
  rc = shmrpc__xproc_peer_cred(fd, &server, why);
  if (rc == 0 && server.uid != opts->server_uid)
    rc = shmrpc__xproc_fail(why, SHMRPC_EACCES,
                            "the server on %s runs as uid %u, not uid %u: "
                            "refused",
                            path, (unsigned)server.uid,
                            (unsigned)opts->server_uid);
  if (rc == 0)
    rc = handshake(conn, opts);
  if (rc == 0 && opts->watch)
    rc = start_watch(conn);
  if (rc != 0) {
    char saved[SHMRPC_XPROC_ERROR_BYTES];
    memcpy(saved, conn->error, sizeof saved);
    shmrpc_xproc_disconnect(conn);
    memcpy(conn->error, saved, sizeof saved);
  }
  return rc;
}

void shmrpc_xproc_server_gone(shmrpc_xproc_connection_t *conn) {
  if (conn != NULL && conn->segment != NULL)
    shmrpc__xproc_mark_gone(conn->segment, SHMRPC_SIDE_SERVER, NULL, NULL);
}

void shmrpc_xproc_disconnect(shmrpc_xproc_connection_t *conn) {
  if (conn == NULL)
    return;
  stop_watch(conn);
  if (conn->wake_fd >= 0)
    close(conn->wake_fd);
  if (conn->socket_fd >= 0)
    close(conn->socket_fd);
  if (conn->segment != NULL && !conn->mapping_taken)
    munmap(conn->segment, conn->segment_size);
  conn->segment = NULL;
  conn->segment_size = 0;
  conn->socket_fd = conn->wake_fd = -1;
}
