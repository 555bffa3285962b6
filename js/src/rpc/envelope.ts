/**
 * The RPC envelope (docs/PROTOCOL.md section 7): a fixed 28-byte header of
 * little-endian u32 fields at fixed offsets, then the body. Routing never
 * decodes a varint.
 */
import { Status } from "./status.js";

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 28;

/** Byte offsets of the header fields: routing reads them directly. */
export const EnvelopeOffset = {
  VERSION: 0,
  KIND: 1,
  CALL_ID: 4,
  METHOD_ID: 8,
  SCHEMA_HASH: 12,
  STATUS: 16,
  TIMEOUT_US: 20,
  CREDIT: 24,
} as const;

export const EnvelopeKind = {
  REQUEST: 1,
  RESPONSE: 2,
  ERROR: 3,
  CANCEL: 4,
  STREAM_MESSAGE: 5,
  STREAM_END: 6,
  EVENT: 7,
  CREDIT: 8,
  REQUEST_MESSAGE: 9,
  REQUEST_END: 10,
} as const;
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

/** Header fields; unused ones are 0. All are u32 except `kind`. */
export interface EnvelopeHeader {
  kind: EnvelopeKind;
  callId: number;
  methodId: number;
  schemaHash: number;
  status: number;
  timeoutUs: number;
  credit: number;
}

export interface Envelope extends EnvelopeHeader {
  /** A view of the bytes after the header. */
  body: Uint8Array;
}

/** Why parseEnvelope refused some bytes, with the call id it could still read (0 if none). */
export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  constructor(
    message: string,
    readonly callId: number,
  ) {
    super(message);
  }
}

function putU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value;
  target[offset + 1] = value >>> 8;
  target[offset + 2] = value >>> 16;
  target[offset + 3] = value >>> 24;
}

/** The little-endian u32 at `offset`; the caller has checked the length. */
export function envelopeU32(data: Uint8Array, offset: number): number {
  return ((data[offset] as number) | ((data[offset + 1] as number) << 8) | ((data[offset + 2] as number) << 16) | ((data[offset + 3] as number) << 24)) >>> 0;
}

/** Writes the 28 header bytes at `offset` (positional, so the hot path allocates nothing). */
export function writeEnvelopeHeader(
  target: Uint8Array,
  offset: number,
  kind: EnvelopeKind,
  callId: number,
  methodId: number,
  schemaHash: number,
  status: number,
  timeoutUs: number,
  credit: number,
): void {
  target[offset] = ENVELOPE_VERSION;
  target[offset + 1] = kind;
  target[offset + 2] = 0;
  target[offset + 3] = 0;
  putU32(target, offset + 4, callId);
  putU32(target, offset + 8, methodId);
  putU32(target, offset + 12, schemaHash);
  putU32(target, offset + 16, status);
  putU32(target, offset + 20, timeoutUs);
  putU32(target, offset + 24, credit);
}

/** A whole envelope (header + body) as new bytes. */
export function encodeEnvelope(header: EnvelopeHeader, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(ENVELOPE_HEADER_BYTES + body.length);
  const { kind, callId, methodId, schemaHash, status, timeoutUs, credit } = header;
  writeEnvelopeHeader(bytes, 0, kind, callId, methodId, schemaHash, status, timeoutUs, credit);
  bytes.set(body, ENVELOPE_HEADER_BYTES);
  return bytes;
}

/**
 * What makes the header of the envelope in `data[start, end)` unroutable
 * (shorter than the header, another version, an unknown kind), or
 * undefined when it routes. The one header check: the RPC client makes it
 * on every incoming message and parseEnvelope on what it parses; reserved
 * bytes are ignored.
 */
export function headerProblem(data: Uint8Array, start = 0, end = data.length): string | undefined {
  if (end - start < ENVELOPE_HEADER_BYTES) return "envelope shorter than its 28-byte header";
  if (data[start + EnvelopeOffset.VERSION] !== ENVELOPE_VERSION) return "unsupported envelope version";
  const kind = data[start + EnvelopeOffset.KIND]!;
  if (kind < EnvelopeKind.REQUEST || kind > EnvelopeKind.REQUEST_END) return "unknown envelope kind";
  return undefined;
}

/**
 * Parses the payload of one COMMAND message into an object (tests and
 * tools; the client routes by the fixed offsets after headerProblem).
 * Throws an EnvelopeError when the header does not route (headerProblem)
 * or carries a status its kind cannot end a call with (statusViolation).
 */
export function parseEnvelope(data: Uint8Array): Envelope {
  const callId = data.length >= 8 ? envelopeU32(data, 4) : 0;
  const problem = headerProblem(data);
  if (problem !== undefined) throw new EnvelopeError(problem, callId);
  const kind = data[EnvelopeOffset.KIND]!;
  const status = envelopeU32(data, 16);
  const badStatus = statusViolation(kind, status);
  if (badStatus !== undefined) throw new EnvelopeError(badStatus, callId);
  return {
    kind: kind as EnvelopeKind,
    callId,
    methodId: envelopeU32(data, 8),
    schemaHash: envelopeU32(data, 12),
    status,
    timeoutUs: envelopeU32(data, 20),
    credit: envelopeU32(data, 24),
    body: data.subarray(ENVELOPE_HEADER_BYTES),
  };
}

const HIGHEST_STATUS = Status.UNAUTHENTICATED;

/**
 * Why a peer's `status` cannot end a call with an envelope of `kind`, naming
 * the value, or undefined when it can: ERROR needs a failure status (1-16),
 * STREAM_END any status (0-16). Other kinds carry no status.
 */
export function statusViolation(kind: number, status: number): string | undefined {
  if (kind !== EnvelopeKind.ERROR && kind !== EnvelopeKind.STREAM_END) return undefined;
  if (status > HIGHEST_STATUS) return `status ${status} is not a status code (0-${HIGHEST_STATUS})`;
  if (status === Status.OK && kind === EnvelopeKind.ERROR) return "an ERROR with status 0 (OK)";
  return undefined;
}
