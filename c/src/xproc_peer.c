/* Who is on the other end of a Unix socket, and whether a server admits
 * them (docs/PROTOCOL.md 9.1): SO_PEERCRED's uid, or group membership. */
#include <errno.h>
#include <sys/socket.h>

#include "xproc_internal.h"

/* Supplementary groups beyond this many are not looked at. */
#define MAX_PEER_GROUPS 256

int shmrpc__xproc_peer_cred(int fd, shmrpc__xproc_peer_t *out, char *why) {
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return shmrpc__xproc_sys_fail(why, "SO_PEERCRED");
  out->pid = cred.pid;
  out->uid = cred.uid;
  out->gid = cred.gid;
  return 0;
}

static bool in_supplementary_groups(int fd, gid_t gid) {
  gid_t groups[MAX_PEER_GROUPS];
  socklen_t len = sizeof groups;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
    return false;
  for (size_t i = 0; i < len / sizeof(gid_t); i++)
    if (groups[i] == gid)
      return true;
  return false;
}

bool shmrpc__xproc_peer_allowed(int fd, const shmrpc__xproc_peer_t *peer,
                                const shmrpc_xproc_server_options_t *opts) {
  if (peer->uid == opts->allow_uid)
    return true;
  if (!opts->allow_group)
    return false;
  return peer->gid == opts->allow_gid ||
         in_supplementary_groups(fd, opts->allow_gid);
}
