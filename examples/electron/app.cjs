// The main process's work, given the electron module: main.cjs passes the
// real one; tests pass a small fake of the parts used here.
const path = require("node:path");

const security = require("./security.cjs");

/**
 * Starts the app: the privileged scheme (synchronously, before `ready`), then
 * on `ready` the page handler, the lock-down and the window. `service` is the
 * greeter service library, `client` the compiled generated client
 * (greeter_pb.js); both reach the preload as command-line switches.
 */
function startApp(electron, { service, client }) {
  const { app, protocol, session, BrowserWindow } = electron;
  protocol.registerSchemesAsPrivileged(security.PRIVILEGED_SCHEMES);
  app.on("web-contents-created", (_event, contents) => security.lockDown(contents));
  app.on("window-all-closed", () => app.quit());
  return app.whenReady().then(() => {
    protocol.handle(security.SCHEME, security.createPageHandler(path.join(__dirname, "page")));
    security.denyPermissions(session.defaultSession);
    const window = new BrowserWindow({
      width: 720,
      height: 480,
      webPreferences: {
        preload: path.join(__dirname, "preload.mjs"),
        contextIsolation: true, // the page cannot reach Node or the preload's objects
        nodeIntegration: false,
        sandbox: false, // a sandboxed preload cannot load the native addon
        additionalArguments: [`--greeter-service=${path.resolve(service)}`, `--greeter-client=${path.resolve(client)}`],
      },
    });
    return window.loadURL(`${security.ORIGIN}/index.html`).then(() => window);
  });
}

/** --service LIB --client FILE from the command line; throws a usage error. */
function parseArgs(argv) {
  const value = (flag) => {
    const at = argv.indexOf(flag);
    return at === -1 ? undefined : argv[at + 1];
  };
  const service = value("--service");
  const client = value("--client");
  if (service === undefined || client === undefined) {
    throw new Error("usage: electron main.cjs --service <libshmrpc_greeter.so> --client <greeter_pb.js>");
  }
  return { service, client };
}

module.exports = { startApp, parseArgs };
