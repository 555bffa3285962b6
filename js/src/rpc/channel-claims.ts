/**
 * One RpcClient per channel at a time. Two clients on one channel would
 * number their calls from the same ids and take each other's replies, so a
 * channel remembers (weakly: a dropped channel is collected) which client
 * holds it and the call id the next client starts from. A client that
 * follows a closed one continues the ids, so a late reply to a call of the
 * closed client can never match a call of its successor.
 */
import { ShmrpcError } from "../errors.js";

interface Claim {
  holder: object | undefined;
  nextCallId: number;
}

const claims = new WeakMap<object, Claim>();

/**
 * Makes `client` the channel's one RpcClient and returns the call id it
 * starts from. Throws a ShmrpcError EINVAL while another client holds it.
 */
export function claimChannel(channel: object, client: object): number {
  const claim = claims.get(channel);
  if (claim?.holder !== undefined) {
    throw new ShmrpcError(
      "EINVAL",
      "this channel already has an open RpcClient; share it (every generated client takes the same RpcClient) or close() it first",
    );
  }
  if (claim) {
    claim.holder = client;
    return claim.nextCallId;
  }
  claims.set(channel, { holder: client, nextCallId: 1 });
  return 1;
}

/** `client` lets the channel go; the next client starts at `nextCallId`. */
export function releaseChannel(channel: object, client: object, nextCallId: number): void {
  const claim = claims.get(channel);
  if (claim?.holder !== client) return;
  claim.holder = undefined;
  claim.nextCallId = nextCallId;
}
