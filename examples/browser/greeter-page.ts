/**
 * The greeter page: the C greeter (examples/greeter/greeter_service.c,
 * compiled to WebAssembly by shmrpc_wasm_service) in a Worker, called with
 * the generated GreeterClient exactly as from Node: a unary call, a
 * server stream with an optional deadline and a Cancel button, and a live
 * round-trip figure. "Terminate the Worker" ends the service mid-call, as a
 * crash would: pending calls fail with UNAVAILABLE and the page carries on.
 */
import { RpcClient, RpcError } from "shmrpc";
import { WasmService, loadWasmModule, type WasmModule } from "shmrpc/browser";
import { GreeterClient } from "../greeter/gen/greeter_pb.js";

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>("status");
const name = element<HTMLInputElement>("name");
const reply = element<HTMLOutputElement>("reply");
const count = element<HTMLInputElement>("count");
const deadline = element<HTMLInputElement>("deadline");
const pace = element<HTMLInputElement>("pace");
const streamButton = element<HTMLButtonElement>("stream");
const cancelButton = element<HTMLButtonElement>("cancel");
const streamStatus = element<HTMLOutputElement>("stream-status");
const greetings = element<HTMLOListElement>("greetings");
const roundTrip = element<HTMLSpanElement>("round-trip");

let module: WasmModule | undefined;
let service: WasmService | undefined;
let greeter: GreeterClient | undefined;
let generation = 0;

function show(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? "error" : "";
}

function describeError(error: unknown): string {
  return error instanceof RpcError ? error.message : String(error);
}

async function start(): Promise<void> {
  try {
    module ??= await loadWasmModule(new URL("/services/greeter.wasm", location.href));
    service = await WasmService.start({ module });
    greeter = new GreeterClient(new RpcClient(service.channel, { streamWindow: 4 }));
    generation++;
    show(`connected to greeter.wasm in a Worker (service #${generation})`);
    document.body.dataset.generation = String(generation);
  } catch (error) {
    show(error instanceof Error ? error.message : String(error), true);
  }
}

element("say-hello").addEventListener("click", async () => {
  try {
    reply.textContent = (await greeter!.sayHello({ name: name.value })).message;
  } catch (error) {
    reply.textContent = describeError(error);
  }
});

let controller: AbortController | undefined;
streamButton.addEventListener("click", async () => {
  controller = new AbortController();
  greetings.replaceChildren();
  streamStatus.textContent = "streaming…";
  cancelButton.disabled = false;
  const timeoutMs = Number(deadline.value);
  const delay = Number(pace.value);
  try {
    const calls = greeter!.streamGreetings(
      { name: name.value, count: Number(count.value) },
      { signal: controller.signal, ...(timeoutMs > 0 && { timeoutMs }) },
    );
    for await (const greeting of calls) {
      const item = document.createElement("li");
      item.textContent = greeting.message;
      greetings.append(item);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
    streamStatus.textContent = `done: ${greetings.childElementCount} greetings`;
  } catch (error) {
    streamStatus.textContent = describeError(error);
  } finally {
    cancelButton.disabled = true;
  }
});
cancelButton.addEventListener("click", () => controller?.abort());

element("terminate").addEventListener("click", () => {
  service?.terminate();
  show("the Worker was terminated: restart the service to go on", true);
});
element("restart").addEventListener("click", async () => {
  await service?.close();
  await start();
});

/** Measures awaited sayHello round trips in batches while the page is open. */
async function measure(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (greeter === undefined || document.hidden) continue;
    const client = greeter;
    const samples: number[] = [];
    try {
      for (let i = 0; i < 200; i++) {
        const started = performance.now();
        await client.sayHello({ name: "rtt" });
        samples.push(performance.now() - started);
      }
    } catch {
      continue; // the service is gone; the next batch uses the new one
    }
    samples.sort((a, b) => a - b);
    roundTrip.textContent = `${(samples[samples.length >> 1]! * 1000).toFixed(1)} µs`;
  }
}

await start();
void measure();
