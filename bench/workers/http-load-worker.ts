/**
 * The HTTP load of bench/gateway.ts, on a thread of its own so that it does
 * not share the server's event loop: `connections` keep-alive connections,
 * each sending one POST after another for `durationMs`. Every request
 * carries a unique id in its bytes field and its reply must carry it back:
 * a reply that is missing, fails, or carries another id is counted.
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";

export interface LoadSpec {
  /** Full URL of the method or route. */
  url: string;
  connections: number;
  durationMs: number;
  /** Bytes of the message's `data` field (at least 16: the id). */
  payloadBytes: number;
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** Replies carrying another request's id. */
  crossed: number;
  firstError: string | undefined;
  /** Round trips of the successful requests, in µs. */
  latencies: Float64Array;
  elapsedMs: number;
}

const spec = workerData as LoadSpec;
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
const target = new URL(spec.url);

function post(body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { agent, host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) }, timeout: 10_000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) resolve(text);
          else reject(new Error(`HTTP ${response.statusCode}: ${text}`));
        });
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("no reply in 10 s")));
    request.on("error", reject);
    request.end(body);
  });
}

async function connection(index: number, until: number, result: LoadResult, latencies: number[]): Promise<void> {
  const payload = Buffer.alloc(spec.payloadBytes, 0x2e);
  for (let seq = 0; performance.now() < until; seq++) {
    payload.write(`${index.toString(36)}:${seq.toString(36)}`.padEnd(16, "."), 0, "latin1");
    const data = payload.toString("base64");
    const start = performance.now();
    try {
      const reply = JSON.parse(await post(`{"data":"${data}"}`)) as { data?: string };
      latencies.push((performance.now() - start) * 1000);
      if (reply.data === data) result.ok++;
      else result.crossed++;
    } catch (error) {
      result.failed++;
      result.firstError ??= error instanceof Error ? error.message : String(error);
    }
  }
}

const result: LoadResult = { ok: 0, failed: 0, crossed: 0, firstError: undefined, latencies: new Float64Array(0), elapsedMs: 0 };
const latencies: number[] = [];
const start = performance.now();
await Promise.all(Array.from({ length: spec.connections }, (_, i) => connection(i, start + spec.durationMs, result, latencies)));
result.elapsedMs = performance.now() - start;
result.latencies = Float64Array.from(latencies);
agent.destroy();
parentPort!.postMessage(result, [result.latencies.buffer as ArrayBuffer]);
