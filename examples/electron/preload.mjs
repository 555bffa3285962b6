// Preload of the greeter window: only static imports, and the API is exposed
// as this module runs, before any script of the page; nothing is awaited
// first (expose-greeter.mjs says why calls may still come before the service
// is up).
import { contextBridge } from "electron";

import { exposeGreeter } from "./expose-greeter.mjs";

const greeter = exposeGreeter(contextBridge, process.argv);
window.addEventListener("beforeunload", () => void greeter.close());
