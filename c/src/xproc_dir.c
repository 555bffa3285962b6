/* Names, the runtime directory and the paths in it (docs/PROTOCOL.md 9.1).
 *
 * The directory is the only thing between a server's socket and other
 * users, so it is checked, not trusted: a directory, not a symbolic link,
 * owned by the expected user, and without the forbidden mode bits. A
 * directory someone else made under the default name is refused, never
 * repaired. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xproc_internal.h"

int shmrpc__xproc_check_name(const char *name, char *why) {
  if (name == NULL || name[0] == '\0' || name[0] == '.')
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "a server name must be 1-%d characters of "
                              "[A-Za-z0-9._-], not starting with a dot",
                              SHMRPC_XPROC_NAME_MAX);
  size_t len = 0;
  for (const char *p = name; *p != '\0'; p++, len++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok || len >= SHMRPC_XPROC_NAME_MAX)
      return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                                "bad server name \"%.64s\": 1-%d characters "
                                "of [A-Za-z0-9._-], not starting with a dot",
                                name, SHMRPC_XPROC_NAME_MAX);
  }
  return 0;
}

/* Makes `dir` (mode 0700) if it is missing; an existing one is checked by
 * the caller like any other. */
static int make_private_dir(const char *dir, char *why) {
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return shmrpc__xproc_sys_fail(why, "cannot create %s", dir);
  return 0;
}

int shmrpc__xproc_dir_resolve(const char *explicit_dir, bool create,
                              char out[PATH_MAX], char *why) {
  int n;
  if (explicit_dir != NULL) {
    n = snprintf(out, PATH_MAX, "%s", explicit_dir);
  } else {
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime != NULL && runtime[0] == '/')
      n = snprintf(out, PATH_MAX, "%s/shmrpc", runtime);
    else
      n = snprintf(out, PATH_MAX, "/tmp/shmrpc-%u", (unsigned)geteuid());
  }
  if (n < 0 || n >= PATH_MAX)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL, "runtime directory path too long");
  if (create && explicit_dir == NULL)
    return make_private_dir(out, why);
  return 0;
}

int shmrpc__xproc_dir_check(const char *dir, uid_t owner, mode_t forbidden,
                            char *why) {
  /* O_NOFOLLOW on the last component: a symbolic link fails to open. */
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return shmrpc__xproc_fail(why, SHMRPC_ENOSERVER,
                                "no server: %s does not exist", dir);
    if (errno == ELOOP || errno == ENOTDIR)
      return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                                "%s is not a directory (or is a symbolic "
                                "link): refused",
                                dir);
    if (errno == EACCES)
      return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                                "%s: permission denied", dir);
    return shmrpc__xproc_sys_fail(why, "cannot open %s", dir);
  }
  struct stat st;
  int rc = fstat(fd, &st);
  close(fd);
  if (rc != 0)
    return shmrpc__xproc_sys_fail(why, "cannot stat %s", dir);
  if (st.st_uid != owner)
    return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                              "%s is owned by uid %u, not uid %u: refused",
                              dir, (unsigned)st.st_uid, (unsigned)owner);
  if ((st.st_mode & forbidden) != 0)
    return shmrpc__xproc_fail(why, SHMRPC_EACCES,
                              "%s has mode %04o, which gives others access "
                              "(mode bits %04o must be clear): refused",
                              dir, (unsigned)(st.st_mode & 07777),
                              (unsigned)forbidden);
  return 0;
}

int shmrpc__xproc_path(char out[SHMRPC__XPROC_PATH_BYTES], const char *dir,
                       const char *name, const char *suffix, char *why) {
  int n = snprintf(out, SHMRPC__XPROC_PATH_BYTES, "%s/%s%s", dir, name, suffix);
  if (n < 0 || (size_t)n >= SHMRPC__XPROC_PATH_BYTES)
    return shmrpc__xproc_fail(why, SHMRPC_EINVAL,
                              "socket path %s/%s%s is longer than a Unix "
                              "socket address allows (%zu bytes)",
                              dir, name, suffix,
                              SHMRPC__XPROC_PATH_BYTES - 1);
  return 0;
}
