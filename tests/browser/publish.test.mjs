// Publishing in headless Chromium: Publish from the workspace and watch the
// build, open the live app in a new tab as a colleague (signed out first:
// sent to sign in and back), find it in the apps portal, roll back from the
// deployments page. The app's page cannot read the console's cookies or
// call its API with the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated } from './support.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PASSWORD = 'correct horse battery staple';

async function save(page, csrf, project, path, content) {
  const cur = await (await page.request.get(`/api/v1/projects/${project}/file?path=${path}`)).json();
  const r = await page.request.put(`/api/v1/projects/${project}/file?path=${path}`, { data: { content, sha: cur.sha }, headers: { 'x-csrf-token': csrf } });
  assert.equal(r.status(), 200, await r.text());
}

test('publish, open as a colleague, portal, roll back', async () => {
  const page = await newPage(browser, server.url);
  const signup = await page.request.post('/api/v1/auth/signup', { data: { email: 'grace@example.com', name: 'Grace Hopper', password: PASSWORD } });
  assert.equal(signup.status(), 201);
  const csrf = signup.headers()['x-csrf-token'];
  const created = await page.request.post('/api/v1/projects', { data: { name: 'Lunch Menu', description: 'What the canteen serves', template: 'static' }, headers: { 'x-csrf-token': csrf } });
  const project = await created.json();
  await save(page, csrf, project.id, 'index.html', '<!doctype html><title>Menu</title><h1>Soup of the day</h1>\n');

  // Publish from the workspace and watch it go live.
  await page.goto(`/projects/${project.id}/workspace`);
  await hydrated(page, '[data-testid=publish-button]');
  await page.getByTestId('publish-button').click();
  await page.getByTestId('publish-panel').waitFor();
  await page.getByTestId('publish-status').filter({ hasText: 'ready' }).waitFor({ timeout: 30000 });
  await page.getByTestId('live-url').waitFor();
  const live = await page.getByTestId('live-url').getAttribute('href');
  assert.match(live, /^http:\/\/lunch-menu\.apps\.localhost:\d+$/);
  assert.match(await page.getByTestId('publish-log').innerText(), /exporting version/);
  await screenshot(page, 'publish-workspace');

  // Open to everyone with an account, on the deployments page.
  await page.goto(`/projects/${project.id}/deployments`);
  await hydrated(page, '[data-testid=site-save]');
  await page.getByTestId('site-access').selectOption('signed_in');
  await page.getByTestId('site-save').click();
  await page.getByText('Saved.').waitFor();

  // A colleague, signed out, opens the address: sign in on the console, then the app.
  const colleague = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const console_ = server.url.replace('127.0.0.1', 'localhost');
  const reg = await colleague.request.post(`${console_}/api/v1/auth/signup`, { data: { email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD } });
  assert.equal(reg.status(), 201);
  await colleague.clearCookies();
  const tab = await colleague.newPage();
  await tab.goto(live);
  await tab.waitForURL('**/login?**');
  await hydrated(tab);
  await tab.locator('input[name=email]').fill('ada@example.com');
  await tab.locator('input[name=password]').fill(PASSWORD);
  await tab.getByRole('button', { name: 'Sign in' }).click();
  await tab.waitForURL(`${live}/`);
  await tab.getByText('Soup of the day').waitFor();
  await screenshot(tab, 'publish-colleague');

  // The app's page sees no console cookie and cannot use the console's API.
  const seen = await tab.evaluate(async (consoleUrl) => {
    let api;
    try {
      const r = await fetch(`${consoleUrl}/api/v1/me`, { credentials: 'include' });
      api = `read ${r.status}: ${await r.text()}`;
    } catch (e) { api = 'blocked'; }
    return { cookies: document.cookie, api };
  }, console_);
  assert.doesNotMatch(seen.cookies, /autocrea_session|autocrea_csrf|autocrea_app/);
  assert.equal(seen.api, 'blocked', 'cross-origin reads of the console API fail');

  // The portal lists it for the colleague.
  const portal = await colleague.newPage();
  await portal.goto(`${console_}/apps`);
  await portal.getByTestId('app-card').first().waitFor();
  assert.match(await portal.getByTestId('app-card').first().innerText(), /Lunch Menu[\s\S]*What the canteen serves[\s\S]*Grace Hopper/);
  await portal.getByTestId('apps-search').fill('nothing like it');
  await portal.getByTestId('apps-empty').waitFor();
  await screenshot(portal, 'publish-portal');

  // A second version, then roll back to the first from the deployments page.
  await save(page, csrf, project.id, 'index.html', '<!doctype html><title>Menu</title><h1>Pasta today</h1>\n');
  await page.getByTestId('deployments-publish').click();
  // Newest first: the new one is live once built, the first one superseded.
  const rows = page.getByTestId('deployment-row');
  await page.locator('[data-testid=deployment-row]:nth-child(1)[data-live=true][data-status=ready]').waitFor({ timeout: 30000 });
  await page.locator('[data-testid=deployment-row]:nth-child(2)[data-status=superseded]').waitFor();
  assert.equal(await rows.count(), 2);
  await tab.reload();
  await tab.getByText('Pasta today').waitFor();
  await page.getByTestId('promote').click();
  await page.locator('[data-testid=deployment-row]:nth-child(2)[data-live=true]').waitFor();
  await tab.reload();
  await tab.getByText('Soup of the day').waitFor();
  await screenshot(page, 'publish-deployments');
  // The workspace's preview answers 503 here (sandboxes are off): no other problem.
  assert.deepEqual(page.problems.filter((p) => !p.includes('503')), []);
  await colleague.close();
});

