/**
 * RPC status codes: gRPC's numbers and names, the same as the C runtime's
 * shmrpc_status_t (c/include/shmrpc/service.h).
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export type StatusName = keyof typeof Status;
export type StatusCode = (typeof Status)[StatusName];

const names = Object.keys(Status) as StatusName[];

/** "OK", "CANCELLED", ...; "UNKNOWN" for numbers outside the table. */
export function statusName(code: number): StatusName {
  return Number.isInteger(code) && code >= 0 && code < names.length ? (names[code] as StatusName) : "UNKNOWN";
}
