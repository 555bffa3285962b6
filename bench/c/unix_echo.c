/* A C echo server on a Unix stream socket, for bench/rpc.ts: the round
 * trip Node -> C -> Node that shmrpc replaces. Serves one connection:
 * reads whatever arrives and writes it back, until the client hangs up.
 *
 *   bench_unix_echo <socket path> <cpu>
 *
 * Prints "ready" once it listens. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *what) {
  perror(what);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s <socket path> <cpu>\n", argv[0]);
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(atoi(argv[2]), &set);
  sched_setaffinity(0, sizeof set, &set);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(argv[1]) >= sizeof addr.sun_path)
    return fail("socket path too long");
  strcpy(addr.sun_path, argv[1]);
  unlink(argv[1]);
  int server = socket(AF_UNIX, SOCK_STREAM, 0);
  if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(server, 1) != 0)
    return fail("listen");
  printf("ready\n");
  fflush(stdout);
  int conn = accept(server, NULL, NULL);
  if (conn < 0)
    return fail("accept");
  char buf[65536];
  for (;;) {
    ssize_t n = read(conn, buf, sizeof buf);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail("read");
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(conn, buf + done, (size_t)(n - done));
      if (w < 0 && errno != EINTR)
        return fail("write");
      if (w > 0)
        done += w;
    }
  }
  close(conn);
  close(server);
  unlink(argv[1]);
  return 0;
}
