/* The listening side of a name: its lock file and its socket
 * (docs/PROTOCOL.md 9.1).
 *
 * NAME.lock, held with flock for the server's life, decides who owns the
 * name: the kernel drops the lock when the holder dies, even by kill -9,
 * so a second live server is refused and a dead one's socket is known to
 * be stale. The holder of the lock may replace the socket file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xproc_internal.h"

#define LISTEN_BACKLOG 128

/* Reads the pid a lock holder wrote (0 if unreadable), for the message. */
static unsigned long holder_pid(int fd) {
  char text[24] = {0};
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n <= 0)
    return 0;
  return strtoul(text, NULL, 10);
}

/* Opens and locks the lock file. The path may be unlinked by a server that
 * is stopping between our open and our flock: then we hold a lock on a file
 * nobody else will open, so check that the path still names our file. */
static int take_lock(const char *path, const char *name, char *why) {
  for (int attempt = 0; attempt < 8; attempt++) {
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
      return shmrpc__xproc_sys_fail(why, "cannot open lock file %s", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      unsigned long pid = holder_pid(fd);
      close(fd);
      if (err == EWOULDBLOCK)
        return shmrpc__xproc_fail(why, SHMRPC_EINUSE,
                                  "a server (pid %lu) already listens as "
                                  "\"%s\" (lock %s held)",
                                  pid, name, path);
      errno = err;
      return shmrpc__xproc_sys_fail(why, "cannot lock %s", path);
    }
    struct stat held, named;
    if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      char pid[24];
      int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
      if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        close(fd);
        return shmrpc__xproc_sys_fail(why, "cannot write %s", path);
      }
      return fd;
    }
    close(fd);
  }
  return shmrpc__xproc_fail(why, SHMRPC_EINUSE,
                            "lock file %s keeps being replaced", path);
}

/* With the lock held: removes a socket file that no server accepts on.
 * A file that is not a socket is not ours to remove. */
static int clear_stale_socket(const char *path, char *why) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? 0
                           : shmrpc__xproc_sys_fail(why, "cannot stat %s", path);
  if (!S_ISSOCK(st.st_mode))
    return shmrpc__xproc_fail(why, SHMRPC_EINUSE,
                              "%s exists and is not a socket: not removing it",
                              path);
  int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (probe < 0)
    return shmrpc__xproc_sys_fail(why, "socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int rc = connect(probe, (struct sockaddr *)&addr, sizeof addr);
  int err = errno;
  close(probe);
  if (rc == 0)
    return shmrpc__xproc_fail(why, SHMRPC_EINUSE,
                              "a server accepts on %s without holding its "
                              "lock file: refusing to replace it",
                              path);
  if (err != ECONNREFUSED && err != ENOENT) {
    errno = err;
    return shmrpc__xproc_sys_fail(why, "cannot probe %s", path);
  }
  if (unlink(path) != 0 && errno != ENOENT)
    return shmrpc__xproc_sys_fail(why, "cannot remove stale socket %s", path);
  return 0;
}

static int bind_and_listen(const char *path, mode_t mode, gid_t gid,
                           char *why) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return shmrpc__xproc_sys_fail(why, "socket");
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, path, strlen(path) + 1);
  int rc;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot bind %s", path);
    goto err;
  }
  /* The directory admits nobody else, so nobody can connect between bind
   * and these calls. */
  if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot give %s to group %u", path,
                                (unsigned)gid);
    goto err_unlink;
  }
  if (chmod(path, mode) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot chmod %s", path);
    goto err_unlink;
  }
  if (listen(fd, LISTEN_BACKLOG) != 0) {
    rc = shmrpc__xproc_sys_fail(why, "cannot listen on %s", path);
    goto err_unlink;
  }
  return fd;
err_unlink:
  unlink(path);
err:
  close(fd);
  return rc;
}

int shmrpc__xproc_listen(const char *dir, const char *name, mode_t mode,
                         gid_t gid, shmrpc__xproc_listener_t *out, char *why) {
  memset(out, 0, sizeof *out);
  out->listen_fd = out->lock_fd = -1;
  int rc = shmrpc__xproc_path(out->socket_path, dir, name, ".sock", why);
  if (rc == 0)
    rc = shmrpc__xproc_path(out->lock_path, dir, name, ".lock", why);
  if (rc != 0)
    return rc;
  int lock_fd = take_lock(out->lock_path, name, why);
  if (lock_fd < 0)
    return lock_fd;
  rc = clear_stale_socket(out->socket_path, why);
  int listen_fd = rc == 0 ? bind_and_listen(out->socket_path, mode, gid, why)
                          : rc;
  if (listen_fd < 0) {
    /* The lock file stays: removing it would race a server starting now. */
    close(lock_fd);
    return listen_fd;
  }
  out->lock_fd = lock_fd;
  out->listen_fd = listen_fd;
  return 0;
}

void shmrpc__xproc_unlisten(shmrpc__xproc_listener_t *listener) {
  if (listener->listen_fd >= 0) {
    unlink(listener->socket_path);
    close(listener->listen_fd);
    listener->listen_fd = -1;
  }
  if (listener->lock_fd >= 0) {
    /* Unlinked while still held: a server that locks the old file after
     * this sees that the path names another file (or none) and retries. */
    unlink(listener->lock_path);
    close(listener->lock_fd);
    listener->lock_fd = -1;
  }
}
