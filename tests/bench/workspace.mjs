// Workspace first-load benchmark (issue #7): a signed-in person opens a
// project's workspace from loopback in headless Chromium with an empty cache.
// Prints the bytes transferred (compressed, as on the wire) by the console's
// origin and by the preview frame, split by kind, and the time to interactive:
// navigation start to the chat accepting a message with the editor mounted
// (the Monaco language workers load only when a file of their language opens).
//
//   cargo build --release -p autocrea   (after installer/build-frontend.sh)
//   AUTOCREA_BIN=$CARGO_TARGET_DIR/release/autocrea node tests/bench/workspace.mjs [--runs 5]
import { startServer, launchBrowser } from '../browser/support.mjs';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const PASSWORD = 'correct horse battery staple 42';
const server = await startServer({ AUTOCREA_SANDBOX: process.env.AUTOCREA_SANDBOX || 'on' });
const browser = await launchBrowser();
const setup = await browser.newContext({ baseURL: server.url });
const api = setup.request;
await api.post('/api/v1/auth/signup', { data: { email: 'bench@example.com', name: 'Bench', password: PASSWORD } });
const csrf = (await setup.cookies()).find((c) => c.name.endsWith('autocrea_csrf')).value;
const project = await (await api.post('/api/v1/projects', { headers: { 'X-CSRF-Token': csrf }, data: { name: 'Bench', template: 'static' } })).json();
const state = await setup.storageState();

const results = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ baseURL: server.url, storageState: state, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const requests = new Map();
  cdp.on('Network.responseReceived', (e) => requests.set(e.requestId, { url: e.response.url, type: e.type }));
  const bytes = { console: 0, byKind: {} };
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    if (!r) return;
    if (new URL(r.url).host.startsWith('p-')) return;
    bytes.console += e.encodedDataLength;
    {
      const kind = r.url.includes('/assets/monaco/') ? 'editor' : r.url.includes('/pkg/') ? 'app (wasm+js)' : r.type === 'Document' ? 'page' : r.url.includes('/api/') ? 'api' : 'other assets';
      bytes.byKind[kind] = (bytes.byKind[kind] || 0) + e.encodedDataLength;
    }
  });
  await page.goto(`/projects/${project.id}/workspace`, { waitUntil: 'commit' });
  await page.locator('[data-testid=send-message]').waitFor();
  await page.waitForFunction(() => window.monaco && window.AutocreaWorkspace.ready());
  const tti = await page.evaluate(() => performance.now());
  await page.waitForLoadState('networkidle');
  const workers = await page.evaluate(() => performance.getEntriesByType('resource').filter((r) => /worker/i.test(r.name)).length);
  results.push({ tti, bytes, workers });
  await context.close();
}
await browser.close();
await server.stop();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
const last = results[results.length - 1].bytes;
console.log(`workspace first load from loopback, ${runs} runs, empty cache, 1440x900:`);
console.log(`  bytes from the console origin (compressed): median ${kb(median(results.map((r) => r.bytes.console)))} (target < 3 MB); ` +
  Object.entries(last.byKind).map(([k, v]) => `${k} ${kb(v)}`).join(', '));
// The preview frame is another site, so Chromium loads it in its own process
// and its requests are not seen here: they are the user's app, not the workspace.
console.log(`  time to interactive (chat ready, editor mounted): median ${median(results.map((r) => r.tti)).toFixed(0)} ms, ` +
  `max ${Math.max(...results.map((r) => r.tti)).toFixed(0)} ms (target < 1500 ms); language workers loaded: ${results[0].workers}`);
