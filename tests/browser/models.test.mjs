// Models in the UI: an admin sees the local worker's state and its log and
// allows a provider; a person stores their own key (shown only by its last
// four characters) and deletes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, csrf } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let browser;

before(async () => {
  // The data folder has no models/ here, so the worker cannot start: the
  // admin page must say so and show why.
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('admin sees the worker and allows a provider; a person stores and deletes a key', async () => {
  const page = await newPage(browser, server.url);
  let r = await page.request.post('/api/v1/auth/signup', { data: { email: 'ada@example.com', name: 'Ada', password: PASSWORD } });
  assert.equal(r.status(), 201);
  r = await page.request.put('/api/v1/admin/llm/policy', {
    headers: { 'X-CSRF-Token': await csrf(page) },
    data: { local: true, providers: [{ id: 'openai', kind: 'openai', base_url: 'https://api.openai.com/v1', enabled: true, models: ['gpt-4.1'] }] },
  });
  assert.equal(r.status(), 200, await r.text());

  await page.goto('/admin?section=models');
  await page.getByTestId('worker-status').waitFor();
  // The worker fails to load its manifest and is restarted with backoff; its stderr is shown.
  for (let i = 0; i < 100; i++) {
    const state = await page.locator('[data-testid=worker-status] .badge').textContent();
    const log = await page.getByTestId('worker-log').textContent();
    if (state === 'restarting' && log.includes('models.toml')) break;
    await page.waitForTimeout(200);
    await page.getByRole('button', { name: 'Refresh' }).click();
  }
  assert.equal(await page.locator('[data-testid=worker-status] .badge').textContent(), 'restarting');
  await page.locator('details summary').click();
  assert.match(await page.getByTestId('worker-log').textContent(), /models\.toml/);
  // The policy is a form now: the provider's fields, not JSON.
  assert.equal(await page.getByTestId('policy-form').locator('input[name=provider-id]').inputValue(), 'openai');
  assert.equal(await page.getByTestId('policy-form').locator('input[name=provider-models]').inputValue(), 'gpt-4.1');
  await screenshot(page, 'admin-models');

  await page.goto('/profile');
  await hydrated(page, '[data-testid=provider-key-form] button[type=submit]');
  await page.getByTestId('no-provider-keys').waitFor();
  await page.getByLabel('Provider').selectOption('openai');
  await page.getByLabel('API key').fill('sk-browser-secret-9876');
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByTestId('provider-key-list').waitFor();
  assert.match(await page.getByTestId('provider-key-list').textContent(), /…9876/);
  assert.ok(!(await page.content()).includes('browser-secret'), 'the key itself never comes back');
  await screenshot(page, 'profile-provider-key');
  await page.getByTestId('provider-key-list').getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('no-provider-keys').waitFor();
  assert.deepEqual(page.problems, []);
});

test('admin adds a provider at run time with a shared key; a project picks its model and mode', async () => {
  const page = await newPage(browser, server.url);
  let r = await page.request.post('/api/v1/auth/login', { data: { email: 'ada@example.com', password: PASSWORD } });
  assert.equal(r.status(), 200, await r.text());
  r = await page.request.put('/api/v1/admin/llm/policy', {
    headers: { 'X-CSRF-Token': await csrf(page) },
    data: { local: true, providers: [{ id: 'team', kind: 'openai', base_url: 'http://127.0.0.1:9/v1', enabled: true, models: ['coder-32b'], tools: 'text', context: 16384 }] },
  });
  assert.equal(r.status(), 200, await r.text());

  await page.goto('/admin?section=models');
  await hydrated(page, '[data-testid=shared-key-form] button[type=submit]');
  await page.getByTestId('no-shared-keys').waitFor();
  await page.getByLabel('Provider id').fill('team');
  await page.getByLabel('Shared API key').fill('sk-team-shared-4321');
  await page.getByRole('button', { name: 'Save shared key' }).click();
  await page.getByTestId('shared-key-list').waitFor();
  assert.match(await page.getByTestId('shared-key-list').textContent(), /team.*…4321/);
  assert.ok(!(await page.content()).includes('team-shared'), 'the key itself never comes back');
  await screenshot(page, 'admin-shared-key');

  // A project uses the provider's model with the shared key, in full mode.
  r = await page.request.post('/api/v1/projects', { headers: { 'X-CSRF-Token': await csrf(page) }, data: { name: 'Team app' } });
  assert.equal(r.status(), 201, await r.text());
  const project = await r.json();
  await page.goto(`/projects/${project.id}/settings`);
  await hydrated(page, '[data-testid=agent-settings] button[type=submit]');
  await page.locator('select[name=agent-model]').selectOption('team/coder-32b');
  await page.locator('select[name=agent-mode]').selectOption('full');
  await page.getByRole('button', { name: 'Save agent settings' }).click();
  await page.getByText('Saved: team/coder-32b in full mode.').waitFor();
  r = await page.request.get(`/api/v1/projects/${project.id}/agent`);
  assert.deepEqual(await r.json(), { model: 'team/coder-32b', mode: 'full' });
  await page.reload();
  await hydrated(page, '[data-testid=agent-settings] button[type=submit]');
  await page.waitForFunction(() => document.querySelector('select[name=agent-mode]').value === 'full');
  assert.equal(await page.locator('select[name=agent-model]').inputValue(), 'team/coder-32b');
  await screenshot(page, 'project-agent-settings');
  assert.deepEqual(page.problems, []);
});
