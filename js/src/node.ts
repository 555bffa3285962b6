/**
 * shmrpc/node: the transports that need Node.js (and the shmrpc addon).
 * Each gives a Channel that the portable runtime (`shmrpc`) drives as it
 * drives any other: `new RpcClient(service.channel)`.
 */
export { InProcessService } from "./transport/in-process.js";
export type { InProcessOptions } from "./transport/in-process.js";
export { CrossProcessConnection, connect } from "./transport/cross-process.js";
export type { ConnectOptions } from "./transport/cross-process.js";
