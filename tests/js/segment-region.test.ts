/**
 * A segment inside a larger shared buffer: formatSegment at an offset, the
 * checks of a region (alignment, bounds, type), and two channels talking
 * over a region without touching a byte outside it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";

import {
  AtomicsDoorbell,
  Channel,
  FrameType,
  SEGMENT_ALIGNMENT,
  createSegment,
  formatSegment,
  isShmrpcError,
  segmentSize,
  validateSegment,
  type Message,
} from "../../js/src/index.js";
import { readVector } from "./helpers/vectors.js";

const isCode = (code: string) => (error: unknown) => isShmrpcError(error) && error.code === code;
const GUARD = 0xa5;

/** A buffer of guard bytes with room for a 64/128 segment at `offset` and `after` bytes behind it. */
function guardedBuffer(offset: number, after = 256): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(offset + segmentSize(64, 128) + after);
  new Uint8Array(sab).fill(GUARD);
  return sab;
}

/** The bytes outside [offset, offset + length) are all still guard bytes. */
function assertGuardsIntact(sab: SharedArrayBuffer, offset: number, length: number): void {
  const bytes = new Uint8Array(sab);
  const outside = [...bytes.subarray(0, offset), ...bytes.subarray(offset + length)];
  assert.ok(
    outside.every((b) => b === GUARD),
    "a byte outside the region changed",
  );
}

describe("formatSegment", () => {
  test("writes the golden fresh segment at an offset and touches nothing else", () => {
    for (const offset of [0, 4, 64, 4096 + 4]) {
      const sab = guardedBuffer(offset);
      const region = formatSegment(sab, offset, { capacityC2S: 64, capacityS2C: 128 });
      assert.equal(region.buffer, sab);
      assert.equal(region.byteOffset, offset);
      assert.equal(region.byteLength, 576);
      assert.deepEqual(new Uint8Array(region), readVector("channel/segment_init_64_128.bin"), `offset ${offset}`);
      assertGuardsIntact(sab, offset, 576);
      assert.equal(validateSegment(region).capacityS2C, 128);
    }
  });

  test("clears what an earlier segment left in the region", () => {
    const sab = guardedBuffer(64);
    const first = formatSegment(sab, 64, { capacityC2S: 64, capacityS2C: 128 });
    first.fill(0x33, 384);
    const again = formatSegment(sab, 64, { capacityC2S: 128, capacityS2C: 64 });
    assert.ok(again.subarray(384).every((b) => b === 0));
    assert.equal(validateSegment(again).capacityC2S, 128);
  });

  test("refuses a misaligned offset and a segment that does not fit with EINVAL", () => {
    const sab = guardedBuffer(64, 0);
    for (const offset of [1, 2, 6, 63, -4, 0.5, Number.NaN]) {
      assert.throws(() => formatSegment(sab, offset, { capacityC2S: 64, capacityS2C: 128 }), isCode("EINVAL"), String(offset));
    }
    assert.throws(() => formatSegment(sab, 68, { capacityC2S: 64, capacityS2C: 128 }), isCode("EINVAL"));
    assert.throws(() => formatSegment(sab, 64, { capacityC2S: 64, capacityS2C: 256 }), isCode("EINVAL"));
    assertGuardsIntact(sab, 0, 0);
  });

  test("refuses a buffer that is not shared with a TypeError", () => {
    assert.throws(() => formatSegment(new ArrayBuffer(4096) as unknown as SharedArrayBuffer, 0), TypeError);
  });
});

