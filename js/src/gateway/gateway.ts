/**
 * The HTTP gateway: serves shmrpc services to stock clients of Connect,
 * gRPC and gRPC-Web (through @connectrpc/connect-node), so a C service
 * behind shared memory is reachable from other machines and languages.
 *
 * Each HTTP call becomes one shmrpc call, of any of the four kinds: Connect
 * parses each request message (JSON in protobuf's canonical JSON mapping,
 * or binary) with the schema embedded in the generated code, the gateway
 * serializes it to protobuf bytes and sends those to C as they are; each
 * reply's bytes are parsed for Connect to write in the client's format
 * (bidirectional calls need HTTP/2). The HTTP client's deadline
 * (Connect-Timeout-Ms, grpc-timeout) becomes the call's timeoutMs and
 * reaches the C handler;
 * a client that disconnects or resets its stream cancels the call in C.
 *
 * Example usage:
 *
 *   const service = new InProcessService({ library });
 *   const gateway = createGateway({ service: Store, client: new RpcClient(service.channel) });
 *   http.createServer(gateway.handler).listen(8080);  // or: await gateway.listen({ port: 8080 })
 *   // curl -H 'Content-Type: application/json' -d '{"key":"a"}' localhost:8080/bridge.Store/Get
 */
import { setMaxListeners } from "node:events";

import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

import type { CallOptions, RpcTransport, ServiceDescriptor } from "../rpc/types.js";
import { connectErrorOf, unavailable } from "./errors.js";
import { listenOnePort, type GatewayServer, type ListenOptions } from "./listen.js";
import { rawMethod } from "./raw-method.js";
import { serviceSchema, type MethodSchema } from "./schema.js";

/** A request listener of node:http or node:http2, as Connect's Node adapter makes. */
export type NodeHandlerFn = ReturnType<typeof connectNodeAdapter>;
type NodeServerRequest = Parameters<NodeHandlerFn>[0];
type NodeServerResponse = Parameters<NodeHandlerFn>[1];

/** One service to serve, and how to reach its C side. */
export interface GatewayService {
  /** The generated service descriptor (e.g. `Store` from store_pb.ts). */
  service: ServiceDescriptor;
  /**
   * The shmrpc transport to the C service (an RpcClient), or a function
   * returning the current one, e.g. after a reconnect. The function is
   * called for every call; it may return a promise (the call waits for it,
   * e.g. for a reconnect the call itself set off) and may throw or reject
   * (an RpcError keeps its code). While it returns undefined, calls fail
   * with UNAVAILABLE; so do calls on a client whose service died (the
   * RpcClient's own UNAVAILABLE).
   */
  client: RpcTransport | (() => RpcTransport | undefined | PromiseLike<RpcTransport | undefined>);
}

export interface GatewayLimits {
  /** Largest request message accepted, in bytes; a larger one fails with RESOURCE_EXHAUSTED. Default 4 MiB. */
  readMaxBytes: number;
  /** Largest response message sent, in bytes; a larger one fails with RESOURCE_EXHAUSTED. Default 4 MiB. */
  writeMaxBytes: number;
  /** Deadline of calls whose HTTP client sets none, in ms (0: none). Default 0. */
  defaultTimeoutMs: number;
  /** Longest deadline a client may ask for, in ms (longer: INVALID_ARGUMENT; 0: no limit). Default 0. */
  maxTimeoutMs: number;
  /** Protocols served. Default: all three. */
  connect: boolean;
  grpc: boolean;
  grpcWeb: boolean;
  /** Serves every route under this path prefix, e.g. "/rpc" (gRPC clients often cannot use one). Default none. */
  requestPathPrefix: string;
}

export type GatewayOptions = (GatewayService | { services: readonly GatewayService[] }) & Partial<GatewayLimits>;

export interface GatewayStats {
  /** shmrpc calls started by HTTP requests. */
  callsStarted: number;
  /** Calls started and not yet finished (their reply or error written, or abandoned). */
  callsInFlight: number;
  /** Calls that ended with an error (any status but OK). */
  callsFailed: number;
}

