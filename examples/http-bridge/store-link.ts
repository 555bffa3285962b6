/**
 * The bridge's link to the C store. The store is a C service reached over
 * shared memory, either in another process (`shmrpc-host NAME LIBRARY`,
 * attached by name with `connect`) or on a native thread of this process
 * (`InProcessService`, one process for development).
 *
 * Reconnecting is on demand: while the store is up, requests get its
 * RpcClient at once. When it dies (the host killed, even by SIGKILL, or
 * stopped), the calls in flight fail with UNAVAILABLE and the link drops
 * the connection. The next request opens it again and waits for the
 * outcome (concurrent requests share one attempt); if the attempt fails,
 * that request and every request for the next `retryMs` get UNAVAILABLE
 * with the reason, without trying. Nothing polls in the background: a
 * bridge nobody calls does not touch the store.
 */
import { RpcClient, RpcError, Status, type Connection } from "shmrpc";
import { InProcessService, connect, type ConnectOptions } from "shmrpc/node";

/** A running C store: its channel and how to let go of it. */
export type StoreService = Connection;

/** Attaches to a store that `shmrpc-host NAME libshmrpc_http_bridge.so` serves. */
export function connectStoreService(name: string, options: ConnectOptions = {}): Promise<StoreService> {
  return connect(name, options);
}

/** Starts the store on a native thread of this process. */
export async function startStoreService(library: string): Promise<StoreService> {
  return new InProcessService({ library });
}

export class StoreLink {
  private service: StoreService | undefined;
  private rpc: RpcClient | undefined;
  private opening: Promise<RpcClient | undefined> | undefined;
  private nextTry = 0;
  private closed = false;
  /** Why there is no client, for error messages. */
  reason = "not opened yet";

  /**
   * @param open starts or attaches to the store
   * @param retryMs after a failed attempt, how long requests fail at once before the next attempt
   */
  constructor(
    private readonly open: () => Promise<StoreService>,
    private readonly retryMs: number,
  ) {}

  /**
   * The client while the store is up; otherwise a promise of it after an
   * attempt to open the store (started now if due, or the one under way),
   * which rejects with UNAVAILABLE and the reason if there is no store.
   * The gateway takes this function as its `client`.
   */
  client(): RpcClient | Promise<RpcClient> {
    if (this.rpc !== undefined) return this.rpc;
    if (this.opening === undefined && !this.closed && Date.now() >= this.nextTry) {
      this.opening = this.connect().finally(() => (this.opening = undefined));
    }
    return (this.opening ?? Promise.resolve(undefined)).then(
      (rpc) => rpc ?? Promise.reject(new RpcError(Status.UNAVAILABLE, this.reason, "bridge.Store")),
    );
  }

  /** The store's connection while it is up (tests end it to play a crash). */
  get runningService(): StoreService | undefined {
    return this.service;
  }

  private async connect(): Promise<RpcClient | undefined> {
    let service: StoreService;
    try {
      service = await this.open();
    } catch (error) {
      this.reason = `cannot reach the store: ${error instanceof Error ? error.message : String(error)}`;
      this.nextTry = Date.now() + this.retryMs;
      return undefined;
    }
    if (this.closed) {
      await service.close();
      return undefined;
    }
    const rpc = new RpcClient(service.channel);
    this.service = service;
    this.rpc = rpc;
    service.channel.onClose((error) => this.lost(service, error ? `the store is gone: ${error.message}` : "the store closed"));
    return rpc;
  }

  /** The store's channel ended: let go of it; the next request reconnects. */
  private lost(service: StoreService, reason: string): void {
    if (this.service !== service) return;
    this.rpc?.close();
    this.rpc = undefined;
    this.service = undefined;
    this.reason = reason;
    void service.close();
  }

  /** Closes the client and lets go of the store (an in-process store stops; a host serves on). */
  async close(): Promise<void> {
    this.closed = true;
    this.nextTry = Infinity;
    await this.opening;
    const service = this.service;
    this.rpc?.close();
    this.rpc = undefined;
    this.service = undefined;
    this.reason = "the bridge closed";
    await service?.close();
  }
}
