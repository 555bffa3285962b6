/**
 * The cross-process transport, client side (transport.ts): attaches to a C
 * service that another process serves under a name (`shmrpc-host NAME
 * LIBRARY`, or any program using c/include/shmrpc/xproc.h), and gives a
 * Channel over the segment the server shares with this process
 * (docs/PROTOCOL.md section 9).
 *
 * The addon connects (a Unix socket in the user's runtime directory),
 * receives the segment's memfd and maps it. JavaScript then reaches that
 * memory by one of two routes (docs/CROSS-PROCESS.md says why and what
 * each costs):
 * - direct: the mapping is a SharedArrayBuffer, the channel runs on it;
 * - relay (Electron, or `relay: true`): JavaScript allocates a segment of
 *   its own and native threads forward every message between it and the
 *   mapping with the C channel core.
 * Wake-ups work as in-process, except that the server wakes an event loop
 * through an eventfd (direct) or the relay through a uv_async. When the
 * server dies, the socket hangs up and the transport reports the peer dead
 * (`channel.peerDied`): the channel fails what was pending, an RpcClient's
 * calls with UNAVAILABLE.
 */
import type { Channel } from "../channel/channel.js";
import { createSegment } from "../channel/segment.js";
import { setNativeCopy } from "../shared-copy.js";
import { ShmrpcError, errorCodeValues, type ShmrpcErrorCode } from "../errors.js";
import { EXTERNAL_REFUSED, loadAddon, type NativeXprocClient } from "../native/addon.js";
import { AddonDoorbell } from "../native/addon-doorbell.js";
import type { SpinStats } from "../channel/spin.js";
import { openChannel, type Connection, type Transport, type TransportChannel } from "./transport.js";

export interface ConnectOptions {
  /** Where the server listens; default the user's runtime directory. */
  runtimeDir?: string;
  /** Bytes per ring, a power of two (relayed: on both segments); default the server's (1 MiB for shmrpc-host). */
  capacity?: number;
  /**
   * Spin budget before parking, in microseconds (receiveSync, senders):
   * receiveSync's adapts below this cap (docs/PROTOCOL.md section 4).
   * Default 50. The server's is the server's option (shmrpc-host --spin-us).
   */
  spinMicros?: number;
  /**
   * The event loop's spin budget before it blocks waiting for the server
   * (adaptive, below this cap), after an awaited call's 5 µs spin in a
   * microtask (0 turns both off). Default spinMicros.
   */
  loopSpinMicros?: number;
  /** This side's budgets stay at their caps instead of adapting. Default false. */
  spinFixed?: boolean;
  /** The largest message JavaScript accepts. */
  maxMessageBytes?: number;
  /** How long to wait for the server's answer, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /**
   * How JavaScript reaches the server's memory (docs/CROSS-PROCESS.md):
   * `true` relays through a segment of its own (one extra copy and a
   * thread hand-off per message), `false` maps it directly (and fails
   * where the runtime refuses that, as Electron does). Default: directly
   * where the runtime allows it, else the relay.
   */
  relay?: boolean;
}

/**
 * Where the addon's callbacks go. The addon holds them (persistent
 * references) until its client is collected, so they must not hold the
 * transport, and through it the client and the segment, once it is
 * closed: that cycle through a native root would keep the mapping forever.
 */
interface CallbackRoute {
  to: CrossProcessTransport | undefined;
}

/** The relay threads' spin options (they spin as this side does). */
type RelaySpin = Pick<ConnectOptions, "spinMicros" | "spinFixed">;

/** The addon's connection (its socket, and the mapped segment or the relay to it) as a Transport. */
class CrossProcessTransport implements Transport {
  readonly side = "client";
  readonly segment: SharedArrayBuffer;
  readonly doorbell: AddonDoorbell;
  private channel: TransportChannel | undefined;

  /**
   * Over `mapped` (the direct route), or, without it, over a segment of
   * JavaScript's own with rings of `capacities`, relayed once started.
   */
  constructor(
    readonly client: NativeXprocClient,
    private readonly route: CallbackRoute,
    mapped: SharedArrayBuffer | undefined,
    private readonly relay: { capacities: [number, number]; spin: RelaySpin } | undefined,
  ) {
    if (mapped) {
      this.segment = mapped;
      this.doorbell = new AddonDoorbell(client);
    } else {
      const [capacityC2S, capacityS2C] = relay!.capacities;
      this.segment = createSegment({ capacityC2S, capacityS2C });
      this.doorbell = new AddonDoorbell();
    }
    route.to = this;
  }

  get relayed(): boolean {
    return this.relay !== undefined;
  }

  start(channel: TransportChannel): void {
    this.channel = channel;
    if (this.relay) {
      // The channel is OPEN on JavaScript's segment: the relay tells the
      // server its limit, and wakes and watches this segment from now on.
      const { spinMicros, spinFixed } = this.relay.spin;
      this.client.startRelay(new Uint8Array(this.segment), {
        ...(spinMicros !== undefined && { spinMicros }),
        ...(spinFixed !== undefined && { spinFixed }),
      });
      this.doorbell.attach(this.client);
    }
    // The server may have gone between the handshake and now.
    if (!this.client.connected) this.serverGone();
  }

  /** The server (or the relay) woke the event loop. */
  wake(): void {
    this.channel?.wake();
  }

  /** The socket hung up: the server process died or stopped. */
  serverGone(): void {
    this.channel?.peerDied(`the server process (pid ${this.client.serverPid}) is gone`);
  }

