// The sandbox on the project page: start it, see it ready, open the live
// preview on its own origin (p-<id>.localhost), and see a change reach the
// open preview through live reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, removeSandboxes, csrf } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let browser;
let instance; // this server's label on the Docker engine

before(async () => {
  server = await startServer({ AUTOCREA_SANDBOX: 'on' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeSandboxes(instance);
});

test('start a sandbox, open its preview, and watch a change reload it', async () => {
  const page = await newPage(browser, server.url);
  let r = await page.request.post('/api/v1/auth/signup', { data: { email: 'ada@example.com', name: 'Ada', password: PASSWORD } });
  assert.equal(r.status(), 201);
  r = await page.request.post('/api/v1/projects', { headers: { 'X-CSRF-Token': await csrf(page) }, data: { name: 'Landing', template: 'static' } });
  assert.equal(r.status(), 201);
  const project = await r.json();
  instance = (await (await page.request.get('/api/v1/admin/sandboxes')).json()).instance;
  const token = (await (await page.request.post('/api/v1/me/tokens', { headers: { 'X-CSRF-Token': await csrf(page) }, data: { name: 'test' } })).json()).token;

  await page.goto(`/projects/${project.id}`);
  await hydrated(page, '[data-testid=sandbox] button');
  assert.equal(await page.getByTestId('sandbox-state').textContent(), 'stopped');
  assert.match(await page.getByTestId('preview-url').textContent(), new RegExp(`^http://p-${project.id}\\.localhost:\\d+/$`));
  await page.getByRole('button', { name: 'Start' }).click();
  await page.locator('[data-testid=sandbox-state]', { hasText: 'ready' }).waitFor({ timeout: 60000 });
  await screenshot(page, 'project-sandbox-ready');

  const [preview] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByTestId('open-preview').click(),
  ]);
  await preview.waitForLoadState('load');
  assert.equal(new URL(preview.url()).host, `p-${project.id}.localhost:${new URL(server.url).port}`);
  assert.equal(await preview.locator('h1').textContent(), 'Hello from AUTOCREA');
  // The console's cookies stay on the console's origin.
  const previewCookies = await page.context().cookies(preview.url());
  assert.deepEqual(previewCookies.map((c) => c.name), ['autocrea_preview']);
  assert.equal(previewCookies[0].httpOnly, true);
  await screenshot(preview, 'preview-static');

  // A change through the API (a commit) reaches the open page by live reload.
  const current = await page.request.get(`/git/api/v1/repos/ada/landing/contents/index.html`, { headers: { Authorization: `token ${token}` } });
  assert.equal(current.status(), 200, await current.text());
  const sha = (await current.json()).sha;
  const html = '<!doctype html><html><head><title>v2</title></head><body><h1>Changed while you watched</h1></body></html>\n';
  r = await page.request.put(`/git/api/v1/repos/ada/landing/contents/index.html`, {
    headers: { Authorization: `token ${token}` },
    data: { content: Buffer.from(html).toString('base64'), sha, message: 'Change the heading' },
  });
  assert.ok(r.ok(), await r.text());
  await preview.locator('h1', { hasText: 'Changed while you watched' }).waitFor({ timeout: 15000 });
  await screenshot(preview, 'preview-live-reloaded');

  await page.getByRole('button', { name: 'Stop' }).click();
  await page.locator('[data-testid=sandbox-state]', { hasText: 'stopped' }).waitFor({ timeout: 30000 });
  assert.deepEqual(page.problems, []);
});
