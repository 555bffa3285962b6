/* The cross-process transport's server and client in one test process:
 * names, directory and socket checks, the lock and stale sockets, the
 * handshake's validation, credentials, the connection limit, stop, and a
 * client process killed mid-call (forked: a real process, which the
 * server sees die). Handlers are the rpctest.RpcTest glue with behaviour
 * the tests observe. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_support.h"
#include "xproc_internal.h"
#include "xproc_test_support.h"

/* --- handlers the tests watch --- */

static struct {
  int hangs_cancelled;
  int stream_status; /* what the last stream's write returned; -1 running */
  uint32_t stream_sent;
  int events[4]; /* counts per shmrpc_xproc_event_kind_t */
  char last_refusal[SHMRPC_XPROC_ERROR_BYTES];
  char last_peer[64]; /* shmrpc_call_peer() of the last Echo */
} g;

static void hang_cancelled(shmrpc_call_t *call, void *user) {
  (void)user;
  __atomic_add_fetch(&g.hangs_cancelled, 1, __ATOMIC_SEQ_CST);
  shmrpc_call_finish(call, SHMRPC_STATUS_CANCELLED, NULL);
}

static int hang(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  (void)req;
  (void)res;
  shmrpc_call_on_cancel(call, hang_cancelled, NULL);
  return SHMRPC_DEFERRED;
}

static int echo(shmrpc_call_t *call, const rpctest_EchoRequest *req,
                rpctest_EchoReply *res) {
  res->call_id = shmrpc_call_id(call);
  snprintf(g.last_peer, sizeof g.last_peer, "%s", shmrpc_call_peer(call));
  res->text = req->text != NULL ? strdup(req->text) : NULL;
  return SHMRPC_STATUS_OK;
}

/* Streams until the write fails (the client went away) or `count`. */
static int count(shmrpc_call_t *call, const rpctest_CountRequest *req) {
  rpctest_CountItem item = rpctest_CountItem_init_zero;
  int status = SHMRPC_STATUS_OK;
  uint32_t i = 0;
  __atomic_store_n(&g.stream_status, -1, __ATOMIC_SEQ_CST);
  for (; i < req->count; i++) {
    item.index = i;
    status = rpctest_RpcTest_Count_write(call, &item);
    if (status != SHMRPC_STATUS_OK)
      break;
  }
  __atomic_store_n(&g.stream_sent, i, __ATOMIC_SEQ_CST);
  __atomic_store_n(&g.stream_status, status, __ATOMIC_SEQ_CST);
  return status;
}

static const rpctest_RpcTest_handlers_t handlers = {
    .Echo = echo, .Hang = hang, .Count = count};

static int serve(const shmrpc_host_t *host) {
  return shmrpc_serve_service(host, &rpctest_RpcTest_service, &handlers,
                              NULL);
}

static void on_event(void *user, const shmrpc_xproc_event_t *e) {
  (void)user;
  __atomic_add_fetch(&g.events[e->kind], 1, __ATOMIC_SEQ_CST);
  if (e->kind == SHMRPC_XPROC_REFUSED)
    snprintf(g.last_refusal, sizeof g.last_refusal, "%s", e->reason);
}

/* --- fixture --- */

typedef struct fixture_s {
  char dir[128];
  char name[32];
  shmrpc_xproc_server_options_t opts;
  shmrpc_xproc_server_t *server;
} fixture_t;

static int setup(void **state) {
  static unsigned counter;
  fixture_t *f = calloc(1, sizeof *f);
  xtest_dir_make(f->dir);
  snprintf(f->name, sizeof f->name, "t%ld-%u", (long)getpid(), counter++);
  shmrpc_xproc_server_options_init(&f->opts);
  f->opts.serve = serve;
  f->opts.runtime_dir = f->dir;
  f->opts.on_event = on_event;
  memset(&g, 0, sizeof g);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  if (f->server != NULL)
    assert_int_equal(shmrpc_xproc_server_stop(f->server, 5000), 0);
  xtest_dir_remove(f->dir);
  free(f);
  return 0;
}

