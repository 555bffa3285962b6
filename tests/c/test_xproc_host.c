/* shmrpc-host with the RPC test service (tests/services/rpc_test_service.c)
 * and client processes: unary and streaming calls, two and eight clients
 * at once, the host killed with -9 mid-call and restarted, a client killed
 * with -9 mid-stream (nothing leaks in the host), SIGTERM, and a second
 * host under the same name. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_support.h"
#include "xproc_test_support.h"

#define SERVICE "libshmrpc_rpc_test.so"

typedef struct fixture_s {
  char dir[128];
  char name[32];
  pid_t host;
} fixture_t;

static int setup(void **state) {
  static unsigned counter;
  fixture_t *f = calloc(1, sizeof *f);
  xtest_dir_make(f->dir);
  snprintf(f->name, sizeof f->name, "h%ld-%u", (long)getpid(), counter++);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  if (f->host > 0) {
    kill(f->host, SIGKILL);
    waitpid(f->host, NULL, 0);
  }
  xtest_dir_remove(f->dir);
  free(f);
  return 0;
}

static void start_host(fixture_t *f) {
  f->host = xtest_host_start(f->dir, f->name, xtest_service(SERVICE), NULL);
  assert_true(f->host > 0);
}

static void open_client(fixture_t *f, xclient_t *c) {
  int rc = xclient_open(c, f->dir, f->name);
  if (rc != 0)
    fail_msg("connect: %s (%s)", c->conn.error, shmrpc_err_name(rc));
}

/* Waits for a child process and checks its exit code. */
static void expect_exit(pid_t pid, int code) {
  int status = xtest_wait_exit(pid, 60000);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), code);
}

/* A new client gets an answer: the host is (still) serving. */
static void expect_serving(fixture_t *f, const char *text) {
  xclient_t c;
  open_client(f, &c);
  assert_int_equal(xclient_echo(&c, 1, text), 0);
  xclient_close(&c);
}

/* Receives the Count stream of call `id`: `n` items in order, then its
 * end with `status`; a StreamStopped event may come in between. */
static void expect_stream(xclient_t *c, uint32_t id, uint32_t n) {
  uint32_t next = 0;
  for (;;) {
    xreply_t r;
    assert_int_equal(xclient_recv(c, &r, 5000), 1);
    if (r.env.kind == SHMRPC_RPC_EVENT) {
      free(r.body);
      continue;
    }
    assert_int_equal(r.env.call_id, id);
    if (r.env.kind == SHMRPC_RPC_STREAM_END) {
      assert_int_equal(r.env.status, 0);
      free(r.body);
      break;
    }
    assert_int_equal(r.env.kind, SHMRPC_RPC_STREAM_MESSAGE);
    rpctest_CountItem item = rpctest_CountItem_init_zero;
    assert_true(xreply_decode(&r, rpctest_CountItem_fields, &item));
    assert_int_equal(item.index, next);
    assert_int_equal(item.payload->size, 100);
    assert_int_equal(item.payload->bytes[99], next & 0xff);
    pb_release(rpctest_CountItem_fields, &item);
    free(r.body);
    next++;
  }
  assert_int_equal(next, n);
}

static void xproc_host_serves_unary_and_streaming_calls(void **state) {
  fixture_t *f = *state;
  start_host(f);
  xclient_t c;
  open_client(f, &c);
  char text[32];
  for (uint32_t i = 1; i <= 200; i++) {
    snprintf(text, sizeof text, "call %u", i);
    assert_int_equal(xclient_echo(&c, i, text), 0);
  }
  /* A stream larger than its window: the client returns credit. */
  rpctest_CountRequest req = {.count = 300, .payload_bytes = 100};
  assert_int_equal(xclient_request(&c, 500, rpctest_RpcTest_Count_ID,
                                   rpctest_RpcTest_Count_SCHEMA_HASH, 1000,
                                   rpctest_CountRequest_fields, &req),
                   0);
  expect_stream(&c, 500, 300);
  /* Deferred calls are answered from the service's own threads. */
  rpctest_CountRequest deferred = {.count = 50, .payload_bytes = 100};
  assert_int_equal(xclient_request(&c, 501, rpctest_RpcTest_CountDeferred_ID,
                                   rpctest_RpcTest_CountDeferred_SCHEMA_HASH,
                                   1000, rpctest_CountRequest_fields,
                                   &deferred),
                   0);
  expect_stream(&c, 501, 50);
  xclient_close(&c);
  char line[64];
  snprintf(line, sizeof line, "connect pid=%ld uid=%u", (long)getpid(),
           (unsigned)getuid());
  assert_true(xtest_log_contains(f->dir, f->name, line));
}

