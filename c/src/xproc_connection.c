/* One client of a server: its thread runs the handshake (docs/PROTOCOL.md
 * 9.2), then the service's shmrpc_serve over the client's own segment,
 * then marks the server side closed; the server's monitor thread watches
 * its socket meanwhile and frees it at the end (9.3). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xproc_internal.h"

/* The host's wake_loop hook: the client parked in its event loop, which
 * polls this eventfd. */
static void wake_client_loop(void *user) {
  shmrpc__xproc_conn_t *conn = user;
  uint64_t one = 1;
  /* EAGAIN (the counter is full) means a wake-up is pending anyway. */
  (void)!write(conn->wake_fd, &one, sizeof one);
}

static void answer_refusal(shmrpc__xproc_conn_t *conn, int status) {
  shmrpc__xproc_welcome_t welcome = {
      .version_major = SHMRPC__XPROC_VERSION_MAJOR,
      .version_minor = SHMRPC__XPROC_VERSION_MINOR,
      .status = status,
      .server_pid = (uint32_t)getpid()};
  memcpy(welcome.message, conn->reason, SHMRPC__XPROC_MESSAGE_MAX);
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES];
  size_t len = shmrpc__xproc_welcome_encode(&welcome, bytes);
  (void)shmrpc__xproc_send(conn->sock, bytes, len, NULL, 0, NULL);
}

/* Ring capacities for a hello: the default for 0, else as asked within
 * the server's limit. */
static int pick_capacity(uint32_t asked, const shmrpc_xproc_server_options_t *o,
                         uint32_t *out, char *why) {
  uint32_t cap = asked != 0 ? asked : o->default_capacity;
  if (cap > o->max_capacity)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "ring capacity %u is above this server's limit "
                              "%u",
                              cap, o->max_capacity);
  *out = cap;
  return 0;
}

/* Receives the hello, creates the segment and the eventfd and sends them.
 * Returns 0, or an error with conn->reason (already answered to the
 * client when it can still listen). */
static int handshake(shmrpc__xproc_conn_t *conn) {
  const shmrpc_xproc_server_options_t *o =
      shmrpc__xproc_server_options(conn->server);
  uint8_t hello_bytes[SHMRPC__XPROC_HELLO_BYTES + 1];
  int fds[1];
  int nfds;
  int rc = shmrpc__xproc_recv(conn->sock, hello_bytes, sizeof hello_bytes, fds,
                              0, &nfds, o->handshake_timeout_ms, conn->reason);
  if (rc < 0)
    return rc == SHMRPC_EPROTO ? (answer_refusal(conn, rc), rc) : rc;
  shmrpc__xproc_hello_t hello;
  uint32_t c2s = 0, s2c = 0;
  rc = shmrpc__xproc_hello_decode(hello_bytes, (size_t)rc, &hello,
                                  conn->reason);
  if (rc == 0)
    rc = pick_capacity(hello.capacity_c2s, o, &c2s, conn->reason);
  if (rc == 0)
    rc = pick_capacity(hello.capacity_s2c, o, &s2c, conn->reason);
  int memfd = -1;
  if (rc == 0)
    rc = shmrpc__xproc_segment_create(c2s, s2c, &memfd, &conn->segment,
                                      &conn->segment_size, conn->reason);
  if (rc == 0) {
    conn->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (conn->wake_fd < 0)
      rc = shmrpc__xproc_sys_fail(conn->reason, "eventfd");
  }
  if (rc != 0) {
    if (memfd >= 0)
      close(memfd);
    answer_refusal(conn, rc);
    return rc;
  }
  shmrpc__xproc_welcome_t welcome = {
      .version_major = SHMRPC__XPROC_VERSION_MAJOR,
      .version_minor = SHMRPC__XPROC_VERSION_MINOR,
      .segment_bytes = (uint32_t)conn->segment_size,
      .capacity_c2s = c2s,
      .capacity_s2c = s2c,
      .server_pid = (uint32_t)getpid()};
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES];
  size_t len = shmrpc__xproc_welcome_encode(&welcome, bytes);
  int passed[2] = {memfd, conn->wake_fd};
  rc = shmrpc__xproc_send(conn->sock, bytes, len, passed, 2, conn->reason);
  /* The mapping keeps the memory; the client holds its own descriptor. */
  close(memfd);
  return rc;
}

