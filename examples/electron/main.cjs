// Electron main process of the greeter example (README.md):
//   npx electron examples/electron/main.cjs --service <library> --client <greeter_pb.js>
// Nothing of shmrpc runs here: the preload owns the channel. app.cjs does the
// work (the privileged scheme must be registered before `ready`, so this file
// starts it at once).
const electron = require("electron");

const { parseArgs, startApp } = require("./app.cjs");

startApp(electron, parseArgs(process.argv)).catch((error) => {
  console.error(error);
  electron.app.exit(1);
});
