// The window's security settings, kept apart from main.cjs so that they run
// (and are tested) without Electron: the page's custom protocol and its
// response headers, and the lock-down of navigation, new windows, <webview>
// and permission requests. Electron's security checklist is the reference:
// https://www.electronjs.org/docs/latest/tutorial/security
const { readFile } = require("node:fs/promises");
const path = require("node:path");

/** The page is served as app://greeter/...: a custom, privileged scheme. */
const SCHEME = "app";
const HOST = "greeter";
const ORIGIN = `${SCHEME}://${HOST}`;

/**
 * For protocol.registerSchemesAsPrivileged (before the app is ready):
 * standard (an origin, relative URLs) and secure (a secure context, needed
 * for cross-origin isolation). Not corsEnabled: other origins cannot read it.
 */
const PRIVILEGED_SCHEMES = [
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
];

/**
 * Headers on every response. COOP + COEP make the page cross-origin isolated,
 * which SharedArrayBuffer needs (file:// pages get no headers at all, hence
 * the custom protocol); CORP lets the isolated page load its own resources.
 */
const ISOLATION_HEADERS = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
};

const CONTENT_TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

function respond(status, body, contentType = "text/plain; charset=utf-8") {
  return new Response(body, { status, headers: { ...ISOLATION_HEADERS, "Content-Type": contentType } });
}

/**
 * The protocol.handle handler: GET app://greeter/<file> answers the file
 * under `pageDir` (index.html for /) with ISOLATION_HEADERS. Other hosts,
 * paths that leave pageDir, unknown file types and other methods are refused.
 */
function createPageHandler(pageDir) {
  const root = path.resolve(pageDir);
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return respond(405, "method not allowed");
    if (!isAppUrl(request.url)) return respond(404, "not found");
    const url = new URL(request.url);
    let relative;
    try {
      relative = decodeURIComponent(url.pathname);
    } catch {
      return respond(400, "bad path");
    }
    const file = path.resolve(root, `.${relative === "/" ? "/index.html" : relative}`);
    const contentType = CONTENT_TYPES[path.extname(file)];
    if (!file.startsWith(root + path.sep) || contentType === undefined) return respond(404, "not found");
    try {
      return respond(200, request.method === "HEAD" ? null : await readFile(file), contentType);
    } catch {
      return respond(404, "not found");
    }
  };
}

/**
 * Only the app's own pages may be shown. (Scheme and host, not `origin`:
 * Node's URL gives custom schemes the origin "null".)
 */
function isAppUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${SCHEME}:` && parsed.host === HOST;
  } catch {
    return false;
  }
}

/**
 * For every webContents (app.on("web-contents-created")): no navigation away
 * from the app, no new windows, no <webview>.
 */
function lockDown(contents) {
  contents.on("will-navigate", (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on("will-redirect", (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: "deny" }));
}

/** The page asks for no permission (camera, notifications, ...): refuse all. */
function denyPermissions(session) {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

module.exports = {
  SCHEME,
  ORIGIN,
  PRIVILEGED_SCHEMES,
  ISOLATION_HEADERS,
  createPageHandler,
  isAppUrl,
  lockDown,
  denyPermissions,
};
