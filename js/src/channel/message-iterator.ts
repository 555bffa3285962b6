/**
 * An async iterator over a channel's incoming messages with a bounded
 * buffer: while the buffer is full the channel stops draining its ring, so a
 * slow consumer slows the producer instead of losing messages or growing
 * memory without bound.
 */
import type { ShmrpcError } from "../errors.js";
import { Fifo } from "./fifo.js";
import type { Message } from "./frame.js";

/** What an iterator needs from its channel. */
export interface MessageSource {
  /** The iterator has room again: drain the ring if it stopped for us. */
  resume(): void;
  /** The iterator is done (return() or end): stop delivering to it. */
  detach(iterator: MessageIterator): void;
}

interface Waiter {
  resolve(result: IteratorResult<Message>): void;
  reject(error: unknown): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

export class MessageIterator implements AsyncIterableIterator<Message> {
  private readonly buffer = new Fifo<Message>();
  private readonly waiters = new Fifo<Waiter>();
  private ended = false;
  /** Thrown once, after the buffered messages, when the stream failed. */
  private error: ShmrpcError | undefined;

  constructor(
    private readonly source: MessageSource,
    private readonly highWaterMark: number,
  ) {}

  /** False once `highWaterMark` messages wait to be taken. */
  hasRoom(): boolean {
    return this.buffer.length < this.highWaterMark;
  }

  /** Delivers one message (the channel calls this only while hasRoom()). */
  push(message: Message): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: message, done: false });
    else this.buffer.push(message);
  }

  /**
   * No more messages will come: buffered ones are still yielded, then the
   * iterator finishes, or throws `error` if given.
   */
  end(error?: ShmrpcError): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    for (let waiter = this.waiters.shift(); waiter; waiter = this.waiters.shift()) {
      this.settleEnded(waiter);
    }
  }

  next(): Promise<IteratorResult<Message>> {
    const message = this.buffer.shift();
    if (message !== undefined) {
      if (!this.ended) this.source.resume();
      return Promise.resolve({ value: message, done: false });
    }
    return new Promise((resolve, reject) => {
      if (this.ended) {
        this.settleEnded({ resolve, reject });
      } else {
        this.waiters.push({ resolve, reject });
        this.source.resume();
      }
    });
  }

  /** Stops iterating (a `break` out of for await): later messages are not delivered to it. */
  return(): Promise<IteratorResult<Message>> {
    this.source.detach(this);
    this.buffer.takeAll();
    this.error = undefined;
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private settleEnded(waiter: Waiter): void {
    const error = this.error;
    this.error = undefined;
    if (error) waiter.reject(error);
    else waiter.resolve(DONE);
  }
}
