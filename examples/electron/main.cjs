// Electron main process for the greeter demo. Run (with Electron installed,
// after scripts/setup.sh):  npx electron examples/electron/main.cjs
//
// Nothing of shmrpc runs here: the preload script owns the channel. This
// file only creates the window with the settings the preload needs.
const { app, BrowserWindow, session } = require("electron");
const path = require("node:path");

// SharedArrayBuffer needs cross-origin isolation. file:// pages get no
// response headers to set, so also enable it explicitly.
app.commandLine.appendSwitch("enable-features", "SharedArrayBuffer");

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        "Cross-Origin-Opener-Policy": ["same-origin"],
        "Cross-Origin-Embedder-Policy": ["require-corp"],
      },
    });
  });
  const window = new BrowserWindow({
    width: 720,
    height: 480,
    webPreferences: {
      preload: path.join(__dirname, "preload.mjs"),
      contextIsolation: true, // the page cannot reach Node or the preload's objects
      nodeIntegration: false,
      sandbox: false, // a sandboxed preload cannot load the native addon
    },
  });
  window.loadFile(path.join(__dirname, "index.html"));
});

app.on("window-all-closed", () => app.quit());
