/* Hosting a C service without Node-API code.
 *
 * A service is a shared library that exports one function, `shmrpc_serve`
 * (SHMRPC_SERVE_SYMBOL), with the shmrpc_serve_fn signature. A host maps or
 * receives the segment, fills a shmrpc_host_t and calls it on a thread of its
 * own; the function serves the channel as the server side until the client
 * closes it, then returns. The Node addon is one host (in-process, over a
 * SharedArrayBuffer); shmrpc-host and the cross-process server
 * (shmrpc/xproc.h), serving each client its own memfd segment, are
 * others. The service code is the same for all of them.
 *
 * Example usage (a service that echoes every message):
 *
 *   static void echo(void *user, const shmrpc_msg_t *msg) {
 *     shmrpc_channel_send(user, msg->type, msg->data, msg->len, -1);
 *   }
 *   SHMRPC_EXTERN int shmrpc_serve(const shmrpc_host_t *host) {
 *     shmrpc_channel_t ch;
 *     int rc = shmrpc_host_open_channel(host, &ch);
 *     if (rc < 0) return rc;
 *     rc = shmrpc_host_run(&ch, echo, &ch);
 *     shmrpc_channel_destroy(&ch);
 *     return rc;
 *   }
 */
#ifndef SHMRPC_HOST_H
#define SHMRPC_HOST_H

#include "shmrpc/channel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when shmrpc_host_t changes incompatibly; a service refuses a host
 * with another value (SHMRPC_EVERSION). */
#define SHMRPC_HOST_ABI_VERSION 1
#define SHMRPC_SERVE_SYMBOL "shmrpc_serve"

typedef struct shmrpc_host_s {
  uint32_t abi_version; /* SHMRPC_HOST_ABI_VERSION */
  void *segment;        /* initialized by the creator (docs/PROTOCOL.md 1) */
  size_t segment_size;
  uint32_t spin_ns;     /* spin budget before parking; 0 parks at once */
  /* How to wake the client when it parks in its event loop (wait word
   * SHMRPC_WAIT_LOOP): the addon's uv_async in-process, the connection's
   * eventfd across processes (docs/PROTOCOL.md 9.2). NULL: futex_wake. */
  shmrpc_wake_loop_fn wake_loop;
  void *wake_loop_user;
  /* A string the client passed to the host (may be NULL). */
  const char *config;
} shmrpc_host_t;

typedef int (*shmrpc_serve_fn)(const shmrpc_host_t *host);

/* Opens `ch` as the server side of the host's segment with the host's spin
 * budget and wake hook. Returns as shmrpc_channel_open, or SHMRPC_EVERSION
 * for another host ABI. */
SHMRPC_EXTERN SHMRPC_MUST_CHECK int
shmrpc_host_open_channel(const shmrpc_host_t *host, shmrpc_channel_t *ch);

/* Dispatches messages to `fn` until the client closes the channel, then
 * closes this side. Returns 0 after an orderly close, SHMRPC_EPEERDEAD when
 * the client died (the host marked it DEAD), or SHMRPC_EPROTO. */
SHMRPC_EXTERN int shmrpc_host_run(shmrpc_channel_t *ch, shmrpc_message_fn fn,
                                  void *user);

#ifdef __cplusplus
}
#endif
#endif /* SHMRPC_HOST_H */
