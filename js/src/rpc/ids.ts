/**
 * Method and event ids: FNV-1a 32 of the UTF-8 name, e.g.
 * "package.Service/Method" (docs/PROTOCOL.md). Generated code carries the
 * ids of its methods; this is for events, which the C side names with
 * shmrpc_event_id().
 */
const encoder = new TextEncoder();

export function eventId(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(name)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}
