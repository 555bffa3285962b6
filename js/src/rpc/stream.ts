/**
 * The consumer's side of a response stream (a server-streaming or
 * bidirectional call): an async iterator over
 * the messages with a bounded buffer. The server may send only as many
 * messages as the client granted (docs/PROTOCOL.md section 7, "Stream flow
 * control"); the client grants more as the consumer takes them, so a slow
 * consumer slows the producer and nothing is lost.
 */
import type { RpcError } from "./errors.js";

/** What a stream needs from its call. */
export interface StreamOwner {
  /** The consumer took `count` messages: grant the server that many more. */
  consumed(count: number): void;
  /** The consumer stopped early: cancel the call. */
  abandon(): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

export class ServerStream<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  private ended = false;
  private error: RpcError | undefined;
  private iterating = false;

  constructor(private readonly owner: StreamOwner) {}

  /** Messages received and not yet taken. */
  get buffered(): number {
    return this.items.length - this.head;
  }

  /** A message arrived (from the client runtime). */
  push(item: T): void {
    if (this.ended) return;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      this.owner.consumed(1);
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** The stream ended, with an error unless it ended with OK. */
  end(error?: RpcError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    // Buffered messages are empty when someone waits, so the end is next.
    if (error) {
      this.error = undefined;
      waiter.reject(error);
    } else {
      waiter.resolve(DONE);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const item = this.items[this.head] as T;
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      this.owner.consumed(1);
      return Promise.resolve({ value: item, done: false });
    }
    if (this.ended) {
      const error = this.error;
      if (error) {
        // Thrown once; the iterator is finished afterwards.
        this.error = undefined;
        return Promise.reject(error);
      }
      return Promise.resolve(DONE);
    }
    if (this.waiter) return Promise.reject(new TypeError("ServerStream: next() called again before the previous one settled"));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The consumer stopped (break, return, throw in a for await): cancels the call. */
  return(): Promise<IteratorResult<T>> {
    if (!this.ended) {
      this.ended = true;
      this.owner.abandon();
    }
    this.items = [];
    this.head = 0;
    this.error = undefined;
    return Promise.resolve(DONE);
  }

  throw(): Promise<IteratorResult<T>> {
    return this.return();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    if (this.iterating) throw new TypeError("ServerStream: a stream can be iterated only once");
    this.iterating = true;
    return this;
  }
}
