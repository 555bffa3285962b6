/* shmrpc: typed RPC between JavaScript and C over shared memory.
 * The one public entry header. */
#ifndef SHMRPC_H
#define SHMRPC_H

#include "shmrpc/common.h"
#include "shmrpc/segment.h"
#include "shmrpc/wait.h"
#include "shmrpc/frame.h"
#include "shmrpc/ring.h"
#include "shmrpc/channel.h"

#endif /* SHMRPC_H */