  /**
   * Stops the relay (what this side sent before it closed still reaches
   * the server), stops watching and closes the descriptors; a mapping is
   * unmapped once its buffer is collected (nothing of the addon holds it
   * then).
   */
  close(): Promise<void> {
    this.client.close();
    this.route.to = undefined;
    return Promise.resolve();
  }
}

/** A connection to a service in another process. */
export class CrossProcessConnection implements Connection {
  readonly channel: Channel;
  private readonly transport: CrossProcessTransport;

  /** @internal Made by connect(). */
  constructor(transport: CrossProcessTransport, options: ConnectOptions) {
    this.transport = transport;
    this.channel = openChannel(transport, {
      ...(options.spinMicros !== undefined && { spinMicros: options.spinMicros }),
      ...(options.spinFixed !== undefined && { spinFixed: options.spinFixed }),
      ...(options.maxMessageBytes !== undefined && { maxMessageBytes: options.maxMessageBytes }),
    });
  }

  /**
   * The event loop's spin for replies (loopSpinMicros): its adaptive budget
   * now, and how many of its waits ended while spinning or parked.
   */
  get loopSpinStats(): SpinStats {
    return this.transport.client.loopSpinStats;
  }

  /** The server process's pid. */
  get serverPid(): number {
    return this.transport.client.serverPid;
  }

  /** True when messages pass through the relay (docs/CROSS-PROCESS.md), false on the direct route. */
  get relayed(): boolean {
    return this.transport.relayed;
  }

  /** False once the server went away (it died or stopped) or after close(). */
  get connected(): boolean {
    return this.transport.client.connected;
  }

  /** How often the server had to wake the event loop (see loopSpinMicros). */
  get loopWakeUps(): number {
    return this.transport.client.loopWakeUps;
  }

  /**
   * Closes the channel (the server's service then returns) and the
   * connection's descriptors, at once; the promise is for the Connection
   * interface and is already settled.
   */
  close(): Promise<void> {
    this.channel.close();
    return this.transport.close();
  }
}

function checkOptions(name: unknown, options: ConnectOptions): void {
  if (typeof name !== "string") throw new TypeError("connect: name must be a string");
  for (const key of ["capacity", "spinMicros", "loopSpinMicros", "maxMessageBytes", "timeoutMs"] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
      throw new TypeError(`connect: options.${key} must be a number >= 0`);
    }
  }
  for (const key of ["spinFixed", "relay"] as const) {
    if (options[key] !== undefined && typeof options[key] !== "boolean") {
      throw new TypeError(`connect: options.${key} must be a boolean`);
    }
  }
  if (options.runtimeDir !== undefined && typeof options.runtimeDir !== "string") {
    throw new TypeError("connect: options.runtimeDir must be a string");
  }
}

/**
 * Attaches to the service listening under `name`. Resolves with the
 * connection once the server has handed over the segment; `connection.channel`
 * is used as any channel (`new RpcClient(connection.channel)`), on either
 * route (`options.relay`, `connection.relayed`). Rejects with
 * ShmrpcError ENOSERVER (nobody listens under that name), EACCES (an owner,
 * mode or credential check failed, here or in the server), EAGAIN (the
 * server is full), EINVAL, EVERSION, EPROTO, ETIMEDOUT or ESYSTEM; the
 * message says why.
 */
export async function connect(name: string, options: ConnectOptions = {}): Promise<CrossProcessConnection> {
  checkOptions(name, options);
  const addon = loadAddon();
  setNativeCopy(addon.copyBytes);
  // Both callbacks run on this thread, after the transport exists: the
  // addon starts watching only once the client is made.
  const route: CallbackRoute = { to: undefined };
  let client: NativeXprocClient;
  try {
    client = await addon.xprocConnect(
      name,
      {
        ...(options.runtimeDir !== undefined && { runtimeDir: options.runtimeDir }),
        ...(options.capacity !== undefined && { capacityC2S: options.capacity, capacityS2C: options.capacity }),
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        loopSpinMicros: options.loopSpinMicros ?? options.spinMicros ?? 50,
        loopSpinFixed: options.spinFixed ?? false,
      },
      () => route.to?.wake(),
      () => route.to?.serverGone(),
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== undefined && code in errorCodeValues) {
      throw new ShmrpcError(code as ShmrpcErrorCode, (error as Error).message, { cause: error });
    }
    throw error;
  }
  try {
    const mapped = options.relay === true ? undefined : mapSegment(client, options.relay === false);
    const relay = mapped ? undefined : { capacities: relayCapacities(client, options), spin: options };
    return new CrossProcessConnection(new CrossProcessTransport(client, route, mapped, relay), options);
  } catch (error) {
    client.close();
    throw error;
  }
}

/**
 * The direct route's buffer; undefined where the runtime refuses buffers
 * over memory V8 did not allocate (Electron), unless the direct route is
 * `required`.
 */
function mapSegment(client: NativeXprocClient, required: boolean): SharedArrayBuffer | undefined {
  try {
    return client.mapSegment();
  } catch (error) {
    if (required || (error as { code?: string }).code !== EXTERNAL_REFUSED) throw error;
    return undefined;
  }
}

/** JavaScript's own segment has the rings asked for, else those the server granted. */
function relayCapacities(client: NativeXprocClient, options: ConnectOptions): [number, number] {
  return options.capacity !== undefined ? [options.capacity, options.capacity] : client.capacities;
}