test('environment variables: set, shown only as a hint, redeploy offered; auto-deploy after a save', async () => {
  const page = await newPage(browser, server.url);
  const signup = await page.request.post('/api/v1/auth/signup', { data: { email: 'linus@example.com', name: 'Linus', password: PASSWORD } });
  assert.equal(signup.status(), 201);
  const csrf = signup.headers()['x-csrf-token'];
  const created = await page.request.post('/api/v1/projects', { data: { name: 'Env Board', template: 'static' }, headers: { 'x-csrf-token': csrf } });
  const project = await created.json();
  const first = await page.request.post(`/api/v1/projects/${project.id}/deployments`, { data: {}, headers: { 'x-csrf-token': csrf } });
  assert.equal(first.status(), 202);

  await page.goto(`/projects/${project.id}/deployments`);
  await hydrated(page, '[data-testid=env-save]');
  await page.locator('[data-testid=deployment-row][data-live=true]').waitFor({ timeout: 30000 });
  // A build-time name warns that its value is visible to the app's users.
  await page.getByTestId('env-name').fill('VITE_TITLE');
  await page.getByTestId('env-public-warning').waitFor();
  await page.getByTestId('env-name').fill('API_KEY');
  await page.getByTestId('env-public-warning').waitFor({ state: 'detached' });
  await page.getByTestId('env-scope').selectOption('production');
  await page.getByTestId('env-value').fill('sk-browser-secret-77aa');
  await page.getByTestId('env-save').click();
  const row = page.locator('[data-testid=env-row][data-name=API_KEY][data-scope=production]');
  await row.waitFor();
  assert.match(await row.innerText(), /••••77aa/);
  assert.ok(!(await page.content()).includes('sk-browser-secret'), 'the value is not in the page');
  assert.equal(await page.getByTestId('env-value').inputValue(), '');
  // Something is live: the page offers to publish it again with the new value.
  await page.getByTestId('env-redeploy').getByRole('button', { name: /Redeploy/ }).click();
  await page.locator('[data-testid=deployment-row]').nth(1).waitFor();
  await page.locator('[data-testid=deployment-row]:nth-child(1)[data-live=true][data-status=ready]').waitFor({ timeout: 30000 });
  await screenshot(page, 'publish-env');

  // Auto-deploy: on, then a save publishes by itself.
  await page.getByTestId('site-auto-deploy').check();
  await page.getByTestId('site-save').click();
  await page.getByText('Saved.').waitFor();
  await save(page, csrf, project.id, 'index.html', '<!doctype html><title>Board</title><h1>Auto</h1>\n');
  await page.reload();
  await hydrated(page, '[data-testid=env-save]');
  await page.locator('[data-testid=deployment-row]').nth(2).waitFor({ timeout: 30000 });
  await page.locator('[data-testid=deployment-row]:nth-child(1)[data-live=true][data-status=ready]').waitFor({ timeout: 30000 });
  assert.equal(await page.getByTestId('site-auto-deploy').isChecked(), true);
  assert.deepEqual(page.problems.filter((p) => !p.includes('503')), []);
});