static void *conn_main(void *arg) {
  shmrpc__xproc_conn_t *conn = arg;
  const shmrpc_xproc_server_options_t *o =
      shmrpc__xproc_server_options(conn->server);
  int rc = handshake(conn);
  if (rc == 0) {
    snprintf(conn->host_peer, sizeof conn->host_peer, "process pid=%ld uid=%lu",
             (long)conn->peer.pid, (unsigned long)conn->peer.uid);
    conn->host = (shmrpc_host_t){.abi_version = SHMRPC_HOST_ABI_VERSION,
                                 .segment = conn->segment,
                                 .segment_size = conn->segment_size,
                                 .spin_ns = o->spin_ns,
                                 .spin_fixed = o->spin_fixed,
                                 .wake_loop = wake_client_loop,
                                 .wake_loop_user = conn,
                                 .config = o->config,
                                 .peer = conn->host_peer};
    /* Serving from here on: the monitor watches the socket. A stop that
     * came before this store did not see SERVING, so look at it here
     * (both sides sequentially consistent: one of them sees the other). */
    __atomic_store_n(&conn->phase, SHMRPC__CONN_SERVING, __ATOMIC_SEQ_CST);
    shmrpc__xproc_server_notify(conn->server);
    if (__atomic_load_n(&conn->stopping, __ATOMIC_SEQ_CST)) {
      rc = SHMRPC_ECLOSED; /* too late: the server is stopping */
    } else {
      conn->connected = true;
      shmrpc__xproc_server_tell(conn->server, SHMRPC_XPROC_CONNECTED,
                                &conn->peer, false, 0, "");
      rc = o->serve(&conn->host);
    }
    /* A service that returned without closing (or crashed its channel)
     * must not leave the client waiting. */
    shmrpc__xproc_mark_gone(conn->segment, SHMRPC_SIDE_SERVER,
                            wake_client_loop, conn);
  }
  conn->result = rc;
  __atomic_store_n(&conn->phase, SHMRPC__CONN_FINISHED, __ATOMIC_SEQ_CST);
  shmrpc__xproc_server_notify(conn->server);
  return NULL;
}

int shmrpc__xproc_conn_start(shmrpc_xproc_server_t *server, int sock,
                             const shmrpc__xproc_peer_t *peer,
                             shmrpc__xproc_conn_t **out) {
  shmrpc__xproc_conn_t *conn = calloc(1, sizeof *conn);
  if (conn == NULL) {
    close(sock);
    return SHMRPC_ENOMEM;
  }
  conn->server = server;
  conn->sock = sock;
  conn->wake_fd = -1;
  conn->peer = *peer;
  if (shmrpc__xproc_thread_start(&conn->thread, conn_main, conn) != 0) {
    close(sock);
    free(conn);
    return SHMRPC_ENOMEM;
  }
  *out = conn;
  return 0;
}

void shmrpc__xproc_conn_hang_up(shmrpc__xproc_conn_t *conn) {
  conn->hang_up_seen = true;
  /* The client cannot be woken any more: only the server's waiters. */
  conn->hung_up =
      shmrpc__xproc_mark_gone(conn->segment, SHMRPC_SIDE_CLIENT, NULL, NULL);
}

void shmrpc__xproc_conn_stop(shmrpc__xproc_conn_t *conn) {
  __atomic_store_n(&conn->stopping, 1, __ATOMIC_SEQ_CST);
  uint32_t phase = __atomic_load_n(&conn->phase, __ATOMIC_SEQ_CST);
  if (phase == SHMRPC__CONN_SERVING)
    /* The service sees its client close (the server closes it on its
     * behalf: it is alive, the host is stopping): it cancels the calls in
     * flight and returns. */
    shmrpc_segment_close_for(conn->segment, SHMRPC_SIDE_CLIENT,
                             &(shmrpc_parking_t){NULL, wake_client_loop, conn});
  else if (phase == SHMRPC__CONN_HANDSHAKE)
    /* Ends the wait for the hello at once. */
    shutdown(conn->sock, SHUT_RDWR);
}

void shmrpc__xproc_conn_free(shmrpc__xproc_conn_t *conn) {
  if (conn->segment != NULL)
    munmap(conn->segment, conn->segment_size);
  if (conn->wake_fd >= 0)
    close(conn->wake_fd);
  close(conn->sock);
  free(conn);
}
