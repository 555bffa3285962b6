/* Helpers for the cross-process tests (see xproc_test_support.h). */
#include "xproc_test_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pb_decode.h>
#include <pb_encode.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

void xtest_dir_make(char out[128]) {
  const char *tmp = getenv("TMPDIR");
  snprintf(out, 128, "%s/shmrpc-xtest-XXXXXX", tmp != NULL ? tmp : "/tmp");
  if (mkdtemp(out) == NULL) {
    perror("mkdtemp");
    abort();
  }
  chmod(out, 0700);
}

void xtest_dir_remove(const char *dir) {
  DIR *d = opendir(dir);
  if (d != NULL) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      char path[512];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

const char *xtest_service(const char *file) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", SHMRPC_SERVICES_DIR, file);
  return path;
}

pid_t xtest_host_start(const char *dir, const char *name, const char *library,
                       const char *const *extra) {
  char log[256], sock[256];
  snprintf(log, sizeof log, "%s/%s.log", dir, name);
  snprintf(sock, sizeof sock, "%s/%s.sock", dir, name);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0)
      dup2(fd, 2);
    const char *argv[32] = {SHMRPC_HOST_PATH, name, library, "--runtime-dir",
                            dir};
    int n = 5;
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
      argv[n++] = extra[i];
    argv[n] = NULL;
    execv(SHMRPC_HOST_PATH, (char *const *)argv);
    _exit(127);
  }
  /* Ready once a probe connect succeeds (the socket file appears at bind,
   * the listen follows). */
  double until = now_ms() + 10000;
  while (now_ms() < until) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
      return -1;
    struct stat st;
    if (stat(sock, &st) == 0) {
      xclient_t c;
      if (xclient_open(&c, dir, name) == 0) {
        xclient_close(&c);
        return pid;
      }
    }
    sleep_ms(5);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

int xtest_wait_exit(pid_t pid, int timeout_ms) {
  double until = now_ms() + timeout_ms;
  int status;
  while (now_ms() < until) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    sleep_ms(2);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

static int count_entries(pid_t pid, const char *what) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, what);
  DIR *d = opendir(path);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

int xtest_count_fds(pid_t pid) { return count_entries(pid, "fd"); }
int xtest_count_threads(pid_t pid) { return count_entries(pid, "task"); }

/* True once `count` is `want` (above: more than `want`) within `timeout_ms`. */
static bool wait_for(int (*count)(pid_t), pid_t pid, int want, bool above,
                     int timeout_ms) {
  double until = now_ms() + timeout_ms;
  for (;;) {
    int n = count(pid);
    if (above ? n > want : n == want)
      return true;
    if (now_ms() >= until)
      return false;
    sleep_ms(5);
  }
}

bool xtest_wait_count(int (*count)(pid_t), pid_t pid, int want,
                      int timeout_ms) {
  return wait_for(count, pid, want, false, timeout_ms);
}

bool xtest_wait_above(int (*count)(pid_t), pid_t pid, int floor,
                      int timeout_ms) {
  return wait_for(count, pid, floor, true, timeout_ms);
}

int xtest_wait_steady(int (*count)(pid_t), pid_t pid, int settle_ms,
                      int timeout_ms) {
  double until = now_ms() + timeout_ms;
  int last = count(pid);
  double since = now_ms();
  while (now_ms() < until && now_ms() - since < settle_ms) {
    sleep_ms(5);
    int n = count(pid);
    if (n != last) {
      last = n;
      since = now_ms();
    }
  }
  return last;
}

bool xtest_log_contains(const char *dir, const char *name, const char *text) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s.log", dir, name);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return false;
  char line[512];
  bool found = false;
  while (!found && fgets(line, sizeof line, f) != NULL)
    found = strstr(line, text) != NULL;
  fclose(f);
  return found;
}

int xclient_open(xclient_t *c, const char *dir, const char *name) {
  memset(c, 0, sizeof *c);
  shmrpc_xproc_connect_options_t opts;
  shmrpc_xproc_connect_options_init(&opts);
  opts.runtime_dir = dir;
  int rc = shmrpc_xproc_connect(name, &opts, &c->conn);
  if (rc != 0)
    return rc;
  rc = shmrpc_channel_open(&c->ch, c->conn.segment, c->conn.segment_size,
                           SHMRPC_SIDE_CLIENT, NULL);
  if (rc != 0) {
    shmrpc_xproc_disconnect(&c->conn);
    return rc;
  }
  c->open = true;
  return 0;
}

void xclient_close(xclient_t *c) {
  if (!c->open)
    return;
  shmrpc_channel_close(&c->ch);
  shmrpc_channel_destroy(&c->ch);
  shmrpc_xproc_disconnect(&c->conn);
  c->open = false;
}