/* Each child: connect, 300 echoes of its own texts, close. */
static void many_clients(fixture_t *f, int n) {
  start_host(f);
  pid_t children[8];
  for (int i = 0; i < n; i++) {
    children[i] = fork();
    if (children[i] == 0) {
      xclient_t c;
      if (xclient_open(&c, f->dir, f->name) != 0)
        _exit(2);
      char text[48];
      for (uint32_t k = 1; k <= 300; k++) {
        snprintf(text, sizeof text, "client %d call %u", i, k);
        if (xclient_echo(&c, k, text) != 0)
          _exit(3);
      }
      xclient_close(&c);
      _exit(0);
    }
  }
  for (int i = 0; i < n; i++)
    expect_exit(children[i], 0);
  expect_serving(f, "after");
}

static void xproc_host_serves_two_clients_at_once(void **state) {
  many_clients(*state, 2);
}

static void xproc_host_serves_eight_clients_at_once(void **state) {
  many_clients(*state, 8);
}

static void xproc_host_killed_mid_call_fails_calls_fast(void **state) {
  fixture_t *f = *state;
  start_host(f);
  xclient_t c;
  open_client(f, &c);
  assert_int_equal(xclient_hang(&c, 1), 0);
  rpctest_EchoRequest slow = rpctest_EchoRequest_init_zero;
  slow.delay_ms = 30000;
  assert_int_equal(xclient_request(&c, 2, rpctest_RpcTest_EchoDeferred_ID,
                                   rpctest_RpcTest_EchoDeferred_SCHEMA_HASH, 0,
                                   rpctest_EchoRequest_fields, &slow),
                   0);
  xreply_t r;
  assert_int_equal(xclient_recv(&c, &r, 50), 0);
  /* A watched connection may move (xproc.h): move it and clobber its old
   * place; the watcher must still see the host die. */
  shmrpc_xproc_connection_t *moved = malloc(sizeof *moved);
  assert_non_null(moved);
  *moved = c.conn;
  memset(&c.conn, 0xa5, sizeof c.conn);
  double killed_at = test_now_ms();
  kill(f->host, SIGKILL);
  /* The watcher sees the socket hang up and marks the server DEAD: the
   * waiting receive ends without any timeout of its own. */
  assert_int_equal(xclient_recv(&c, &r, 10000), SHMRPC_EPEERDEAD);
  double waited = test_now_ms() - killed_at;
  print_message("pending calls failed %.1f ms after kill -9\n", waited);
  assert_true(waited < 2000);
  assert_true(shmrpc_channel_peer_closed(&c.ch));
  c.conn = *moved;
  free(moved);
  xclient_close(&c);
  waitpid(f->host, NULL, 0);

  /* Its socket is stale now; a new host replaces it. */
  char why[SHMRPC_XPROC_ERROR_BYTES];
  xclient_t again;
  assert_int_equal(xclient_open(&again, f->dir, f->name), SHMRPC_ENOSERVER);
  memcpy(why, again.conn.error, sizeof why);
  assert_non_null(strstr(why, "stale"));
  start_host(f);
  expect_serving(f, "reconnected");
}

