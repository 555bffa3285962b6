/* Helpers for service libraries: open the host's channel, run the loop. */
#include "shmrpc/host.h"

int shmrpc_host_open_channel(const shmrpc_host_t *host, shmrpc_channel_t *ch) {
  if (host == NULL || ch == NULL)
    return SHMRPC_EINVAL;
  if (host->abi_version != SHMRPC_HOST_ABI_VERSION)
    return SHMRPC_EVERSION;
  shmrpc_channel_options_t opts;
  shmrpc_channel_options_init(&opts);
  opts.spin_ns = host->spin_ns;
  opts.spin_fixed = host->spin_fixed;
  opts.wake_loop = host->wake_loop;
  opts.wake_loop_user = host->wake_loop_user;
  return shmrpc_channel_open(ch, host->segment, host->segment_size,
                             SHMRPC_SIDE_SERVER, &opts);
}

int shmrpc_host_run(shmrpc_channel_t *ch, shmrpc_message_fn fn, void *user) {
  int rc;
  do {
    rc = shmrpc_channel_dispatch(ch, fn, user, -1);
  } while (rc >= 0);
  shmrpc_channel_close(ch);
  return rc == SHMRPC_ECLOSED ? 0 : rc;
}
