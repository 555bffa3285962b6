/* The server of a name: options, start, the monitor thread and stop
 * (docs/PROTOCOL.md 9).
 *
 * One monitor thread accepts clients, checks their credentials, watches
 * every serving connection's socket for a hang-up (the client died or
 * left) and frees finished connections. Each connection has a thread of
 * its own (xproc_connection.c). The connection list is changed by the
 * monitor only, under `lock`. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xproc_internal.h"

#define DEFAULT_SPIN_NS 50000u
#define DEFAULT_CAPACITY (1u << 20)
#define DEFAULT_MAX_CAPACITY (64u << 20)
#define DEFAULT_MAX_CONNECTIONS 64u
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 5000

struct shmrpc_xproc_server_s {
  shmrpc_xproc_server_options_t opts; /* config points at our copy */
  char *config;
  shmrpc__xproc_listener_t listener;
  int wake_fd; /* eventfd: wakes the monitor's poll */
  pthread_t monitor;
  pthread_mutex_t event_lock; /* one on_event call at a time */
  pthread_mutex_t lock;       /* guards what follows */
  pthread_cond_t done;
  shmrpc__xproc_conn_t *conns;
  size_t conn_count;
  bool stopping;     /* stop was called */
  bool monitor_done; /* the monitor freed every connection and returned */
  bool detached;     /* stop gave up waiting: the monitor frees the server */
};

void shmrpc_xproc_server_options_init(shmrpc_xproc_server_options_t *opts) {
  memset(opts, 0, sizeof *opts);
  opts->spin_ns = DEFAULT_SPIN_NS;
  opts->default_capacity = DEFAULT_CAPACITY;
  opts->max_capacity = DEFAULT_MAX_CAPACITY;
  opts->max_connections = DEFAULT_MAX_CONNECTIONS;
  opts->allow_uid = geteuid();
  opts->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
}

const shmrpc_xproc_server_options_t *
shmrpc__xproc_server_options(const shmrpc_xproc_server_t *server) {
  return &server->opts;
}

const char *shmrpc_xproc_server_path(const shmrpc_xproc_server_t *server) {
  return server->listener.socket_path;
}

size_t shmrpc_xproc_server_connections(shmrpc_xproc_server_t *server) {
  pthread_mutex_lock(&server->lock);
  size_t n = server->conn_count;
  pthread_mutex_unlock(&server->lock);
  return n;
}

void shmrpc__xproc_server_notify(shmrpc_xproc_server_t *server) {
  uint64_t one = 1;
  (void)!write(server->wake_fd, &one, sizeof one);
}

void shmrpc__xproc_server_tell(shmrpc_xproc_server_t *server,
                               shmrpc_xproc_event_kind_t kind,
                               const shmrpc__xproc_peer_t *peer, bool hung_up,
                               int result, const char *reason) {
  if (server->opts.on_event == NULL)
    return;
  shmrpc_xproc_event_t event = {
      .kind = kind,
      .pid = peer->pid,
      .uid = peer->uid,
      .gid = peer->gid,
      .hung_up = hung_up,
      .result = result,
      .reason = reason,
      .connections = shmrpc_xproc_server_connections(server)};
  pthread_mutex_lock(&server->event_lock);
  server->opts.on_event(server->opts.on_event_user, &event);
  pthread_mutex_unlock(&server->event_lock);
}

/* --- the monitor --- */

/* Refuses an accepted socket with a welcome that carries `status` and
 * `reason`, without waiting (the socket is new: its buffer has room). */
static void refuse(shmrpc_xproc_server_t *server, int sock,
                   const shmrpc__xproc_peer_t *peer, int status,
                   const char *reason) {
  shmrpc__xproc_welcome_t welcome = {
      .version_major = SHMRPC__XPROC_VERSION_MAJOR,
      .version_minor = SHMRPC__XPROC_VERSION_MINOR,
      .status = status,
      .server_pid = (uint32_t)getpid()};
  strncpy(welcome.message, reason, SHMRPC__XPROC_MESSAGE_MAX);
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES];
  size_t len = shmrpc__xproc_welcome_encode(&welcome, bytes);
  (void)!send(sock, bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL);
  close(sock);
  shmrpc__xproc_server_tell(server, SHMRPC_XPROC_REFUSED, peer, false, status,
                            reason);
}

/* Admits one accepted socket: credentials, then the connection limit. */
static void admit(shmrpc_xproc_server_t *server, int sock) {
  char reason[SHMRPC_XPROC_ERROR_BYTES];
  shmrpc__xproc_peer_t peer = {0};
  if (shmrpc__xproc_peer_cred(sock, &peer, reason) != 0) {
    refuse(server, sock, &peer, SHMRPC_ESYSTEM, reason);
    return;
  }
  if (!shmrpc__xproc_peer_allowed(sock, &peer, &server->opts)) {
    shmrpc__xproc_fail(reason, 0,
                       "uid %u (gid %u) may not attach to this server",
                       (unsigned)peer.uid, (unsigned)peer.gid);
    refuse(server, sock, &peer, SHMRPC_EACCES, reason);
    return;
  }
  if (server->conn_count >= server->opts.max_connections) {
    shmrpc__xproc_fail(reason, 0, "the server is full (%u connections)",
                       server->opts.max_connections);
    refuse(server, sock, &peer, SHMRPC_EAGAIN, reason);
    return;
  }
  shmrpc__xproc_conn_t *conn;
  if (shmrpc__xproc_conn_start(server, sock, &peer, &conn) != 0)
    return;
  pthread_mutex_lock(&server->lock);
  conn->next = server->conns;
  server->conns = conn;
  server->conn_count++;
  pthread_mutex_unlock(&server->lock);
}