static void start(fixture_t *f) {
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";
  int rc = shmrpc_xproc_server_start(f->name, &f->opts, &f->server, why);
  if (rc != 0)
    fail_msg("start: %s (%s)", why, shmrpc_err_name(rc));
}

/* Starting must fail with `code` and a description containing `text`. */
static void expect_start_refused(fixture_t *f, int code, const char *text) {
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";
  shmrpc_xproc_server_t *server = NULL;
  assert_int_equal(shmrpc_xproc_server_start(f->name, &f->opts, &server, why),
                   code);
  assert_null(server);
  if (strstr(why, text) == NULL)
    fail_msg("\"%s\" does not say \"%s\"", why, text);
}

static void path_of(const fixture_t *f, const char *suffix, char out[256]) {
  snprintf(out, 256, "%s/%s%s", f->dir, f->name, suffix);
}

/* Waits until every connection has been reaped. */
static void wait_idle(fixture_t *f) {
  double until = test_now_ms() + 5000;
  while (shmrpc_xproc_server_connections(f->server) != 0)
    assert_true(test_now_ms() < until);
}

/* Connects and checks one echo. */
static void expect_echo_works(fixture_t *f) {
  xclient_t c;
  int rc = xclient_open(&c, f->dir, f->name);
  if (rc != 0)
    fail_msg("connect: %s (%s)", c.conn.error, shmrpc_err_name(rc));
  assert_int_equal(xclient_echo(&c, 1, "hello"), 0);
  xclient_close(&c);
}

static int connect_error(fixture_t *f, char *why) {
  xclient_t c;
  int rc = xclient_open(&c, f->dir, f->name);
  if (rc == 0)
    xclient_close(&c);
  else if (why != NULL)
    memcpy(why, c.conn.error, SHMRPC_XPROC_ERROR_BYTES);
  return rc;
}

/* A raw client: connects to the socket, sends `len` bytes, returns the
 * welcome's status (or the recv error: SHMRPC_ECLOSED for a hang-up).
 * Fails no assertion: a forked child calls it too. A refusing server may
 * answer and close before the hello is sent, so a failed send is not an
 * error here. */
static int raw_handshake(fixture_t *f, const void *hello, size_t len) {
  char path[256];
  path_of(f, ".sock", path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, path);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return SHMRPC_ESYSTEM;
  }
  if (len > 0)
    (void)!send(fd, hello, len, MSG_NOSIGNAL);
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES];
  int fds[2], nfds;
  int n = shmrpc__xproc_recv(fd, bytes, sizeof bytes, fds, 2, &nfds, 5000,
                             NULL);
  close(fd);
  for (int i = 0; i < nfds; i++)
    close(fds[i]);
  if (n < 0)
    return n;
  shmrpc__xproc_welcome_t welcome;
  int rc = shmrpc__xproc_welcome_decode(bytes, (size_t)n, &welcome, NULL);
  return rc != 0 ? rc : welcome.status;
}

static void hello_bytes(uint8_t out[32], uint16_t major, uint32_t c2s,
                        uint32_t s2c) {
  shmrpc__xproc_hello_t hello = {.version_major = major,
                                 .capacity_c2s = c2s,
                                 .capacity_s2c = s2c};
  shmrpc__xproc_hello_encode(&hello, out);
}

/* --- names, directories, sockets --- */

static void xproc_server_names_client_process_as_peer(void **state) {
  fixture_t *f = *state;
  start(f);
  expect_echo_works(f);
  char want[64];
  snprintf(want, sizeof want, "process pid=%ld uid=%lu", (long)getpid(),
           (unsigned long)getuid());
  assert_string_equal(g.last_peer, want);
}