static void xproc_host_frees_client_killed_mid_stream(void **state) {
  fixture_t *f = *state;
  start_host(f);
  /* Idle: main thread and monitor, and the descriptors of start_host's
   * probe connection closed (its thread may end before they are). */
  assert_true(xtest_wait_count(xtest_count_threads, f->host, 2, 5000));
  int fds_before = xtest_wait_steady(xtest_count_fds, f->host, 100, 5000);
  assert_true(fds_before > 0);

  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    xclient_t c;
    if (xclient_open(&c, f->dir, f->name) != 0)
      _exit(2);
    rpctest_CountRequest req = {.count = 1000000000u, .payload_bytes = 16};
    /* From the service's stream thread, waiting for credit after 8. */
    if (xclient_request(&c, 1, rpctest_RpcTest_CountDeferred_ID,
                        rpctest_RpcTest_CountDeferred_SCHEMA_HASH, 8,
                        rpctest_CountRequest_fields, &req) != 0)
      _exit(3);
    for (int i = 0; i < 8; i++) {
      xreply_t r;
      if (xclient_recv(&c, &r, 5000) != 1)
        _exit(4);
      free(r.body);
    }
    (void)!write(ready[1], "r", 1);
    for (;;)
      pause();
  }
  char byte;
  assert_int_equal(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  close(ready[1]);
  /* Connection thread, the service's timer and stream threads, and the
   * connection's descriptors; looked at before any assertion, so that a
   * failing one cannot leave the child behind. */
  int threads_connected = xtest_count_threads(f->host);
  bool fds_grew =
      xtest_wait_above(xtest_count_fds, f->host, fds_before, 5000);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  assert_true(threads_connected >= 5);
  assert_true(fds_grew);

  assert_true(xtest_wait_count(xtest_count_threads, f->host, 2, 5000));
  assert_true(xtest_wait_count(xtest_count_fds, f->host, fds_before, 5000));
  char line[64];
  snprintf(line, sizeof line, "disconnect pid=%ld", (long)child);
  double until = test_now_ms() + 5000;
  while (!xtest_log_contains(f->dir, f->name, line))
    assert_true(test_now_ms() < until);
  assert_true(xtest_log_contains(f->dir, f->name, "hung-up"));
  expect_serving(f, "still here"); /* the others are still served */
}

static void xproc_host_stops_cleanly_on_sigterm(void **state) {
  fixture_t *f = *state;
  start_host(f);
  xclient_t c;
  open_client(f, &c);
  assert_int_equal(xclient_hang(&c, 1), 0);
  xreply_t r;
  assert_int_equal(xclient_recv(&c, &r, 50), 0);
  kill(f->host, SIGTERM);
  assert_int_equal(xclient_drain(&c, 5000), SHMRPC_ECLOSED);
  int status = xtest_wait_exit(f->host, 10000);
  f->host = 0;
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  xclient_close(&c);
  char path[256];
  snprintf(path, sizeof path, "%s/%s.sock", f->dir, f->name);
  assert_int_equal(access(path, F_OK), -1);
  assert_true(xtest_log_contains(f->dir, f->name, "stopped"));
}

static void xproc_host_refuses_second_host_under_one_name(void **state) {
  fixture_t *f = *state;
  start_host(f);
  pid_t second = fork();
  if (second == 0) {
    execl(SHMRPC_HOST_PATH, SHMRPC_HOST_PATH, f->name,
          xtest_service(SERVICE), "--runtime-dir", f->dir, (char *)NULL);
    _exit(127);
  }
  expect_exit(second, 1);
  expect_serving(f, "first"); /* the first host is untouched */
}

/* Runs shmrpc-host with `argv` (stderr to /dev/null) and checks its exit. */
static void expect_host_exit(const char *const *argv, int code) {
  pid_t child = fork();
  if (child == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execv(SHMRPC_HOST_PATH, (char *const *)argv);
    _exit(127);
  }
  expect_exit(child, code);
}

static void xproc_host_reports_bad_arguments(void **state) {
  (void)state;
  const char *no_library[] = {SHMRPC_HOST_PATH, "name", "/nonexistent.so",
                              NULL};
  expect_host_exit(no_library, 1);
  const char *usage[] = {SHMRPC_HOST_PATH, "only-a-name", NULL};
  expect_host_exit(usage, 2);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(xproc_host_serves_unary_and_streaming_calls),
      T(xproc_host_serves_two_clients_at_once),
      T(xproc_host_serves_eight_clients_at_once),
      T(xproc_host_killed_mid_call_fails_calls_fast),
      T(xproc_host_frees_client_killed_mid_stream),
      T(xproc_host_stops_cleanly_on_sigterm),
      T(xproc_host_refuses_second_host_under_one_name),
      T(xproc_host_reports_bad_arguments),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
