/* shmrpc_serve_service: the entry point SHMRPC_SERVICE_LIBRARY gives a
 * service library, so any host (the Node addon, a process) can run it. */
#include "rpc_internal.h"

int shmrpc_serve_service(const shmrpc_host_t *host,
                         const shmrpc_service_t *service, const void *handlers,
                         const shmrpc_service_hooks_t *hooks) {
  static const shmrpc_service_hooks_t no_hooks = {0};
  if (hooks == NULL)
    hooks = &no_hooks;
  shmrpc_channel_t ch;
  int rc = shmrpc_host_open_channel(host, &ch);
  if (rc < 0)
    return rc;
  shmrpc_server_options_t opts;
  shmrpc_server_options_init(&opts);
  opts.peer = host->wake_loop != NULL ? "in-process" : "process";
  shmrpc_server_t *server = NULL;
  void *user_data = hooks->user_data;
  rc = shmrpc_server_create(&ch, &opts, &server);
  if (rc == 0 && hooks->setup != NULL) {
    rc = hooks->setup(server, host->config, &user_data);
    if (rc > 0) /* not a code: the setup refused all the same */
      rc = SHMRPC_EINVAL;
  }
  bool set_up = rc == 0;
  if (rc == 0)
    rc = shmrpc_server_register(server, service, handlers, user_data);
  if (rc == 0)
    rc = shmrpc_server_run(server);
  /* Closed before teardown, so a thread still writing to a deferred call
   * fails at once; closed after a failed setup too, so the client is not
   * left waiting for a server that will never answer. */
  shmrpc_channel_close(&ch);
  if (set_up && hooks->teardown != NULL)
    hooks->teardown(server, user_data);
  shmrpc_server_destroy(server);
  shmrpc_channel_destroy(&ch);
  return rc;
}