export interface Gateway {
  /** A request listener for node:http and node:http2 servers (404 for paths it does not serve). */
  readonly handler: NodeHandlerFn;
  /** The same for express and other middleware stacks: paths it does not serve go to next(). */
  readonly middleware: (request: NodeServerRequest, response: NodeServerResponse, next: () => void) => void;
  /** The routes, e.g. "/bridge.Store/Get" (with requestPathPrefix). */
  readonly paths: readonly string[];
  readonly stats: Readonly<GatewayStats>;
  /**
   * Serves the gateway on one TCP port for HTTP/1.1 (Connect, gRPC-Web,
   * curl) and HTTP/2 without TLS (gRPC, Connect over h2c). For TLS, pass
   * `handler` to a server of your own.
   */
  listen(options?: ListenOptions): Promise<GatewayServer>;
  /**
   * Stops serving: calls in flight end with UNAVAILABLE (in C too), later
   * requests get UNAVAILABLE. Closes no server and no client.
   */
  close(): void;
}

const MiB = 1024 * 1024;
const DEFAULTS: GatewayLimits = Object.freeze({
  readMaxBytes: 4 * MiB,
  writeMaxBytes: 4 * MiB,
  defaultTimeoutMs: 0,
  maxTimeoutMs: 0,
  connect: true,
  grpc: true,
  grpcWeb: true,
  requestPathPrefix: "",
});

type Resolve = () => RpcTransport | Promise<RpcTransport>;

/** A call the gateway started: where it goes, its options, and end() (once). */
interface Started {
  transport: RpcTransport;
  options: CallOptions;
  end: () => void;
}

/** A gateway for the services in `options` (see GatewayOptions, GatewayLimits). */
export function createGateway(options: GatewayOptions): Gateway {
  const limits: GatewayLimits = { ...DEFAULTS, ...withoutUndefined(options) };
  const services = "services" in options ? options.services : [options];
  const stats: GatewayStats = { callsStarted: 0, callsInFlight: 0, callsFailed: 0 };
  const shutdown = new AbortController();
  // Connect links every call's signal to this one: one listener per call in flight.
  setMaxListeners(0, shutdown.signal);
  const paths: string[] = [];
  const bindings = services.map(({ service, client }) => {
    const schema = serviceSchema(service);
    for (const { method } of schema.methods) paths.push(`${limits.requestPathPrefix}/${method.path}`);
    return { schema, resolve: resolver(service.name, client) };
  });

  const handler = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      for (const { schema, resolve } of bindings) {
        for (const method of schema.methods) bindMethod(router, method, resolve, limits, stats);
      }
    },
    readMaxBytes: limits.readMaxBytes,
    writeMaxBytes: limits.writeMaxBytes,
    ...(limits.maxTimeoutMs > 0 ? { maxTimeoutMs: limits.maxTimeoutMs } : {}),
    ...(limits.requestPathPrefix !== "" ? { requestPathPrefix: limits.requestPathPrefix } : {}),
    connect: limits.connect,
    grpc: limits.grpc,
    grpcWeb: limits.grpcWeb,
    shutdownSignal: shutdown.signal,
  });
  const served = new Set(paths);

  return {
    handler,
    middleware: (request, response, next) => {
      const path = new URL(request.url ?? "/", "http://gateway").pathname;
      if (served.has(path)) handler(request, response);
      else next();
    },
    paths,
    stats,
    listen: (listenOptions) => listenOnePort(handler, listenOptions),
    close: () => {
      // The reason Connect answers every call with, new or in flight.
      shutdown.abort(new ConnectError("the gateway is closed", Code.Unavailable));
    },
  };
}

function withoutUndefined(options: object): Partial<GatewayLimits> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULTS)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out as Partial<GatewayLimits>;
}

function resolver(name: string, client: GatewayService["client"]): Resolve {
  if (typeof client !== "function") {
    if (client === null || typeof client !== "object" || typeof client.unary !== "function") {
      throw new TypeError(`createGateway: the client of ${name} must be an RpcClient or a function returning one`);
    }
    return () => client;
  }
  const check = (current: RpcTransport | undefined): RpcTransport => {
    if (current === undefined) throw unavailable(name);
    return current;
  };
  return () => {
    const current = client();
    return isPromiseLike(current) ? Promise.resolve(current).then(check) : check(current);
  };
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === "function";
}

function callOptions(context: HandlerContext, limits: GatewayLimits): CallOptions {
  const timeoutMs = context.timeoutMs() ?? (limits.defaultTimeoutMs > 0 ? limits.defaultTimeoutMs : undefined);
  if (timeoutMs === undefined) return { signal: context.signal };
  // A deadline already passed still goes out (as 0 ms): the call fails at once.
  return { timeoutMs: Math.max(0, timeoutMs), signal: cancelsOnly(context.signal) };
}