static void xproc_server_refuses_bad_names(void **state) {
  fixture_t *f = *state;
  const char *bad[] = {"", ".hidden", "a/b", "a b", "x\n",
                       "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char why[SHMRPC_XPROC_ERROR_BYTES] = "";
    assert_int_equal(shmrpc_xproc_server_start(bad[i], &f->opts, &f->server,
                                               why),
                     SHMRPC_EINVAL);
    assert_non_null(strstr(why, "name"));
  }
  f->server = NULL;
  shmrpc_xproc_connection_t conn;
  assert_int_equal(shmrpc_xproc_connect("../x", NULL, &conn), SHMRPC_EINVAL);
}

static void xproc_server_creates_private_socket(void **state) {
  fixture_t *f = *state;
  start(f);
  char path[256];
  path_of(f, ".sock", path);
  assert_string_equal(shmrpc_xproc_server_path(f->server), path);
  struct stat st;
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  expect_echo_works(f);
}

static void xproc_server_refuses_directory_with_wrong_mode(void **state) {
  fixture_t *f = *state;
  chmod(f->dir, 0755);
  expect_start_refused(f, SHMRPC_EACCES, "mode 0755");
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";

  /* A client refuses a directory others may write into, even with a
   * server behind it. */
  chmod(f->dir, 0700);
  start(f);
  chmod(f->dir, 0777);
  assert_int_equal(connect_error(f, why), SHMRPC_EACCES);
  assert_non_null(strstr(why, "mode 0777"));
  chmod(f->dir, 0700);
  expect_echo_works(f);
}

static void xproc_client_refuses_socket_with_wrong_mode(void **state) {
  fixture_t *f = *state;
  start(f);
  char path[256], why[SHMRPC_XPROC_ERROR_BYTES] = "";
  path_of(f, ".sock", path);
  chmod(path, 0666);
  assert_int_equal(connect_error(f, why), SHMRPC_EACCES);
  assert_non_null(strstr(why, "writable by others"));
}

static void xproc_server_refuses_symlinked_directory(void **state) {
  fixture_t *f = *state;
  char link[160];
  snprintf(link, sizeof link, "%s-link", f->dir);
  assert_int_equal(symlink(f->dir, link), 0);
  f->opts.runtime_dir = link;
  expect_start_refused(f, SHMRPC_EACCES, "symbolic link");
  unlink(link);
}

static void xproc_server_refuses_directory_of_another_user(void **state) {
  fixture_t *f = *state;
  if (geteuid() != 0)
    skip(); /* only root can give a directory away */
  assert_int_equal(chown(f->dir, 65534, (gid_t)-1), 0);
  expect_start_refused(f, SHMRPC_EACCES, "owned by uid 65534");
  assert_int_equal(chown(f->dir, 0, (gid_t)-1), 0);
}

static void xproc_server_replaces_stale_socket(void **state) {
  fixture_t *f = *state;
  /* What a server killed with -9 leaves: a socket file nobody accepts on. */
  char path[256];
  path_of(f, ".sock", path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, path);
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  close(fd);
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";
  assert_int_equal(connect_error(f, why), SHMRPC_ENOSERVER);
  assert_non_null(strstr(why, "stale"));
  start(f);
  expect_echo_works(f);
}

static void xproc_server_leaves_other_files_alone(void **state) {
  fixture_t *f = *state;
  char path[256];
  path_of(f, ".sock", path);
  FILE *file = fopen(path, "w");
  fputs("not a socket", file);
  fclose(file);
  expect_start_refused(f, SHMRPC_EINUSE, "not a socket");
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
}

static void xproc_server_refuses_second_server_under_one_name(void **state) {
  fixture_t *f = *state;
  start(f);
  expect_start_refused(f, SHMRPC_EINUSE, "already listens");
  /* The first one is untouched. */
  expect_echo_works(f);
  /* Once it stops, the name is free again. */
  assert_int_equal(shmrpc_xproc_server_stop(f->server, 5000), 0);
  f->server = NULL;
  char path[256];
  path_of(f, ".sock", path);
  assert_int_equal(access(path, F_OK), -1);
  assert_int_equal(connect_error(f, NULL), SHMRPC_ENOSERVER);
  start(f);
  expect_echo_works(f);
}

