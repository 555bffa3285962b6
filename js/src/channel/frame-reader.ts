/**
 * Reads messages from the consumer side of a ring (docs/PROTOCOL.md section
 * 3): validates every frame header against the bytes actually published,
 * reassembles fragments, and copies each payload out of shared memory
 * (unless the caller borrows the message for as long as it handles it).
 * Any violation throws ShmrpcError EPROTO; the channel then fails.
 */
import { allocateBytes } from "../byte-pool.js";
import { ShmrpcError } from "../errors.js";
import { FRAME_HEADER_BYTES, FRAME_MORE, FRAME_TYPE_MASK, FrameType, isFrameType, type Message } from "./frame.js";
import type { RingConsumer } from "./ring.js";

const decoder = new TextDecoder();
const typeNames = ["TEXT", "BINARY", "COMMAND"] as const;

export class FrameReader {
  /** Bytes known to be published past the private head (validated when loaded). */
  private available = 0;
  private reassembly: Uint8Array | undefined;
  private reassemblyLength = 0;
  /** Type of the message being reassembled, -1 when none is. */
  private reassemblyType = -1;
  /** Non-shared copy of a TEXT payload: browsers' TextDecoder refuses shared memory. */
  private scratch = new Uint8Array(256);
  /**
   * The one message object every borrowed view comes in: a borrower keeps
   * nothing of a message past its call, so one allocation less per message.
   */
  private readonly borrowed = new BorrowedMessage();

  /**
   * `release` hands consumed space back to the producer (and wakes it); the
   * reader calls it whenever it has used up what it knew to be published,
   * before it looks for more.
   */
  constructor(
    readonly ring: RingConsumer,
    private readonly maxMessageBytes: number,
    private readonly release: () => void,
  ) {}

  /**
   * The next complete message, its frames consumed (their space handed back
   * by the next release), or undefined when the ring holds no complete
   * message now. With `borrow`, a binary or command message that lies in one
   * piece in the ring comes as a view of it: valid only until the next call
   * (or release), and changeable by the peer meanwhile.
   */
  next(borrow = false): Message | undefined {
    const ring = this.ring;
    for (;;) {
      if (this.available === 0) {
        this.release();
        this.available = ring.readable();
        if (this.available === 0) return undefined;
      }
      // The producer publishes whole frames, so one starts here and ends within what was published.
      if (this.available < FRAME_HEADER_BYTES) throw violation("a frame header is cut short");
      const typeByte = ring.byteAt(0);
      const type = typeByte & FRAME_TYPE_MASK;
      if (!isFrameType(type)) throw violation(`reserved frame type ${type}`);
      const length = ring.uint32At(1);
      if (length > this.available - FRAME_HEADER_BYTES) {
        throw violation(`a ${length}-byte frame exceeds the ${this.available} published bytes`);
      }
      const more = (typeByte & FRAME_MORE) !== 0;
      if (!more && this.reassemblyType < 0) {
        if (length > this.maxMessageBytes) throw violation(`a ${length}-byte message exceeds our limit`);
        const message = (borrow && this.viewMessage(type, length)) || this.copyMessage(type, length);
        this.consume(length);
        return message;
      }
      this.appendFragment(type, length);
      this.consume(length);
      if (!more) return this.finishReassembly();
    }
  }

  /** Drops a message left half reassembled (its sender closed mid-message). */
  discardPartial(): void {
    this.reassembly = undefined;
    this.reassemblyLength = 0;
    this.reassemblyType = -1;
  }

  private consume(payloadLength: number): void {
    this.ring.consume(FRAME_HEADER_BYTES + payloadLength);
    this.available -= FRAME_HEADER_BYTES + payloadLength;
  }

  /** The payload as a view of the ring, when it is binary and in one piece. */
  private viewMessage(type: FrameType, length: number): Message | undefined {
    if (type === FrameType.TEXT) return undefined;
    const offset = this.ring.contiguousAt(FRAME_HEADER_BYTES, length);
    if (offset < 0) return undefined;
    this.borrowed.lend(type, this.ring.data, offset, length);
    return this.borrowed;
  }

  private copyMessage(type: FrameType, length: number): Message {
    if (type === FrameType.TEXT) {
      if (this.scratch.length < length) this.scratch = new Uint8Array(Math.max(length, 2 * this.scratch.length));
      this.ring.copyOut(FRAME_HEADER_BYTES, length, this.scratch);
      return { type, data: decoder.decode(this.scratch.subarray(0, length)) };
    }
    const data = allocateBytes(length, this.ring.byteOffsetAt(FRAME_HEADER_BYTES));
    this.ring.copyOut(FRAME_HEADER_BYTES, length, data);
    return { type, data };
  }

  private appendFragment(type: FrameType, length: number): void {
    if (this.reassemblyType < 0) {
      this.reassemblyType = type;
    } else if (type !== this.reassemblyType) {
      throw violation(`a ${typeNames[type]} fragment continues a ${typeNames[this.reassemblyType]} message`);
    }
    const total = this.reassemblyLength + length;
    if (total > this.maxMessageBytes) {
      throw violation(`a fragmented message exceeds our limit of ${this.maxMessageBytes} bytes`);
    }
    let buffer = this.reassembly;
    if (!buffer || buffer.length < total) {
      // Doubling, capped by the limit: the total size is unknown until the last fragment.
      const grown = new Uint8Array(Math.min(this.maxMessageBytes, Math.max(total, 2 * (buffer?.length ?? 0), 4096)));
      if (buffer) grown.set(buffer.subarray(0, this.reassemblyLength));
      this.reassembly = buffer = grown;
    }
    this.ring.copyOut(FRAME_HEADER_BYTES, length, buffer, this.reassemblyLength);
    this.reassemblyLength = total;
  }

  private finishReassembly(): Message {
    const buffer = this.reassembly ?? new Uint8Array(0);
    const length = this.reassemblyLength;
    const type = this.reassemblyType as FrameType;
    // Fragmented messages are large: hand the buffer over rather than keep it.
    this.discardPartial();
    if (type === FrameType.TEXT) return { type, data: decoder.decode(buffer.subarray(0, length)) };
    return { type, data: buffer.length === length ? buffer : buffer.slice(0, length) };
  }
}

/**
 * A borrowed message: its payload is `bytes[offset, offset + length)`, in
 * the ring. `data`, the view a listener sees, is made only when asked for:
 * a consumer that reads the payload in place (the RpcClient) creates no
 * typed array per message.
 */
export class BorrowedMessage {
  type: typeof FrameType.BINARY | typeof FrameType.COMMAND = FrameType.BINARY;
  bytes: Uint8Array = new Uint8Array(0);
  offset = 0;
  length = 0;
  private view: Uint8Array | undefined;

  lend(type: typeof FrameType.BINARY | typeof FrameType.COMMAND, bytes: Uint8Array, offset: number, length: number): void {
    this.type = type;
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    this.view = undefined;
  }

  get data(): Uint8Array {
    return (this.view ??= this.bytes.subarray(this.offset, this.offset + this.length));
  }
}

function violation(message: string): ShmrpcError {
  return new ShmrpcError("EPROTO", message);
}