/**
 * The request's signal without its deadline. Connect aborts the signal when
 * the client's deadline passes; the shmrpc call carries the same deadline
 * and ends by itself then, as DEADLINE_EXCEEDED on both sides of shared
 * memory, where a forwarded abort would cancel it in C a moment earlier.
 * Every other abort (a disconnect, a reset stream, close()) cancels.
 */
function cancelsOnly(signal: AbortSignal): AbortSignal {
  const controller = new AbortController();
  const forward = (): void => {
    const reason: unknown = signal.reason;
    if (!(reason instanceof ConnectError && reason.code === Code.DeadlineExceeded)) controller.abort(reason);
  };
  if (signal.aborted) forward();
  else signal.addEventListener("abort", forward, { once: true });
  return controller.signal;
}

function bindMethod(router: ConnectRouter, schema: MethodSchema, resolve: Resolve, limits: GatewayLimits, stats: GatewayStats): void {
  const raw = rawMethod(schema.method);
  const { input, output } = schema.desc;
  const toBytes = (request: Message): Uint8Array => toBinary(input as DescMessage, request);
  // A request stream's messages as bytes, one at a time as the HTTP client
  // sends them. Its end is the client's end of the request stream; if the
  // stream fails, so does the call. A client that aborts the call cancels
  // it in C through the signal (callOptions), whatever it did to its
  // request stream first (connect-node's client ends it cleanly, then
  // resets the HTTP/2 stream).
  const toByteStream = async function* (requests: AsyncIterable<Message>): AsyncGenerator<Uint8Array> {
    for await (const request of requests) yield toBytes(request);
  };
  const begin = async (context: HandlerContext): Promise<Started> => {
    const resolved = resolve();
    const transport = resolved instanceof Promise ? await resolved : resolved;
    stats.callsStarted++;
    stats.callsInFlight++;
    // The call is over for the gateway when it returns, or when the request
    // is aborted (which also ends the shmrpc call): Connect may leave the
    // generator of a stream whose client went away suspended at a yield,
    // its finally never run.
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      stats.callsInFlight--;
      context.signal.removeEventListener("abort", end);
    };
    context.signal.addEventListener("abort", end, { once: true });
    return { transport, options: callOptions(context, limits), end };
  };
  const fail = (error: unknown, context: HandlerContext): never => {
    stats.callsFailed++;
    throw connectErrorOf(error, context.signal);
  };

  /** A call with one reply: `send` starts it once it has begun. */
  const answer = async (context: HandlerContext, send: (call: Started) => Promise<Uint8Array>): Promise<Message> => {
    let call: Started | undefined;
    try {
      call = await begin(context);
      return fromBinary(output as DescMessage, await send(call));
    } catch (error) {
      return fail(error, context);
    } finally {
      call?.end();
    }
  };
  /** A call with a reply stream: `open` starts it once it has begun. */
  const forward = async function* (context: HandlerContext, open: (call: Started) => AsyncIterable<Uint8Array>): AsyncGenerator<Message> {
    let call: Started | undefined;
    try {
      call = await begin(context);
      // Leaving this loop early (Connect stops when the client goes away)
      // ends the shmrpc stream, which cancels the call in C.
      for await (const item of open(call)) yield fromBinary(output as DescMessage, item);
    } catch (error) {
      fail(error, context);
    } finally {
      call?.end();
    }
  };
  const implementations = {
    unary: (request: Message, context: HandlerContext) =>
      answer(context, (call) => call.transport.unary(raw, toBytes(request) as never, call.options)),
    server_streaming: (request: Message, context: HandlerContext) =>
      forward(context, (call) => call.transport.serverStreaming(raw, toBytes(request) as never, call.options)),
    client_streaming: (requests: AsyncIterable<Message>, context: HandlerContext) =>
      answer(context, (call) => call.transport.clientStreaming(raw, toByteStream(requests) as never, call.options)),
    bidi_streaming: (requests: AsyncIterable<Message>, context: HandlerContext) =>
      forward(context, (call) => call.transport.bidiStreaming(raw, toByteStream(requests) as never, call.options)),
  };
  // The method types are known only at run time: Connect's typed
  // implementation signature cannot be checked here.
  router.rpc(schema.desc, implementations[schema.desc.methodKind] as never);
}