/* --- credentials --- */

static void xproc_server_refuses_peer_of_other_uid(void **state) {
  fixture_t *f = *state;
  /* Admit only another uid: this process is then a stranger. */
  f->opts.allow_uid = geteuid() + 1;
  start(f);
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";
  assert_int_equal(connect_error(f, why), SHMRPC_EACCES);
  assert_non_null(strstr(why, "may not attach"));
  /* Told right after the answer went out. */
  double until = test_now_ms() + 5000;
  while (__atomic_load_n(&g.events[SHMRPC_XPROC_REFUSED], __ATOMIC_SEQ_CST) !=
         1)
    assert_true(test_now_ms() < until);
  assert_int_equal(g.events[SHMRPC_XPROC_CONNECTED], 0);
}

static void xproc_server_admits_configured_group(void **state) {
  fixture_t *f = *state;
  f->opts.allow_uid = geteuid() + 1;
  f->opts.allow_group = true;
  f->opts.allow_gid = getegid();
  chmod(f->dir, 0750);
  start(f);
  char path[256];
  path_of(f, ".sock", path);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0660);
  assert_int_equal(st.st_gid, getegid());
  expect_echo_works(f);
}

/* A process that really runs as another user (root only): it can reach
 * the socket (modes opened up by hand), but SO_PEERCRED gives it away. */
static void xproc_server_refuses_process_of_other_uid(void **state) {
  fixture_t *f = *state;
  if (geteuid() != 0)
    skip();
  start(f);
  char path[256];
  path_of(f, ".sock", path);
  chmod(f->dir, 0711);
  chmod(path, 0666);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0)
      _exit(2);
    uint8_t hello[32];
    hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 0, 0);
    _exit(raw_handshake(f, hello, sizeof hello) == SHMRPC_EACCES ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  double until = test_now_ms() + 5000;
  while (__atomic_load_n(&g.events[SHMRPC_XPROC_REFUSED], __ATOMIC_SEQ_CST) !=
         1)
    assert_true(test_now_ms() < until);
  assert_non_null(strstr(g.last_refusal, "uid 65534"));
  chmod(f->dir, 0700);
}

/* --- the handshake --- */

static void xproc_server_validates_hello(void **state) {
  fixture_t *f = *state;
  f->opts.max_capacity = 1u << 20;
  f->opts.handshake_timeout_ms = 200;
  start(f);
  uint8_t hello[40];
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 4096, 4096);
  hello[0] ^= 1; /* magic */
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EPROTO);
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR + 1, 4096, 4096);
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EVERSION);
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 4096, 4096);
  assert_int_equal(raw_handshake(f, hello, 31), SHMRPC_EPROTO);
  assert_int_equal(raw_handshake(f, hello, 40), SHMRPC_EPROTO);
  hello[20] = 1; /* reserved */
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EPROTO);
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 4096, 1u << 21);
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EINVAL);
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 4095, 4096);
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EINVAL);
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 32, 4096);
  assert_int_equal(raw_handshake(f, hello, 32), SHMRPC_EINVAL);
  /* Silence: dropped after the handshake timeout. */
  assert_int_equal(raw_handshake(f, NULL, 0), SHMRPC_ECLOSED);
  /* And a good one gets the segment it asked for. */
  hello_bytes(hello, SHMRPC__XPROC_VERSION_MAJOR, 4096, 8192);
  assert_int_equal(raw_handshake(f, hello, 32), 0);
  expect_echo_works(f);
  wait_idle(f);
}

