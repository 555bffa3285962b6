/**
 * shmrpc: the portable runtime. The channel, frames, the RPC client, the
 * errors and AtomicsDoorbell (JavaScript peers on one SharedArrayBuffer),
 * in plain ECMAScript: this entry loads no `node:` module and no addon, so
 * it runs in a browser page, a Worker and Node alike. Transports that need
 * Node (the in-process C service) are in `shmrpc/node`; the codec runtime
 * that generated code imports is `shmrpc/pb`; wire-level internals for
 * tests and tools are in `shmrpc/internal`.
 */
export { Channel } from "./channel/channel.js";
export type { ChannelOptions, ChannelState, ChannelStats, InPlaceEncoder, MessageListenerOptions, PayloadWriter, SendOptions, SpinStats } from "./channel/channel.js";
export { AtomicsDoorbell } from "./channel/doorbell.js";
export type { Doorbell } from "./channel/doorbell.js";
export { FRAME_HEADER_BYTES, FrameType, decodeFrameHeader, encodeFrame, isFrameType } from "./channel/frame.js";
export type { FrameHeader, Message } from "./channel/frame.js";
export type { Side } from "./channel/layout.js";
export { SEGMENT_ALIGNMENT, createSegment, formatSegment, segmentSize, validateSegment } from "./channel/segment.js";
export type { SegmentInfo, SegmentOptions, SegmentRegion, SegmentSource } from "./channel/segment.js";
export { ShmrpcError, errorCodeValues, isShmrpcError } from "./errors.js";
export { openChannel } from "./transport/transport.js";
export type { Connection, Transport, TransportChannel, TransportChannelOptions } from "./transport/transport.js";
export type { ShmrpcErrorCode } from "./errors.js";
export { RpcClient, RpcError, ServerStream, Status, eventId, isRpcError, statusName } from "./rpc/index.js";
export type {
  CallOptions,
  MessageInit,
  MessageType,
  MethodDescriptor,
  RpcClientOptions,
  RpcClientStats,
  RequestSource,
  RpcTransport,
  StatusCode,
  StatusName,
} from "./rpc/index.js";
