/* On the include path first when SHMRPC_BUILD_RPC is OFF: the channel
 * layer, its envelope parser and their tests must build without nanopb. */
#error "the channel layer includes nanopb's pb.h; only the RPC layer (SHMRPC_BUILD_RPC) may"
