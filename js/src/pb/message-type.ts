/**
 * What a generated message codec is to its users: the type of a message
 * being built (MessageInit) and the static codec of one message type
 * (MessageType). The RPC runtime's descriptors refer to these; the codec
 * knows nothing of RPC.
 */

/** A message value being built: every field optional, nested messages too. */
export type MessageInit<T> = {
  [K in keyof T]?: FieldInit<T[K]>;
};

/**
 * One field of a MessageInit. Distributes over unions, so optional message
 * fields (`M | undefined`) and oneof members are partial too, and
 * `Uint8Array` elements of repeated bytes stay `Uint8Array`.
 */
export type FieldInit<F> = F extends Uint8Array | bigint | string | number | boolean | undefined
  ? F
  : F extends ReadonlyArray<infer E>
    ? ReadonlyArray<FieldInit<E>>
    : F extends object
      ? MessageInit<F>
      : F;

/** Static codec of one generated message type. */
export interface MessageType<T> {
  /** Fully qualified protobuf name, e.g. "greeter.HelloRequest". */
  readonly typeName: string;
  /** A message with every field at its default, overlaid with `init`. */
  create(init?: MessageInit<T>): T;
  /** Exact number of bytes encodeInto() will write for `message`. */
  encodedSize(message: MessageInit<T>): number;
  /** Writes `message` at `offset`, returns the offset after the last byte. */
  encodeInto(message: MessageInit<T>, target: Uint8Array, offset: number): number;
  encode(message: MessageInit<T>): Uint8Array;
  /**
   * Decodes `bytes` from `offset` (default 0) to the end; throws a
   * DecodeError on malformed input, a RangeError on an offset outside it.
   * Bytes fields of the result may be views of `bytes` (as in protobufjs
   * and @bufbuild/protobuf): copy one before changing either.
   */
  decode(bytes: Uint8Array, offset?: number): T;
}