static void xproc_codec_round_trips(void **state) {
  (void)state;
  shmrpc__xproc_welcome_t in = {.version_major = 1,
                                .version_minor = 7,
                                .status = SHMRPC_EACCES,
                                .segment_bytes = 99,
                                .capacity_c2s = 64,
                                .capacity_s2c = 128,
                                .server_pid = 1234};
  strcpy(in.message, "no\x01way");
  uint8_t bytes[SHMRPC__XPROC_WELCOME_MAX_BYTES];
  size_t len = shmrpc__xproc_welcome_encode(&in, bytes);
  assert_int_equal(len, 32 + 6);
  shmrpc__xproc_welcome_t out;
  assert_int_equal(shmrpc__xproc_welcome_decode(bytes, len, &out, NULL), 0);
  assert_int_equal(out.status, SHMRPC_EACCES);
  assert_int_equal(out.capacity_s2c, 128);
  assert_int_equal(out.server_pid, 1234);
  assert_string_equal(out.message, "no?way"); /* control bytes masked */
  assert_int_equal(shmrpc__xproc_welcome_decode(bytes, len - 1, &out, NULL),
                   SHMRPC_EPROTO);
  bytes[28] = 250; /* message length beyond the limit */
  assert_int_equal(shmrpc__xproc_welcome_decode(bytes, len, &out, NULL),
                   SHMRPC_EPROTO);
}

static void xproc_client_gets_requested_capacities(void **state) {
  fixture_t *f = *state;
  start(f);
  shmrpc_xproc_connect_options_t opts;
  shmrpc_xproc_connect_options_init(&opts);
  opts.runtime_dir = f->dir;
  opts.capacity_c2s = 4096;
  opts.capacity_s2c = 1u << 16;
  shmrpc_xproc_connection_t conn;
  assert_int_equal(shmrpc_xproc_connect(f->name, &opts, &conn), 0);
  assert_int_equal(conn.segment_size, shmrpc_segment_size(4096, 1u << 16));
  assert_int_equal(conn.server_pid, getpid());
  shmrpc_xproc_disconnect(&conn);
  opts.capacity_c2s = 1u << 30; /* above the default limit */
  assert_int_equal(shmrpc_xproc_connect(f->name, &opts, &conn), SHMRPC_EINVAL);
  assert_non_null(strstr(conn.error, "limit"));
}

static void xproc_server_refuses_beyond_max_connections(void **state) {
  fixture_t *f = *state;
  f->opts.max_connections = 1;
  start(f);
  xclient_t first;
  assert_int_equal(xclient_open(&first, f->dir, f->name), 0);
  char why[SHMRPC_XPROC_ERROR_BYTES] = "";
  assert_int_equal(connect_error(f, why), SHMRPC_EAGAIN);
  assert_non_null(strstr(why, "full"));
  xclient_close(&first);
  /* The slot frees once the first connection is reaped. */
  wait_idle(f);
  expect_echo_works(f);
}

/* --- liveness --- */

static void xproc_server_stop_ends_connections(void **state) {
  fixture_t *f = *state;
  start(f);
  xclient_t c;
  assert_int_equal(xclient_open(&c, f->dir, f->name), 0);
  assert_int_equal(xclient_hang(&c, 7), 0);
  xreply_t r;
  assert_int_equal(xclient_recv(&c, &r, 50), 0); /* hanging */
  assert_int_equal(shmrpc_xproc_server_stop(f->server, 5000), 0);
  f->server = NULL;
  /* The handler saw its call cancelled; the client sees the end. */
  assert_int_equal(g.hangs_cancelled, 1);
  assert_int_equal(xclient_drain(&c, 2000), SHMRPC_ECLOSED);
  xclient_close(&c);
  char path[256];
  path_of(f, ".sock", path);
  assert_int_equal(access(path, F_OK), -1);
  path_of(f, ".lock", path);
  assert_int_equal(access(path, F_OK), -1);
  assert_int_equal(g.events[SHMRPC_XPROC_DISCONNECTED],
                   g.events[SHMRPC_XPROC_CONNECTED]);
}

/* Forks a client that starts `method` and writes a byte to `ready` once
 * the server is busy with it (for Count: after `first_items` items), then
 * waits to be killed. */
