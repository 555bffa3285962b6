/* shmrpc-host: serves a service library to clients in other processes.
 *
 *   shmrpc-host NAME LIBRARY [--config STR] [--runtime-dir DIR]
 *               [--group GID] [--max-connections N] [--max-ring BYTES]
 *               [--ring BYTES] [--spin-us N] [--spin-fixed]
 *               [--stop-timeout-ms N]
 *
 * --spin-us caps the server's adaptive spin budget (docs/PROTOCOL.md 4);
 * with --spin-fixed it spins that long before every park.
 *
 * LIBRARY is a shared object exporting shmrpc_serve (c/include/shmrpc/
 * host.h), the same library the Node addon hosts in-process. The host
 * listens under NAME (docs/PROTOCOL.md 9), logs one line per connect,
 * refusal and disconnect to stderr, and on SIGINT or SIGTERM stops
 * listening, ends every connection (calls in flight are cancelled; their
 * clients see UNAVAILABLE), removes its socket and exits 0. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmrpc/xproc.h"

#define DEFAULT_STOP_TIMEOUT_MS 10000

static void usage(void) {
  fprintf(stderr,
          "usage: shmrpc-host NAME LIBRARY [--config STR] [--runtime-dir DIR]\n"
          "                   [--group GID] [--max-connections N]\n"
          "                   [--ring BYTES] [--max-ring BYTES] [--spin-us N]\n"
          "                   [--spin-fixed] [--stop-timeout-ms N]\n");
}

/* A whole non-negative number that fits in `max`, or -1. */
static long long parse_number(const char *text, long long max) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < 0 || v > max)
    return -1;
  return v;
}

static void log_event(void *user, const shmrpc_xproc_event_t *e) {
  (void)user;
  switch (e->kind) {
  case SHMRPC_XPROC_CONNECTED:
    fprintf(stderr,
            "shmrpc-host: connect pid=%ld uid=%u gid=%u (%zu connected)\n",
            (long)e->pid, (unsigned)e->uid, (unsigned)e->gid, e->connections);
    break;
  case SHMRPC_XPROC_REFUSED:
    fprintf(stderr, "shmrpc-host: refused pid=%ld uid=%u gid=%u: %s (%s)\n",
            (long)e->pid, (unsigned)e->uid, (unsigned)e->gid, e->reason,
            shmrpc_err_name(e->result));
    break;
  case SHMRPC_XPROC_DISCONNECTED:
    fprintf(stderr,
            "shmrpc-host: disconnect pid=%ld uid=%u gid=%u %s result=%s "
            "(%zu connected)\n",
            (long)e->pid, (unsigned)e->uid, (unsigned)e->gid,
            e->hung_up ? "hung-up" : "closed",
            e->result == 0 ? "OK" : shmrpc_err_name(e->result),
            e->connections);
    break;
  }
}

typedef struct args_s {
  const char *name;
  const char *library;
  int stop_timeout_ms;
  shmrpc_xproc_server_options_t opts;
} args_t;

/* Parses the command line into `a`. Returns 0, or 2 after a usage error. */
static int parse_args(int argc, char **argv, args_t *a) {
  shmrpc_xproc_server_options_init(&a->opts);
  a->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
  int positional = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] != '-' || arg[1] != '-') {
      if (positional == 0)
        a->name = arg;
      else if (positional == 1)
        a->library = arg;
      else
        return 2;
      positional++;
      continue;
    }
    if (strcmp(arg, "--help") == 0)
      return 2;
    if (strcmp(arg, "--spin-fixed") == 0) {
      a->opts.spin_fixed = true;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "shmrpc-host: %s needs a value\n", arg);
      return 2;
    }
    const char *value = argv[++i];
    long long n = parse_number(value, UINT32_MAX);
    if (strcmp(arg, "--config") == 0) {
      a->opts.config = value;
    } else if (strcmp(arg, "--runtime-dir") == 0) {
      a->opts.runtime_dir = value;
    } else if (strcmp(arg, "--group") == 0 && n >= 0) {
      a->opts.allow_group = true;
      a->opts.allow_gid = (gid_t)n;
    } else if (strcmp(arg, "--max-connections") == 0 && n > 0) {
      a->opts.max_connections = (uint32_t)n;
    } else if (strcmp(arg, "--ring") == 0 && n > 0) {
      a->opts.default_capacity = (uint32_t)n;
    } else if (strcmp(arg, "--max-ring") == 0 && n > 0) {
      a->opts.max_capacity = (uint32_t)n;
    } else if (strcmp(arg, "--spin-us") == 0 && n >= 0 && n <= 4000000) {
      a->opts.spin_ns = (uint32_t)(n * 1000);
    } else if (strcmp(arg, "--stop-timeout-ms") == 0 && n >= 0 &&
               n <= INT32_MAX) {
      a->stop_timeout_ms = (int)n;
    } else {
      fprintf(stderr, "shmrpc-host: bad option %s %s\n", arg, value);
      return 2;
    }
  }
  return positional == 2 ? 0 : 2;
}

int main(int argc, char **argv) {
  args_t a = {0};
  if (parse_args(argc, argv, &a) != 0) {
    usage();
    return 2;
  }
  void *library = dlopen(a.library, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    fprintf(stderr, "shmrpc-host: cannot load %s: %s\n", a.library, dlerror());
    return 1;
  }
  a.opts.serve = (shmrpc_serve_fn)dlsym(library, SHMRPC_SERVE_SYMBOL);
  if (a.opts.serve == NULL) {
    fprintf(stderr, "shmrpc-host: %s does not export %s\n", a.library,
            SHMRPC_SERVE_SYMBOL);
    return 1;
  }
  a.opts.on_event = log_event;

  /* Signals are taken by sigwait below; every thread inherits the mask. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

  shmrpc_xproc_server_t *server;
  char why[SHMRPC_XPROC_ERROR_BYTES];
  int rc = shmrpc_xproc_server_start(a.name, &a.opts, &server, why);
  if (rc != 0) {
    fprintf(stderr, "shmrpc-host: cannot listen as \"%s\": %s (%s)\n", a.name,
            why, shmrpc_err_name(rc));
    return 1;
  }
  fprintf(stderr, "shmrpc-host: serving %s as \"%s\" on %s (pid %ld)\n",
          a.library, a.name, shmrpc_xproc_server_path(server), (long)getpid());

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  fprintf(stderr, "shmrpc-host: %s: stopping (%zu connected)\n",
          strsignal(signal_number), shmrpc_xproc_server_connections(server));
  rc = shmrpc_xproc_server_stop(server, a.stop_timeout_ms);
  if (rc != 0) {
    fprintf(stderr,
            "shmrpc-host: a service did not return within %d ms; exiting "
            "anyway\n",
            a.stop_timeout_ms);
    return 1;
  }
  fprintf(stderr, "shmrpc-host: stopped\n");
  /* The library stays loaded: dlclose while nothing runs it is harmless,
   * but exit frees it all the same. */
  return 0;
}
