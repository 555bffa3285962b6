/**
 * The soak run's frames (tests/js/soak/main.ts): frames of mixed types and
 * sizes, each with its sequence number and a checksum, through the C echo
 * service; counts what came back lost, duplicated, reordered or corrupted.
 */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { FrameType, type Message } from "../../../js/src/index.js";
import { packageRoot } from "../../../js/src/native/addon.js";
import { InProcessService } from "../../../js/src/node.js";
import { seededRandom } from "../helpers/seeded.js";
import { MemoryLog } from "./memory-log.js";

const services = process.env.SHMRPC_SERVICES_DIR ?? path.join(packageRoot(), "build/cmake/services");

function fnv1a(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0x811c9dc5;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i]!, 16777619);
  return hash >>> 0;
}

const RING = 64 << 10;
const WINDOW = 512;
/** Frame body: seq u32 LE, checksum u32 LE of the bytes after it, then bytes derived from seq. */
const HEADER = 8;

export async function soakFrames(total: number, seed: number): Promise<Record<string, unknown>> {
  const random = seededRandom(seed);
  const service = new InProcessService({ library: path.join(services, "libshmrpc_channel_test.so"), capacity: RING });
  const channel = service.channel;
  const memory = new MemoryLog();
  const seen = new Uint8Array(Math.ceil(total / 8));
  let sent = 0;
  let received = 0;
  let expected = 0;
  let duplicated = 0;
  let reordered = 0;
  let corrupted = 0;
  let bytes = 0;
  const typeOf = new Uint8Array(1024); // the type of frame seq % 1024, to check types come back

  const sizeFor = (): number => {
    const r = random();
    if (r < 0.7) return HEADER + Math.floor(random() * 56); // small
    if (r < 0.95) return HEADER + Math.floor(random() * 2048); // up to 2 KiB
    if (r < 0.999) return HEADER + Math.floor(random() * 16384); // up to 16 KiB
    return RING + Math.floor(random() * RING); // larger than the ring: fragmented
  };
  const binary = (seq: number, size: number): Uint8Array => {
    const data = new Uint8Array(size);
    const view = new DataView(data.buffer);
    for (let i = HEADER; i < size; i++) data[i] = (seq * 31 + i) & 0xff;
    view.setUint32(0, seq, true);
    view.setUint32(4, fnv1a(data, HEADER, size), true);
    return data;
  };
  const text = (seq: number, size: number): string => {
    let pad = "";
    for (let i = 0; i < size; i++) pad += String.fromCharCode(97 + ((seq + i) % 26));
    return `${seq} ${pad.length} ${pad}`;
  };
  const check = (message: Message): void => {
    let seq: number;
    let ok: boolean;
    if (typeof message.data === "string") {
      const [seqText, lengthText, pad = ""] = message.data.split(" ");
      seq = Number(seqText);
      ok = Number(lengthText) === pad.length && message.data === text(seq, pad.length);
      bytes += message.data.length;
    } else {
      const data = message.data;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      seq = data.byteLength >= HEADER ? view.getUint32(0, true) : -1;
      ok = seq >= 0 && view.getUint32(4, true) === fnv1a(data, HEADER, data.byteLength);
      bytes += data.byteLength;
    }
    if (!ok || !(seq >= 0 && seq < total) || typeOf[seq % 1024] !== message.type) {
      corrupted++;
      return;
    }
    if (seen[seq >> 3]! & (1 << (seq & 7))) {
      duplicated++;
      return;
    }
    seen[seq >> 3]! |= 1 << (seq & 7);
    received++;
    if (seq !== expected) reordered++;
    expected = seq + 1;
  };

  const handled = (): number => received + duplicated + corrupted;
  let waiting = false;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const pump = (): void => {
    while (sent < total && !waiting && sent - handled() < WINDOW) {
      const seq = sent++;
      const size = sizeFor();
      const r = random();
      const type = r < 0.1 ? FrameType.TEXT : r < 0.55 ? FrameType.BINARY : FrameType.COMMAND;
      typeOf[seq % 1024] = type;
      const data = type === FrameType.TEXT ? text(seq, Math.min(size, 4096)) : binary(seq, size);
      if (size > RING / 4 - 5 || !channel.trySend(type, data)) {
        // Fragmented, or the ring is full: send() waits for space; the
        // next frames wait until it is written, so the order holds.
        waiting = true;
        void channel.send(type, data).then(() => {
          waiting = false;
          pump();
        });
        break;
      }
    }
    channel.flush();
  };
  const started = performance.now();
  let lastReport = started;
  let lastSample = started;
  const stop = channel.onMessage(
    (message) => {
      check(message);
      const count = handled();
      if (sent >= total && count >= sent) resolveDone();
      else if (sent - count < WINDOW / 2) pump();
      if ((count & 0x3fff) === 0) {
        const now = performance.now();
        if (now - lastSample > 2000) {
          lastSample = now;
          memory.sample(`${count} frames`);
        }
        if (now - lastReport > 10000) {
          lastReport = now;
          console.error(`frames: ${count} of ${total} (${Math.round(count / ((now - started) / 1000))}/s), rss ${memory.samples.at(-1)!.rssMiB} MiB`);
        }
      }
    },
    { borrow: true },
  );
  memory.sample("start");
  pump();
  // Waits for the last echo; a frame that never comes back ends the wait after 10 s of silence.
  let last = -1;
  while (!(await Promise.race([done.then(() => true), sleep(10000).then(() => false)]))) {
    if (handled() === last) break;
    last = handled();
  }
  memory.sample("end");
  stop();
  const exit = await service.close();
  const seconds = (performance.now() - started) / 1000;
  return {
    frames: total,
    sent,
    received,
    lost: sent - received,
    duplicated,
    reordered,
    corrupted,
    megabytes: Math.round(bytes / 2 ** 20),
    seconds: Math.round(seconds),
    serviceExit: exit,
    memory: memory.flat(),
    samples: memory.samples,
  };
}
