/* shmrpc_serve_service: the entry point SHMRPC_SERVICE_LIBRARY gives a
 * service library, so any host (the Node addon, a process) can run it. */
#include "rpc_internal.h"

int shmrpc_serve_service(const shmrpc_host_t *host,
                         const shmrpc_service_t *service, const void *handlers,
                         void *user_data) {
  shmrpc_channel_t ch;
  int rc = shmrpc_host_open_channel(host, &ch);
  if (rc < 0)
    return rc;
  shmrpc_server_options_t opts;
  shmrpc_server_options_init(&opts);
  opts.peer = host->peer; /* NULL: the server's default, "unknown" */
  shmrpc_server_t *server = NULL;
  rc = shmrpc_server_create(&ch, &opts, &server);
  if (rc == 0)
    rc = shmrpc_server_register(server, service, handlers, user_data);
  if (rc == 0)
    rc = shmrpc_server_run(server);
  /* A failed setup still closes the channel, so the client is not left
   * waiting for a server that will never answer. */
  shmrpc_channel_close(&ch);
  shmrpc_server_destroy(server);
  shmrpc_channel_destroy(&ch);
  return rc;
}