static pid_t start_doomed_client(fixture_t *f, uint32_t method, int ready) {
  pid_t child = fork();
  if (child != 0)
    return child;
  xclient_t c;
  if (xclient_open(&c, f->dir, f->name) != 0)
    _exit(2);
  int rc;
  if (method == rpctest_RpcTest_Count_ID) {
    rpctest_CountRequest req = {.count = 1000000000u};
    rc = xclient_request(&c, 1, method, rpctest_RpcTest_Count_SCHEMA_HASH, 4,
                         rpctest_CountRequest_fields, &req);
    /* The window of 4 fills; the handler then waits for credit. */
    for (int i = 0; rc == 0 && i < 4; i++) {
      xreply_t r;
      rc = xclient_recv(&c, &r, 5000) == 1 ? 0 : -1;
      if (rc == 0)
        free(r.body);
    }
  } else {
    rc = xclient_hang(&c, 1);
  }
  if (rc != 0)
    _exit(3);
  (void)!write(ready, "r", 1);
  for (;;)
    pause();
}

static void kill_client_mid_call(fixture_t *f, uint32_t method) {
  start(f);
  /* What this process holds with the server idle. */
  expect_echo_works(f);
  wait_idle(f);
  int fds_before = xtest_count_fds(getpid());
  int threads_before = xtest_count_threads(getpid());

  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t child = start_doomed_client(f, method, ready[1]);
  char byte;
  assert_int_equal(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  close(ready[1]);
  assert_int_equal(shmrpc_xproc_server_connections(f->server), 1);
  assert_true(xtest_count_threads(getpid()) > threads_before);
  kill(child, SIGKILL);
  assert_int_equal(waitpid(child, NULL, 0), child);

  /* The server saw the hang-up, cancelled the call, returned, freed. */
  assert_true(xtest_wait_count(xtest_count_threads, getpid(), threads_before,
                               5000));
  assert_true(xtest_wait_count(xtest_count_fds, getpid(), fds_before, 5000));
  assert_int_equal(shmrpc_xproc_server_connections(f->server), 0);
  assert_int_equal(g.events[SHMRPC_XPROC_DISCONNECTED], 2);
}

static void xproc_client_killed_mid_call_is_cancelled(void **state) {
  fixture_t *f = *state;
  kill_client_mid_call(f, rpctest_RpcTest_Hang_ID);
  assert_int_equal(g.hangs_cancelled, 1);
}

static void xproc_client_killed_mid_stream_is_cancelled(void **state) {
  fixture_t *f = *state;
  kill_client_mid_call(f, rpctest_RpcTest_Count_ID);
  /* The stream's write saw the end (not OK) after the first items. */
  int status = __atomic_load_n(&g.stream_status, __ATOMIC_SEQ_CST);
  assert_true(status > 0);
  assert_true(g.stream_sent >= 4);
  assert_true(g.stream_sent < 1000000000u);
}

int main(void) {
  /* A killed client's socket must not kill us when the server writes. */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(xproc_server_names_client_process_as_peer),
      T(xproc_server_refuses_bad_names),
      T(xproc_server_creates_private_socket),
      T(xproc_server_refuses_directory_with_wrong_mode),
      T(xproc_client_refuses_socket_with_wrong_mode),
      T(xproc_server_refuses_symlinked_directory),
      T(xproc_server_refuses_directory_of_another_user),
      T(xproc_server_replaces_stale_socket),
      T(xproc_server_leaves_other_files_alone),
      T(xproc_server_refuses_second_server_under_one_name),
      T(xproc_server_refuses_peer_of_other_uid),
      T(xproc_server_admits_configured_group),
      T(xproc_server_refuses_process_of_other_uid),
      T(xproc_server_validates_hello),
      T(xproc_codec_round_trips),
      T(xproc_client_gets_requested_capacities),
      T(xproc_server_refuses_beyond_max_connections),
      T(xproc_server_stop_ends_connections),
      T(xproc_client_killed_mid_call_is_cancelled),
      T(xproc_client_killed_mid_stream_is_cancelled),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
