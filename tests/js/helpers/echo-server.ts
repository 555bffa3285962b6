/**
 * A JavaScript RPC server for rpc_test.proto's Echo and Hang, enough to
 * drive an RpcClient from the other end of a channel: Echo answers with
 * "echo: <text>", the payload and the call id; Hang never answers (only the
 * peer's death or a deadline ends it). Uses the portable runtime only.
 */
import { FrameType, type Channel } from "../../../js/src/index.js";
import { EnvelopeKind, encodeEnvelope, parseEnvelope } from "../../../js/src/internal.js";
import { EchoReply, EchoRequest, RpcTest } from "../gen/rpc_test_pb.js";

export interface EchoServer {
  /** REQUESTs received so far. */
  readonly requests: number;
  stop(): void;
}

export function serveEcho(channel: Channel): EchoServer {
  let requests = 0;
  const stop = channel.onMessage((message) => {
    if (message.type !== FrameType.COMMAND) return;
    const envelope = parseEnvelope(message.data as Uint8Array);
    if (envelope.kind !== EnvelopeKind.REQUEST) return;
    requests++;
    if (envelope.methodId !== RpcTest.methods.echo.id) return;
    const request = EchoRequest.decode(envelope.body);
    const reply = EchoReply.encode({ text: `echo: ${request.text}`, payload: request.payload, callId: envelope.callId });
    const header = { kind: EnvelopeKind.RESPONSE, callId: envelope.callId, methodId: 0, schemaHash: 0, status: 0, timeoutUs: 0, credit: 0 };
    void channel.send(FrameType.COMMAND, encodeEnvelope(header, reply));
  });
  return {
    get requests() {
      return requests;
    },
    stop,
  };
}
