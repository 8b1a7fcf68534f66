// The `static` template's dev server: serves a folder, and reloads open pages
// when a file in it changes (a WebSocket at /__livereload). Node's standard
// library only, so the image needs no npm packages for it.
//
//   node static-server.mjs [--root DIR] [--port N]
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { promises as fsp, watch } from "node:fs";
import { join, normalize, extname, sep } from "node:path";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const root = normalize(arg("--root", process.cwd()));
const port = Number(arg("--port", "8000"));

const TYPES = {
  ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
  ".gif": "image/gif", ".webp": "image/webp", ".ico": "image/x-icon", ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff", ".woff2": "font/woff2", ".wasm": "application/wasm", ".map": "application/json",
};
const RELOAD_CLIENT = `<script>(function(){var d=1000;function c(){var w=new WebSocket((location.protocol==="https:"?"wss://":"ws://")+location.host+"/__livereload");w.onmessage=function(){location.reload()};w.onclose=function(){setTimeout(c,d)}}c()})();</script>`;

async function serve(req, res) {
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  } catch {
    res.writeHead(400).end("bad path");
    return;
  }
  let file = normalize(join(root, path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end("forbidden");
    return;
  }
  try {
    let st = await fsp.stat(file);
    if (st.isDirectory()) {
      file = join(file, "index.html");
      st = await fsp.stat(file);
    }
    let body = await fsp.readFile(file);
    const type = TYPES[extname(file).toLowerCase()] || "application/octet-stream";
    if (type.startsWith("text/html")) {
      const html = body.toString("utf8");
      const at = html.lastIndexOf("</body>");
      body = Buffer.from(at >= 0 ? html.slice(0, at) + RELOAD_CLIENT + html.slice(at) : html + RELOAD_CLIENT);
    }
    res.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(`not found: ${path}`);
  }
}

const clients = new Set();
const server = createServer((req, res) => {
  serve(req, res).catch((e) => {
    console.error(e);
    res.writeHead(500).end();
  });
});
// A minimal RFC 6455 server: the handshake, then text frames out; frames in
// are ignored (a close just drops the socket).
server.on("upgrade", (req, socket) => {
  const key = req.headers["sec-websocket-key"];
  if (!req.url.startsWith("/__livereload") || !key) {
    socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
    return;
  }
  const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  clients.add(socket);
  socket.on("data", (d) => { if (d.length && (d[0] & 0x0f) === 0x8) socket.end(); });
  socket.on("close", () => clients.delete(socket));
  socket.on("error", () => clients.delete(socket));
});

function broadcast(text) {
  const payload = Buffer.from(text);
  const frame = Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  for (const s of clients) s.write(frame);
}

// Watch every folder (Node 18 has no recursive fs.watch on Linux); new
// folders are picked up on the next change. Bursts of events become one reload.
const watched = new Map();
let timer = null;
function changed(name) {
  clearTimeout(timer);
  timer = setTimeout(() => {
    console.log(`[static] changed: ${name || "?"}; reloading ${clients.size} page(s)`);
    broadcast("reload");
    scan(root).catch(() => {});
  }, 60);
}
async function scan(dir) {
  if (!watched.has(dir)) {
    try {
      watched.set(dir, watch(dir, (_ev, name) => changed(name)));
    } catch {
      return;
    }
  }
  let entries = [];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    watched.get(dir)?.close();
    watched.delete(dir);
    return;
  }
  for (const e of entries) {
    if (e.isDirectory() && e.name !== "node_modules" && !e.name.startsWith(".")) await scan(join(dir, e.name));
  }
}

await scan(root);
server.listen(port, "0.0.0.0", () => console.log(`[static] serving ${root} on http://0.0.0.0:${port}`));
