export { Channel } from "./channel/channel.js";
export type { ChannelOptions, ChannelState, ChannelStats, MessageListenerOptions, PayloadWriter, SendOptions } from "./channel/channel.js";
export { AtomicsDoorbell } from "./channel/doorbell.js";
export type { Doorbell } from "./channel/doorbell.js";
export {
  FRAME_HEADER_BYTES,
  FRAME_MORE,
  FrameType,
  decodeFrameHeader,
  encodeFrame,
  fragmentPayloadBytes,
  isFrameType,
} from "./channel/frame.js";
export type { FrameHeader, Message } from "./channel/frame.js";
export { PeerState, SEGMENT_HEADER_BYTES, WaitValue } from "./channel/layout.js";
export type { Side } from "./channel/layout.js";
export { SEGMENT_ALIGNMENT, createSegment, formatSegment, segmentSize, validateSegment } from "./channel/segment.js";
export type { SegmentInfo, SegmentOptions, SegmentRegion, SegmentSource } from "./channel/segment.js";
export { ShmrpcError, errorCodeValues, isShmrpcError } from "./errors.js";
export type { ShmrpcErrorCode } from "./errors.js";
export { InProcessService } from "./transport/in-process.js";
export type { InProcessOptions } from "./transport/in-process.js";
export { CrossProcessConnection, connect } from "./transport/cross-process.js";
export type { ConnectOptions } from "./transport/cross-process.js";
export { packageRoot } from "./native/addon.js";
export { RpcClient, RpcError, Status, eventId, isRpcError, statusName } from "./rpc/index.js";
export type { CallOptions, MessageType, MethodDescriptor, RpcClientOptions, RpcTransport, StatusName } from "./rpc/index.js";