static void accept_all(shmrpc_xproc_server_t *server) {
  for (;;) {
    int sock = accept4(server->listener.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (sock < 0)
      return; /* EAGAIN: none left; anything else: try at the next poll */
    admit(server, sock);
  }
}

/* Frees finished connections and tells their end: once it is told, the
 * connection's thread, memory and descriptors are gone. */
static void reap(shmrpc_xproc_server_t *server) {
  shmrpc__xproc_conn_t **link = &server->conns;
  while (*link != NULL) {
    shmrpc__xproc_conn_t *conn = *link;
    if (__atomic_load_n(&conn->phase, __ATOMIC_SEQ_CST) !=
        SHMRPC__CONN_FINISHED) {
      link = &conn->next;
      continue;
    }
    *link = conn->next;
    pthread_join(conn->thread, NULL);
    shmrpc__xproc_peer_t peer = conn->peer;
    bool connected = conn->connected, hung_up = conn->hung_up;
    int result = conn->result;
    char reason[SHMRPC_XPROC_ERROR_BYTES];
    memcpy(reason, conn->reason, sizeof reason);
    shmrpc__xproc_conn_free(conn);
    pthread_mutex_lock(&server->lock);
    server->conn_count--;
    pthread_mutex_unlock(&server->lock);
    if (connected)
      shmrpc__xproc_server_tell(server, SHMRPC_XPROC_DISCONNECTED, &peer,
                                hung_up, result, "");
    else if (result != SHMRPC_ECLOSED)
      shmrpc__xproc_server_tell(server, SHMRPC_XPROC_REFUSED, &peer, false,
                                result, reason);
  }
}

/* Stops listening and asks every connection to end. */
static void begin_stop(shmrpc_xproc_server_t *server) {
  shmrpc__xproc_unlisten(&server->listener);
  for (shmrpc__xproc_conn_t *c = server->conns; c != NULL; c = c->next)
    shmrpc__xproc_conn_stop(c);
}

static void free_server(shmrpc_xproc_server_t *server) {
  shmrpc__xproc_unlisten(&server->listener);
  close(server->wake_fd);
  pthread_mutex_destroy(&server->event_lock);
  pthread_mutex_destroy(&server->lock);
  pthread_cond_destroy(&server->done);
  free(server->config);
  free(server);
}

/* Waits for something to do: the listening socket, a serving connection's
 * socket, or a notification. `fds` and `conns` have room for every
 * connection. */
static void wait_for_work(shmrpc_xproc_server_t *server, bool listening,
                          struct pollfd *fds, shmrpc__xproc_conn_t **conns) {
  size_t n = 0, watched = 0;
  fds[n++] = (struct pollfd){.fd = server->wake_fd, .events = POLLIN};
  if (listening)
    fds[n++] = (struct pollfd){.fd = server->listener.listen_fd,
                               .events = POLLIN};
  size_t first_conn = n;
  for (shmrpc__xproc_conn_t *c = server->conns; c != NULL; c = c->next) {
    if (c->hang_up_seen || __atomic_load_n(&c->phase, __ATOMIC_SEQ_CST) !=
                               SHMRPC__CONN_SERVING)
      continue;
    /* Anything readable counts: a client sends nothing after its hello, so
     * data is as final as a hang-up. */
    fds[n++] = (struct pollfd){.fd = c->sock, .events = POLLIN | POLLRDHUP};
    conns[watched++] = c;
  }
  if (poll(fds, (nfds_t)n, -1) <= 0)
    return;
  if (fds[0].revents != 0) {
    uint64_t count;
    (void)!read(server->wake_fd, &count, sizeof count);
  }
  for (size_t i = 0; i < watched; i++)
    if (fds[first_conn + i].revents != 0)
      shmrpc__xproc_conn_hang_up(conns[i]);
  if (listening && fds[1].revents != 0)
    accept_all(server);
}

static void *monitor_main(void *arg) {
  shmrpc_xproc_server_t *server = arg;
  size_t room = server->opts.max_connections + 2;
  struct pollfd *fds = calloc(room, sizeof *fds);
  shmrpc__xproc_conn_t **conns = calloc(room, sizeof *conns);
  bool stop_begun = false;
  for (;;) {
    pthread_mutex_lock(&server->lock);
    bool stopping = server->stopping;
    pthread_mutex_unlock(&server->lock);
    if (stopping && !stop_begun) {
      begin_stop(server);
      stop_begun = true;
    }
    reap(server);
    if (stop_begun && server->conns == NULL)
      break;
    if (fds == NULL || conns == NULL) {
      /* Out of memory at start: serve nobody, wait for stop. */
      begin_stop(server);
      stop_begun = true;
      struct pollfd p = {.fd = server->wake_fd, .events = POLLIN};
      poll(&p, 1, 100);
      continue;
    }
    wait_for_work(server, !stop_begun, fds, conns);
  }
  free(fds);
  free(conns);
  pthread_mutex_lock(&server->lock);
  server->monitor_done = true;
  bool detached = server->detached;
  pthread_cond_broadcast(&server->done);
  pthread_mutex_unlock(&server->lock);
  if (detached)
    free_server(server);
  return NULL;
}

/* --- start and stop --- */

static int check_options(const shmrpc_xproc_server_options_t *o, char *why) {
  if (o->serve == NULL)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL, "no serve function");
  if (shmrpc_segment_size(o->default_capacity, o->default_capacity) == 0 ||
      shmrpc_segment_size(o->max_capacity, o->max_capacity) == 0 ||
      o->default_capacity > o->max_capacity)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "ring capacities must be powers of two in "
                              "[%u, %u], the default at most the maximum",
                              SHMRPC_RING_MIN_CAPACITY,
                              SHMRPC_RING_MAX_CAPACITY);
  if (o->max_connections == 0 || o->max_connections > 65536)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "max_connections must be in [1, 65536]");
  if (o->handshake_timeout_ms <= 0)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "handshake_timeout_ms must be positive");
  return 0;
}

