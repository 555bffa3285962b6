/* shmrpc: typed RPC between JavaScript and C over shared memory.
 * The entry header of the channel library (`shmrpc`, no codec): segment,
 * frames, ring, channel, the wait core, hosting a service, and the RPC
 * envelope format. Two more entry headers build on it:
 *   shmrpc/rpc.h    the RPC layer: server, handlers, calls (`shmrpc_rpc`,
 *                   nanopb); what a service includes, through its
 *                   generated <name>.shmrpc.h;
 *   shmrpc/xproc.h  the cross-process transport (`shmrpc_xproc`, Linux),
 *                   with shmrpc/relay.h, its relay between two segments
 *                   (in the same library). */
#ifndef SHMRPC_H
#define SHMRPC_H

#include "shmrpc/common.h"
#include "shmrpc/segment.h"
#include "shmrpc/wait.h"
#include "shmrpc/frame.h"
#include "shmrpc/ring.h"
#include "shmrpc/channel.h"
#include "shmrpc/host.h"
#include "shmrpc/status.h"
#include "shmrpc/envelope.h"

#endif /* SHMRPC_H */