static int send_envelope(xclient_t *c, const shmrpc_envelope_t *header,
                         const pb_msgdesc_t *fields, const void *message) {
  size_t body = 0;
  if (fields != NULL && !pb_get_encoded_size(&body, fields, message))
    return SHMRPC_EINVAL;
  uint8_t *buf = malloc(SHMRPC_ENVELOPE_HEADER_BYTES + body);
  if (buf == NULL)
    return SHMRPC_ENOMEM;
  shmrpc_envelope_write_header(header, buf);
  if (fields != NULL) {
    pb_ostream_t os =
        pb_ostream_from_buffer(buf + SHMRPC_ENVELOPE_HEADER_BYTES, body);
    if (!pb_encode(&os, fields, message)) {
      free(buf);
      return SHMRPC_EINVAL;
    }
  }
  int rc = shmrpc_channel_send(&c->ch, SHMRPC_COMMAND, buf,
                               SHMRPC_ENVELOPE_HEADER_BYTES + body, 5000);
  free(buf);
  return rc;
}

int xclient_request(xclient_t *c, uint32_t call_id, uint32_t method_id,
                    uint32_t schema_hash, uint32_t credit,
                    const pb_msgdesc_t *fields, const void *message) {
  shmrpc_envelope_t h = {.kind = SHMRPC_RPC_REQUEST,
                         .call_id = call_id,
                         .method_id = method_id,
                         .schema_hash = schema_hash,
                         .credit = credit};
  return send_envelope(c, &h, fields, message);
}

int xclient_control(xclient_t *c, uint8_t kind, uint32_t call_id,
                    uint32_t credit) {
  shmrpc_envelope_t h = {.kind = kind, .call_id = call_id, .credit = credit};
  return send_envelope(c, &h, NULL, NULL);
}

int xclient_recv(xclient_t *c, xreply_t *out, int timeout_ms) {
  shmrpc_msg_t msg;
  int rc = shmrpc_channel_recv(&c->ch, &msg, timeout_ms);
  if (rc <= 0)
    return rc;
  if (msg.type != SHMRPC_COMMAND ||
      shmrpc_envelope_parse(msg.data, msg.len, &out->env, NULL) != 0)
    return SHMRPC_EPROTO;
  out->body = malloc(out->env.body_len + 1);
  if (out->body == NULL)
    return SHMRPC_ENOMEM;
  memcpy(out->body, out->env.body, out->env.body_len);
  out->body[out->env.body_len] = 0;
  out->env.body = out->body;
  return 1;
}

bool xreply_decode(const xreply_t *r, const pb_msgdesc_t *fields, void *out) {
  pb_istream_t is = pb_istream_from_buffer(r->body, r->env.body_len);
  return pb_decode(&is, fields, out);
}

int xclient_hang(xclient_t *c, uint32_t call_id) {
  rpctest_EchoRequest req = rpctest_EchoRequest_init_zero;
  return xclient_request(c, call_id, rpctest_RpcTest_Hang_ID,
                         rpctest_RpcTest_Hang_SCHEMA_HASH, 0,
                         rpctest_EchoRequest_fields, &req);
}

int xclient_drain(xclient_t *c, int timeout_ms) {
  for (;;) {
    xreply_t r;
    int rc = xclient_recv(c, &r, timeout_ms);
    if (rc != 1)
      return rc;
    free(r.body);
  }
}

int xclient_echo(xclient_t *c, uint32_t call_id, const char *text) {
  rpctest_EchoRequest req = rpctest_EchoRequest_init_zero;
  req.text = (char *)text;
  int rc = xclient_request(c, call_id, rpctest_RpcTest_Echo_ID,
                           rpctest_RpcTest_Echo_SCHEMA_HASH, 0,
                           rpctest_EchoRequest_fields, &req);
  if (rc != 0) {
    fprintf(stderr, "echo %u: send: %s\n", call_id, shmrpc_strerror(rc));
    return -1;
  }
  xreply_t r;
  rc = xclient_recv(c, &r, 5000);
  if (rc != 1) {
    fprintf(stderr, "echo %u: recv: %d\n", call_id, rc);
    return -1;
  }
  rpctest_EchoReply reply = rpctest_EchoReply_init_zero;
  bool ok = r.env.kind == SHMRPC_RPC_RESPONSE && r.env.call_id == call_id &&
            xreply_decode(&r, rpctest_EchoReply_fields, &reply) &&
            reply.text != NULL && strcmp(reply.text, text) == 0;
  if (!ok)
    fprintf(stderr, "echo %u: bad reply (kind %u, call %u)\n", call_id,
            r.env.kind, r.env.call_id);
  pb_release(rpctest_EchoReply_fields, &reply);
  free(r.body);
  return ok ? 0 : -1;
}