describe("a region as the segment", () => {
  test("is checked for alignment, bounds and type", () => {
    const sab = guardedBuffer(64);
    formatSegment(sab, 64, { capacityC2S: 64, capacityS2C: 128 });
    assert.equal(SEGMENT_ALIGNMENT, 4);
    assert.equal(validateSegment({ buffer: sab, byteOffset: 64, byteLength: 576 }).capacityC2S, 64);
    // Misaligned: a clear EINVAL, not a RangeError from an Int32Array.
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: 66, byteLength: 576 }), isCode("EINVAL"));
    assert.throws(() => new Channel({ buffer: sab, byteOffset: 62, byteLength: 576 }), /multiple of 4/);
    // Outside the buffer.
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: 64, byteLength: sab.byteLength }), /do not fit/);
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: sab.byteLength + 4, byteLength: 0 }), isCode("EINVAL"));
    // The wrong length for the header: the usual EPROTO.
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: 64, byteLength: 580 }), isCode("EPROTO"));
    // An offset where no segment is.
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: 0, byteLength: 576 }), isCode("EPROTO"));
    // Not shared memory.
    assert.throws(() => validateSegment(new Uint8Array(576)), TypeError);
    assert.throws(() => new Channel({ buffer: new ArrayBuffer(1024), byteOffset: 0, byteLength: 576 }), TypeError);
    assert.throws(() => new AtomicsDoorbell(new Uint8Array(64)), TypeError);
    assert.throws(() => validateSegment({ buffer: sab, byteOffset: "64", byteLength: 576 } as never), TypeError);
  });

  test("carries messages both ways between two channels, inside its bounds only", async () => {
    const offset = 4096 + 64;
    const sab = guardedBuffer(offset, 4096);
    const region = formatSegment(sab, offset, { capacityC2S: 64, capacityS2C: 128 });
    const client = new Channel(region, { side: "client" });
    const server = new Channel({ buffer: sab, byteOffset: offset, byteLength: region.byteLength }, { side: "server" });
    try {
      const received: Message[] = [];
      const stop = server.onMessage((message) => {
        received.push(message);
        void server.send(message.type, message.data);
      });
      const replies = client[Symbol.asyncIterator]();
      // 20 messages of 40 bytes through 64- and 128-byte rings: they wrap and fragment.
      const sent: Message[] = [];
      for (let i = 0; i < 20; i++) {
        const message: Message =
          i % 2 === 0
            ? { type: FrameType.TEXT, data: `message ${i}`.padEnd(40, ".") }
            : { type: FrameType.BINARY, data: new Uint8Array(40 + i * 5).fill(i) };
        sent.push(message);
        await client.send(message.type, message.data);
        const reply = await replies.next();
        assert.deepEqual(reply.value, message);
      }
      assert.deepEqual(received, sent);
      stop();
      assertGuardsIntact(sab, offset, region.byteLength);
    } finally {
      client.close();
      server.close();
    }
  });

  test("can be a segment inside a shared WebAssembly.Memory", async () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
    const buffer = memory.buffer as unknown as SharedArrayBuffer;
    assert.ok(buffer instanceof SharedArrayBuffer);
    const region = formatSegment(buffer, 65536 + 128, { capacityC2S: 1024, capacityS2C: 1024 });
    const client = new Channel(region, { side: "client" });
    const server = new Channel(region, { side: "server" });
    try {
      const incoming = server[Symbol.asyncIterator]();
      await client.send(FrameType.TEXT, "into wasm memory");
      assert.deepEqual((await incoming.next()).value, { type: FrameType.TEXT, data: "into wasm memory" });
      // The first page, where a module's own data would live, is untouched.
      assert.ok(new Uint8Array(buffer, 0, 65536 + 128).every((b) => b === 0));
    } finally {
      client.close();
      server.close();
    }
  });

  test("without SharedArrayBuffer (a page that is not cross-origin isolated) the runtime loads and says why it cannot run", () => {
    const entry = new URL("../../js/src/index.js", import.meta.url).href;
    const script = `
      const shmrpc = await import(${JSON.stringify(entry)});
      const attempts = [() => shmrpc.createSegment(), () => new shmrpc.Channel({ buffer: new ArrayBuffer(576), byteOffset: 0, byteLength: 576 })];
      console.log(JSON.stringify({ shared: typeof SharedArrayBuffer, errors: attempts.map((attempt) => {
        try { attempt(); return "no error"; } catch (error) { return error.name + ": " + error.message; }
      }) }));`;
    // V8 leaves SharedArrayBuffer out of the global object with this flag, as a browser does without isolation.
    const output = execFileSync(process.execPath, ["--enable-sharedarraybuffer-per-context", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
    const { shared, errors } = JSON.parse(output) as { shared: string; errors: string[] };
    assert.equal(shared, "undefined");
    for (const error of errors) assert.match(error, /^TypeError: SharedArrayBuffer is not available: .*cross-origin isolated/);
  });

  test("a whole SharedArrayBuffer is still a segment", () => {
    const sab = createSegment({ capacityC2S: 64, capacityS2C: 64 });
    const channel = new Channel(sab);
    assert.equal(channel.state, "open");
    channel.close();
  });
});
