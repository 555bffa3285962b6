/**
 * The test page of the original tutorial ("Create React Component for
 * Testing"), in plain DOM, over shmrpc: type a message, send it as a TEXT,
 * BINARY or COMMAND frame to the C echo service (examples/echo, compiled to
 * WebAssembly and run in a Worker), and see the replies listed. Changing the
 * buffer size closes the channel and starts a new one with rings of that
 * size; a message larger than the ring goes through in fragments.
 */
import { FrameType, type Message } from "shmrpc";
import { WasmService, loadWasmModule, type WasmModule } from "shmrpc/browser";

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>("status");
const bufferSize = element<HTMLInputElement>("buffer-size");
const frameType = element<HTMLSelectElement>("frame-type");
const message = element<HTMLInputElement>("message");
const send = element<HTMLButtonElement>("send");
const received = element<HTMLUListElement>("received");

let module: WasmModule | undefined;
let service: WasmService | undefined;
/** Resolves once the channel of the current buffer size is up (or failed). */
let connecting: Promise<void> = Promise.resolve();

function show(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? "error" : "";
}

function describe(reply: Message): string {
  switch (reply.type) {
    case FrameType.TEXT:
      return `TEXT ${reply.data}`;
    case FrameType.BINARY: {
      const head = Array.from(reply.data.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join(" ");
      return `BINARY ${reply.data.length} bytes: ${head}${reply.data.length > 16 ? " …" : ""}`;
    }
    default:
      return `COMMAND ${new TextDecoder().decode(reply.data)}`;
  }
}

async function listen(current: WasmService): Promise<void> {
  try {
    for await (const reply of current.channel) {
      const item = document.createElement("li");
      item.textContent = describe(reply);
      received.append(item);
    }
  } catch (error) {
    if (service === current) show(`the channel failed: ${String(error)}`, true);
  }
}

async function connect(size: number): Promise<void> {
  const previous = service;
  service = undefined;
  await previous?.close();
  try {
    module ??= await loadWasmModule(new URL("/services/echo.wasm", location.href));
    const next = await WasmService.start({ module, capacityC2S: size, capacityS2C: size });
    service = next;
    void listen(next);
    show(`connected to echo.wasm in a Worker; rings of ${size} bytes`);
    document.body.dataset.ringBytes = String(size);
  } catch (error) {
    show(String(error instanceof Error ? error.message : error), true);
  }
}

bufferSize.addEventListener("change", () => {
  const size = Number(bufferSize.value);
  if (!(size >= 64 && size <= 1 << 30 && (size & (size - 1)) === 0)) {
    show(`the buffer size must be a power of two from 64 on, not ${bufferSize.value}`, true);
    return;
  }
  connecting = connecting.then(() => connect(size));
});

async function sendMessage(): Promise<void> {
  await connecting;
  if (service === undefined) return;
  const type = Number(frameType.value) as FrameType;
  const text = message.value;
  try {
    // TEXT goes as a string; BINARY and COMMAND as the text's UTF-8 bytes.
    await service.channel.send(type, type === FrameType.TEXT ? text : new TextEncoder().encode(text));
    message.value = "";
  } catch (error) {
    show(`send failed: ${String(error)}`, true);
  }
}

send.addEventListener("click", () => void sendMessage());
message.addEventListener("keydown", (event) => {
  if (event.key === "Enter") void sendMessage();
});

connecting = connect(Number(bufferSize.value));
