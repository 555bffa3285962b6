/**
 * The bridge's link to the C store: opens the service on first use, hands
 * out its RpcClient while the service lives, and opens it again (at most
 * once per `retryMs`) after it died or could not be opened. Until then
 * requests fail with UNAVAILABLE and the reason.
 */
import { RpcClient, type Channel } from "shmrpc";
import { InProcessService } from "shmrpc/node";

/** A running C service: its channel and how to stop it. */
export interface StoreService {
  readonly channel: Channel;
  close(): Promise<unknown>;
}

/**
 * Starts the C store. This is the one line to change for the cross-process
 * host (`shmrpc-host NAME LIBRARY` in another process, `connect(NAME)` here).
 */
export async function openStoreService(library: string): Promise<StoreService> {
  return new InProcessService({ library });
}

export class StoreLink {
  private service: StoreService | undefined;
  private client: RpcClient | undefined;
  private opening: Promise<void> | undefined;
  private nextTry = 0;
  /** Why there is no client, for error messages. */
  reason = "not opened yet";

  constructor(
    private readonly open: () => Promise<StoreService>,
    private readonly retryMs: number,
  ) {}

  /** The client while the service lives; otherwise starts opening it (if due) and returns undefined. */
  current(): RpcClient | undefined {
    if (this.client === undefined && this.opening === undefined && Date.now() >= this.nextTry) {
      this.opening = this.connect().finally(() => (this.opening = undefined));
    }
    return this.client;
  }

  /** Opens the service now (if it is not open) and waits for the outcome. */
  async ready(): Promise<RpcClient | undefined> {
    this.current();
    await this.opening;
    return this.client;
  }

  /** The running service, if any (tests stop it to play a crash). */
  get runningService(): StoreService | undefined {
    return this.service;
  }

  private async connect(): Promise<void> {
    try {
      const service = await this.open();
      const client = new RpcClient(service.channel);
      service.channel.onClose((error) => this.lost(service, error ? `the store failed: ${error.message}` : "the store closed"));
      this.service = service;
      this.client = client;
    } catch (error) {
      this.reason = `cannot open the store: ${error instanceof Error ? error.message : String(error)}`;
      this.nextTry = Date.now() + this.retryMs;
    }
  }

  private lost(service: StoreService, reason: string): void {
    if (this.service !== service) return;
    this.client?.close();
    this.client = undefined;
    this.service = undefined;
    this.reason = reason;
    this.nextTry = Date.now() + this.retryMs;
    void service.close();
  }

  /** Closes the client and stops the service. */
  async close(): Promise<void> {
    await this.opening;
    const service = this.service;
    this.client?.close();
    this.client = undefined;
    this.service = undefined;
    this.nextTry = Infinity;
    this.reason = "the bridge closed";
    await service?.close();
  }
}
