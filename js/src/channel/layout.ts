/**
 * Byte layout of the shared segment, mirroring c/include/shmrpc/segment.h
 * (docs/PROTOCOL.md section 1). Offsets are in bytes; the runtime reads the
 * 32-bit words through an Int32Array at offset / 4.
 */

export const SEGMENT_MAGIC = 0x524d4853; // "SHMR" read as a little-endian u32
export const SEGMENT_VERSION_MAJOR = 1;
export const SEGMENT_VERSION_MINOR = 0;
export const SEGMENT_HEADER_BYTES = 384;
export const RING_MIN_CAPACITY = 64;
export const RING_MAX_CAPACITY = 2 ** 30;

export const Offset = {
  MAGIC: 0,
  VERSION_MAJOR: 4, // u16
  VERSION_MINOR: 6, // u16
  CAPACITY_C2S: 8,
  CAPACITY_S2C: 12,
  SEGMENT_BYTES: 16,
  FLAGS: 20,
  CLIENT_STATE: 64,
  SERVER_STATE: 68,
  CLIENT_MAX_MESSAGE: 72,
  SERVER_MAX_MESSAGE: 76,
  RING0_CONTROL: 128, // client -> server
  RING1_CONTROL: 256, // server -> client
} as const;

/** Offsets within a ring control block. */
export const RingOffset = {
  TAIL: 0,
  CONSUMER_WAIT: 4,
  HEAD: 64,
  PRODUCER_WAIT: 68,
} as const;
export const RING_CONTROL_BYTES = 128;

/**
 * Values of a peer state word. DEAD is stored by an observer on behalf of a
 * side that died without closing (docs/PROTOCOL.md section 5).
 */
export const PeerState = { ABSENT: 0, OPEN: 1, CLOSED: 2, FAILED: 3, DEAD: 4 } as const;

/** Values of a ring wait word (docs/PROTOCOL.md section 4). */
export const WaitValue = { NONE: 0, FUTEX: 1, LOOP: 2, SPINNING: 3 } as const;

export type Side = "client" | "server";

/** Where one side's words and rings are. */
export interface SideLayout {
  readonly ownState: number;
  readonly peerState: number;
  readonly ownMaxMessage: number;
  readonly peerMaxMessage: number;
  /** Control block of the ring this side produces into. */
  readonly txControl: number;
  /** Control block of the ring this side consumes from. */
  readonly rxControl: number;
}

export function sideLayout(side: Side): SideLayout {
  return side === "client"
    ? {
        ownState: Offset.CLIENT_STATE,
        peerState: Offset.SERVER_STATE,
        ownMaxMessage: Offset.CLIENT_MAX_MESSAGE,
        peerMaxMessage: Offset.SERVER_MAX_MESSAGE,
        txControl: Offset.RING0_CONTROL,
        rxControl: Offset.RING1_CONTROL,
      }
    : {
        ownState: Offset.SERVER_STATE,
        peerState: Offset.CLIENT_STATE,
        ownMaxMessage: Offset.SERVER_MAX_MESSAGE,
        peerMaxMessage: Offset.CLIENT_MAX_MESSAGE,
        txControl: Offset.RING1_CONTROL,
        rxControl: Offset.RING0_CONTROL,
      };
}

/** Byte offsets of the four wait words, for waking every sleeper on close. */
export const WAIT_WORDS = [
  Offset.RING0_CONTROL + RingOffset.CONSUMER_WAIT,
  Offset.RING0_CONTROL + RingOffset.PRODUCER_WAIT,
  Offset.RING1_CONTROL + RingOffset.CONSUMER_WAIT,
  Offset.RING1_CONTROL + RingOffset.PRODUCER_WAIT,
] as const;
