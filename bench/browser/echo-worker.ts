/** The postMessage peer of the browser benchmark: answers every message. */
const scope = globalThis as unknown as { onmessage: (event: MessageEvent) => void; postMessage(message: unknown): void };
scope.onmessage = (event) => scope.postMessage(event.data);