static int init_sync(shmrpc_xproc_server_t *server) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&server->done, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&server->lock, NULL);
  pthread_mutex_init(&server->event_lock, NULL);
  return rc;
}

int shmrpc_xproc_server_start(const char *name,
                              const shmrpc_xproc_server_options_t *opts,
                              shmrpc_xproc_server_t **out, char *why) {
  if (opts == NULL || out == NULL)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL, "no options or no out");
  int rc = shmrpc__xproc_check_name(name, why);
  if (rc == 0)
    rc = check_options(opts, why);
  if (rc != 0)
    return rc;
  shmrpc_xproc_server_t *server = calloc(1, sizeof *server);
  if (server == NULL)
    return shmrpc__xproc_fail(why, SHMRPC_ENOMEM, "out of memory");
  server->opts = *opts;
  server->listener.listen_fd = server->listener.lock_fd = -1;
  server->wake_fd = -1;
  if (opts->config != NULL &&
      (server->config = strdup(opts->config)) == NULL) {
    free(server);
    return shmrpc__xproc_fail(why, SHMRPC_ENOMEM, "out of memory");
  }
  server->opts.config = server->config;

  char dir[PATH_MAX];
  /* Others never; the allowed group may reach the socket but not write
   * into the directory. */
  mode_t forbidden = opts->allow_group ? 0027 : 0077;
  rc = shmrpc__xproc_dir_resolve(opts->runtime_dir, true, dir, why);
  if (rc == 0)
    rc = shmrpc__xproc_dir_check(dir, geteuid(), forbidden, why);
  if (rc == 0)
    rc = shmrpc__xproc_listen(dir, name, opts->allow_group ? 0660 : 0600,
                              opts->allow_group ? opts->allow_gid : (gid_t)-1,
                              &server->listener, why);
  if (rc != 0) {
    free(server->config);
    free(server);
    return rc;
  }
  server->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->wake_fd < 0) {
    rc = shmrpc__xproc_sys_fail(why, "eventfd");
    goto err;
  }
  if (init_sync(server) != 0) {
    rc = shmrpc__xproc_fail(why, SHMRPC_ENOMEM, "cannot create a condition");
    goto err;
  }
  if (shmrpc__xproc_thread_start(&server->monitor, monitor_main, server) != 0) {
    rc = shmrpc__xproc_fail(why, SHMRPC_ENOMEM, "cannot start a thread");
    goto err;
  }
  *out = server;
  return 0;
err:
  shmrpc__xproc_unlisten(&server->listener);
  if (server->wake_fd >= 0)
    close(server->wake_fd);
  free(server->config);
  free(server);
  return rc;
}

int shmrpc_xproc_server_stop(shmrpc_xproc_server_t *server, int timeout_ms) {
  if (server == NULL)
    return 0;
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (timeout_ms > 0) {
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000;
    }
  }
  pthread_mutex_lock(&server->lock);
  server->stopping = true;
  pthread_mutex_unlock(&server->lock);
  shmrpc__xproc_server_notify(server);

  pthread_mutex_lock(&server->lock);
  while (!server->monitor_done) {
    if (timeout_ms < 0)
      pthread_cond_wait(&server->done, &server->lock);
    else if (pthread_cond_timedwait(&server->done, &server->lock, &until) ==
             ETIMEDOUT)
      break;
  }
  bool done = server->monitor_done;
  pthread_t monitor = server->monitor;
  if (!done)
    server->detached = true;
  pthread_mutex_unlock(&server->lock);
  if (!done) {
    /* From here on the monitor may free the server at any time. */
    pthread_detach(monitor);
    return SHMRPC_ETIMEDOUT;
  }
  pthread_join(server->monitor, NULL);
  free_server(server);
  return 0;
}
