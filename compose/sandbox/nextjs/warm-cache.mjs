// Image build step: start `next dev` on the template's starter files, fetch
// the home page once, wait until Turbopack has written its file-system cache
// (it does so a few seconds after the compile, once idle; stopping the server
// sooner leaves an empty one), stop the server and keep the cache. Fails the build when no cache
// appears, so an image never silently ships without one.
//   node warm-cache.mjs PROJECT_DIR OUT_DIR
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const [project, out] = process.argv.slice(2);
const port = 3999;
const server = spawn("next", ["dev", "--hostname", "127.0.0.1", "--port", String(port)], {
  cwd: project,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, NEXT_IGNORE_INCORRECT_LOCKFILE: "1" },
});
const exited = new Promise((resolve) => server.on("exit", resolve));

const deadline = Date.now() + 180_000;
let status = 0;
while (Date.now() < deadline) {
  try {
    status = (await fetch(`http://127.0.0.1:${port}/`)).status;
    if (status === 200) break;
  } catch {
    // not listening yet
  }
  await new Promise((r) => setTimeout(r, 200));
}
const cache = join(project, ".next/dev/cache/turbopack");
const size = (dir) =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true }).reduce((n, f) => n + statSync(join(dir, f)).size, 0)
    : 0;
// Written once it has stayed the same size (over 1 MB) for 3 s.
let last = -1;
let stableSince = Date.now();
while (status === 200 && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 500));
  const now = size(cache);
  if (now !== last) [last, stableSince] = [now, Date.now()];
  else if (now > 1 << 20 && Date.now() - stableSince >= 3000) break;
}
server.kill("SIGINT");
await exited;
if (status !== 200) throw new Error(`the starter page answered ${status || "nothing"}`);
if (last <= 1 << 20) throw new Error(`next dev wrote no cache at ${cache} (${last} bytes)`);
cpSync(cache, out, { recursive: true });
console.log(`Turbopack cache of ${(last / 1e6).toFixed(1)} MB kept in ${out}`);
