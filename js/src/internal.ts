/**
 * shmrpc/internal: the wire format's constants and helpers (segment layout,
 * peer and wait states, fragmentation, the RPC envelope) for tests, tools
 * and other transports' implementations. Not a stable API: it follows
 * docs/PROTOCOL.md and changes with it. Portable, like `shmrpc`.
 */
export { FRAME_MORE, FRAME_TYPE_MASK, fragmentPayloadBytes, writeFrameHeader } from "./channel/frame.js";
export {
  Offset,
  PeerState,
  RING_CONTROL_BYTES,
  RING_MAX_CAPACITY,
  RING_MIN_CAPACITY,
  RingOffset,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_VERSION_MAJOR,
  SEGMENT_VERSION_MINOR,
  WAIT_WORDS,
  WaitValue,
  sideLayout,
} from "./channel/layout.js";
export type { SideLayout } from "./channel/layout.js";
export { segmentRegion, validateRegion } from "./channel/segment.js";
export type { SharedRegion } from "./channel/segment.js";
export {
  ENVELOPE_HEADER_BYTES,
  ENVELOPE_VERSION,
  EnvelopeError,
  EnvelopeKind,
  EnvelopeOffset,
  encodeEnvelope,
  envelopeU32,
  headerProblem,
  parseEnvelope,
  writeEnvelopeHeader,
} from "./rpc/envelope.js";
export type { Envelope, EnvelopeHeader } from "./rpc/envelope.js";
