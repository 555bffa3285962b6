/**
 * One TCP port for both HTTP versions without TLS: a connection that opens
 * with HTTP/2's preface ("PRI * HTTP/2.0") goes to an HTTP/2 server (gRPC,
 * Connect over h2c), any other to an HTTP/1.1 server (Connect, gRPC-Web,
 * curl, browsers). Both serve the same request listener.
 */
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";

export interface ListenOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind. Default "127.0.0.1": serving other machines is a choice (e.g. "0.0.0.0"). */
  host?: string;
  /**
   * Serves HTTP/1.1 connections with this listener instead, e.g. an express
   * app that mounts `gateway.middleware` beside routes of its own. HTTP/2
   * connections always go to the gateway.
   */
  http1?: http.RequestListener;
  /** A connection that sends fewer than 3 bytes in this time is closed. Default 10 s. */
  firstBytesTimeoutMs?: number;
}

export interface GatewayServer {
  readonly port: number;
  /** "http://host:port" */
  readonly url: string;
  /** Stops accepting, closes every connection, resolves when all are gone. */
  close(): Promise<void>;
}

type Listener = (request: http.IncomingMessage | http2.Http2ServerRequest, response: http.ServerResponse | http2.Http2ServerResponse) => void;

/** "PRI" is no HTTP/1 method: three bytes tell the versions apart. */
const H2_PREFACE_START = Buffer.from("PRI");
/** A connection that does not send them this soon is closed (the HTTP servers' own timeouts apply after). */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

export function listenOnePort(handler: Listener, options: ListenOptions = {}): Promise<GatewayServer> {
  const h1 = http.createServer(options.http1 ?? (handler as http.RequestListener));
  const h2 = http2.createServer(handler as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const sockets = new Set<net.Socket>();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    route(socket, h1, h2, options.firstBytesTimeoutMs ?? FIRST_BYTES_TIMEOUT_MS);
  });
  const host = options.host ?? "127.0.0.1";
  return new Promise((resolve, reject) => {
    front.once("error", reject);
    front.listen(options.port ?? 0, host, () => {
      front.off("error", reject);
      const port = (front.address() as AddressInfo).port;
      resolve({
        port,
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            front.close(() => done());
            for (const session of sessions) session.destroy();
            h1.closeAllConnections();
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

/** Reads until the first three bytes are known, then hands the socket over. */
function route(socket: net.Socket, h1: http.Server, h2: http2.Http2Server, firstBytesTimeoutMs: number): void {
  let head = Buffer.alloc(0);
  // Until a server owns the socket, its errors (a reset) are ours to take.
  const onError = (): void => void socket.destroy();
  socket.on("error", onError);
  socket.setTimeout(firstBytesTimeoutMs, () => socket.destroy());
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    if (head.length < H2_PREFACE_START.length) return;
    socket.off("data", onData);
    socket.off("error", onError);
    socket.setTimeout(0);
    socket.pause();
    if (head.subarray(0, H2_PREFACE_START.length).equals(H2_PREFACE_START)) {
      h2.emit("connection", replay(socket, head));
    } else {
      socket.unshift(head);
      h1.emit("connection", socket);
      socket.resume();
    }
  };
  socket.on("data", onData);
}

/**
 * The socket as a stream that first yields `head`. HTTP/2 reads a net.Socket
 * through its native handle, past anything unshifted into the JavaScript
 * stream: it gets this stream instead (Node wraps it as it wraps any
 * duplex), at the cost of a JavaScript hop per read and write.
 */
function replay(socket: net.Socket, head: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
    destroy: (error, done) => {
      socket.destroy(error ?? undefined);
      done(error);
    },
  });
  stream.push(head);
  socket.on("data", (chunk: Buffer) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.once("end", () => stream.push(null));
  socket.once("error", (error) => stream.destroy(error));
  socket.once("close", () => stream.destroy());
  socket.resume();
  return stream;
}
