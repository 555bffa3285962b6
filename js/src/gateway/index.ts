/**
 * shmrpc/gateway: shmrpc services over HTTP for stock Connect, gRPC and
 * gRPC-Web clients. Needs the optional peer dependencies
 * @connectrpc/connect, @connectrpc/connect-node and @bufbuild/protobuf.
 */
export { createGateway } from "./gateway.js";
export type { Gateway, GatewayLimits, GatewayOptions, GatewayService, GatewayStats, NodeHandlerFn } from "./gateway.js";
export type { GatewayServer, ListenOptions } from "./listen.js";
