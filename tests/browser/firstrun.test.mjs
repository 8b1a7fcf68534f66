// The first run in headless Chromium: a fresh install greets the first person
// with sign-up; the dashboard's prompt box creates the project, opens its
// workspace and starts the first turn (with a scripted OpenAI-compatible
// model); a turn that cannot start keeps the project and says why; the
// new-project dialog takes and traps focus, closes on Escape and gives focus
// back; no page overflows a 390 px phone; the admin page has sections, a
// form for the provider policy and usage by project name; the local model's
// status is shown where a model is picked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, csrf, scriptedModel, chatReply, offerScriptedModel } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
const PROMPT = 'Build a todo list app with add and delete';
let server;
let browser;
let model;
const asked = []; // the user messages the scripted model was asked

/// One reply per call: it writes index.html on the first call of a turn and
/// ends the turn once it has seen the tool results.
function todoModel() {
  return scriptedModel(({ messages: msgs }, res) => {
    asked.push(msgs.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))).join('\n'));
    const message = msgs.some((m) => m.role === 'tool')
      ? { role: 'assistant', content: 'Built the **todo list**.' }
      : { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'full_file_rewrite',
        arguments: JSON.stringify({ path: 'index.html', content: '<!doctype html>\n<title>Todo</title>\n<h1>Todo list</h1>\n' }) } }] };
    chatReply(res, message);
  });
}

before(async () => {
  model = await todoModel();
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  model?.srv.close();
});

async function signIn(page) {
  const r = await page.request.post('/api/v1/auth/login', { data: { email: 'ada@example.com', password: PASSWORD } });
  assert.equal(r.status(), 200, await r.text());
  return { 'X-CSRF-Token': await csrf(page) };
}

async function noHorizontalOverflow(page, what) {
  const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  assert.ok(scroll <= inner, `${what}: the page is ${scroll} px wide in a ${inner} px window`);
}

test('a fresh install greets the first person with sign-up, not "Welcome back"', async () => {
  const page = await newPage(browser, server.url);
  await page.goto('/');
  assert.match(page.url(), /\/signup$/, 'the first visit lands on sign-up');
  await page.getByTestId('first-run-signup').waitFor();
  assert.match(await page.getByTestId('first-run-signup').innerText(), /administrator/);
  assert.ok(!(await page.content()).includes('Welcome back'));
  await page.goto('/login');
  assert.match(page.url(), /\/signup$/, 'sign-in leads to sign-up while no account exists');
  await screenshot(page, 'first-run-signup');

  await hydrated(page);
  await page.locator('input[name=name]').fill('Ada Lovelace');
  await page.locator('input[name=email]').fill('ada@example.com');
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(server.url + '/');
  const me = await (await page.request.get('/api/v1/me')).json();
  assert.equal(me.is_admin ?? me.user?.is_admin, true, 'the first account is the admin');

  // Once an account exists, signed-out visitors get sign-in ("Welcome back").
  const other = await newPage(browser, server.url);
  await other.goto('/');
  assert.match(other.url(), /\/login\?next=/);
  await other.getByText('Welcome back').waitFor();
  await other.goto('/signup');
  assert.equal(await other.getByTestId('first-run-signup').count(), 0);
  assert.deepEqual(page.problems, []);
  assert.deepEqual(other.problems, []);
});

test('the dashboard prompt creates the project, opens its workspace and runs the first turn', async () => {
  const page = await newPage(browser, server.url);
  const headers = await signIn(page);
  await offerScriptedModel(page, headers, model.url);

  await page.goto('/');
  await page.getByRole('heading', { name: 'What do you want to build?' }).waitFor();
  await hydrated(page, '[data-testid=prompt-submit]');
  await page.getByTestId('prompt-model').locator('option[value="scripted/coder"]').waitFor({ state: 'attached' });
  await page.getByTestId('prompt-template').locator('option[value="static"]').waitFor({ state: 'attached' });
  await page.getByTestId('prompt-template').selectOption('static');
  await page.getByTestId('prompt-model').selectOption('scripted/coder');
  await page.getByTestId('prompt-input').fill(PROMPT);
  await screenshot(page, 'dashboard-prompt');
  await page.getByTestId('prompt-submit').click();
  await page.waitForURL(/\/projects\/[a-z0-9]+\/workspace$/);
  const id = page.url().match(/projects\/([a-z0-9]+)\/workspace/)[1];
  await page.getByTestId('user-message').filter({ hasText: PROMPT }).waitFor({ timeout: 30000 });
  await page.getByTestId('assistant-message').filter({ hasText: 'Built the todo list' }).waitFor({ timeout: 60000 });
  assert.ok(asked.some((m) => m.includes(PROMPT)), 'the model was asked the prompt');
  const project = await (await page.request.get(`/api/v1/projects/${id}`)).json();
  assert.equal(project.name, 'Todo list app');
  assert.equal(project.template, 'static');
  await screenshot(page, 'dashboard-prompt-workspace');
  // Sandboxes are off in this server: the workspace's preview answers 503.
  assert.deepEqual(page.problems.filter((p) => !p.includes('status of 503')), []);
});

test('the dialog builds from the description, lands in the workspace, and says why a turn did not start', async () => {
  const page = await newPage(browser, server.url);
  const headers = await signIn(page);
  // Only the local model, and no worker runs in this test: no turn can start.
  const r = await page.request.put('/api/v1/admin/llm/policy', { headers, data: { local: true, providers: [] } });
  assert.equal(r.status(), 200, await r.text());
  await page.goto('/');
  await hydrated(page, '[data-testid=new-project]');
  await page.getByTestId('new-project').click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.locator('input[name=name]').fill('Recipe book');
  await dialog.locator('textarea[name=description]').fill('A recipe book with photos and a shopping list');
  await dialog.getByTestId('create-project').click();
  await page.waitForURL(/\/projects\/[a-z0-9]+\/workspace$/);
  await page.getByTestId('first-turn-error').waitFor();
  assert.match(await page.getByTestId('first-turn-error').innerText(), /did not start/);
  // Shown once, from this tab's session (a link cannot carry text into it).
  const workspaceUrl = page.url();
  await screenshot(page, 'first-turn-error');
  const list = await (await page.request.get('/api/v1/projects?q=recipe')).json();
  assert.equal(list.projects.length, 1, 'the project is kept');
  assert.equal(list.projects[0].description, 'A recipe book with photos and a shopping list');
  await page.getByTestId('first-turn-error').getByRole('button', { name: 'Dismiss' }).click();
  assert.equal(await page.getByTestId('first-turn-error').count(), 0);
  await page.goto(`${workspaceUrl}?turn_error=${encodeURIComponent('Call +1-555 to restore your account')}`);
  await page.getByTestId('send-message').waitFor();
  assert.equal(await page.getByTestId('first-turn-error').count(), 0, 'not from the URL, not twice');
  // The browser logs the workspace's own requests to a model that is not there.
  page.problems = page.problems.filter((p) => !/status of 50\d|status of 4\d\d/.test(p));
  assert.deepEqual(page.problems, []);
});

test('the new-project dialog takes focus, traps Tab, closes on Escape and gives focus back', async () => {
  const page = await newPage(browser, server.url);
  await signIn(page);
  await page.goto('/');
  await hydrated(page, '[data-testid=new-project]');
  await page.getByTestId('new-project').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.waitFor();
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'name');
  const inside = () => page.evaluate(() => !!document.activeElement?.closest('[role=dialog]'));
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inside(), `Tab ${i + 1} left the dialog (focus on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 80))})`);
  }
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Shift+Tab');
    assert.ok(await inside(), `Shift+Tab ${i + 1} left the dialog`);
  }
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'new-project', 'focus is back on the button');
  // Escape also works with focus on the page behind the dialog's backdrop.
  await page.getByTestId('new-project').click();
  await dialog.waitFor();
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual(page.problems, []);
});

test('phones (390 px): no page is wider than the screen', async () => {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  const r = await page.request.post('/api/v1/auth/login', { data: { email: 'ada@example.com', password: PASSWORD } });
  assert.equal(r.status(), 200);
  const projects = (await (await page.request.get('/api/v1/projects?q=todo')).json()).projects;
  await page.goto('/');
  await hydrated(page, '[data-testid=prompt-submit]');
  await page.getByTestId('project-card').first().waitFor();
  const bar = await page.evaluate(() => { const t = document.querySelector('.topbar-inner'); return { scroll: t.scrollWidth, client: t.clientWidth }; });
  assert.ok(bar.scroll <= bar.client, `the top bar overflows: ${bar.scroll} > ${bar.client}`);
  await noHorizontalOverflow(page, 'dashboard');
  await screenshot(page, 'phone-dashboard');
  await page.goto(`/projects/${projects[0].id}`);
  await page.getByTestId('project-title').waitFor();
  await page.getByTestId('project-settings-link').waitFor();
  await noHorizontalOverflow(page, 'project page');
  for (const testid of ['project-workspace-link', 'project-versions-link', 'project-settings-link']) {
    const box = await page.getByTestId(testid).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `${testid} is clipped: ${JSON.stringify(box)}`);
  }
  await screenshot(page, 'phone-project');
  await page.goto(`/projects/${projects[0].id}/settings`);
  await page.getByTestId('agent-settings').waitFor();
  await noHorizontalOverflow(page, 'project settings');
  for (const section of ['signup', 'people', 'models', 'usage', 'audit']) {
    await page.goto(`/admin?section=${section}`);
    await page.getByTestId(`admin-${section}`).waitFor();
    await page.waitForLoadState('networkidle');
    await noHorizontalOverflow(page, `admin ${section}`);
  }
  await screenshot(page, 'phone-admin-audit');
  await page.goto('/profile');
  await page.getByTestId('provider-keys').waitFor();
  await page.waitForLoadState('networkidle');
  await noHorizontalOverflow(page, 'profile models');
  assert.deepEqual(problems, []);
  await context.close();
});

test('admin: sections, the provider policy as a form, usage by project and person', async () => {
  const page = await newPage(browser, server.url);
  await signIn(page);
  await page.goto('/admin');
  const nav = page.getByTestId('admin-nav');
  await nav.waitFor();
  assert.deepEqual(await nav.locator('a').allInnerTexts(), ['Sign-up', 'People', 'Models & providers', 'Usage', 'Audit log']);
  await page.getByTestId('admin-signup').waitFor();
  assert.equal(await page.getByTestId('user-list').count(), 0, 'one section at a time');
  await nav.getByRole('link', { name: 'People' }).click();
  await page.getByTestId('user-list').getByText('ada@example.com').waitFor();
  assert.equal(await page.getByTestId('admin-signup').count(), 0);

  // The policy as a form: the local model off, a provider added, saved.
  await nav.getByRole('link', { name: 'Models & providers' }).click();
  const form = page.getByTestId('policy-form');
  await form.waitFor();
  await hydrated(page, '[data-testid=policy-form] button[type=submit]');
  assert.equal(await form.locator('textarea').count(), 0, 'no raw JSON');
  assert.equal(await form.getByTestId('policy-provider').count(), 0);
  await form.getByLabel('People may use the local model').uncheck();
  await form.getByTestId('add-provider').click();
  const p = form.getByTestId('policy-provider').first();
  await p.locator('input[name=provider-id]').fill('team');
  await p.locator('select[name=provider-kind]').selectOption('anthropic');
  await p.locator('input[name=provider-base-url]').fill('http://127.0.0.1:9/v1');
  await p.locator('input[name=provider-models]').fill('claude-a, claude-b');
  await p.locator('select[name=provider-tools]').selectOption('text');
  await p.locator('input[name=provider-context]').fill('200000');
  await p.getByLabel('Reads images').check();
  await form.getByTestId('add-provider').click();
  await form.getByTestId('policy-provider').nth(1).locator('input[name=provider-id]').fill('spare');
  await form.getByTestId('policy-provider').nth(1).getByTestId('remove-provider').click();
  assert.equal(await form.getByTestId('policy-provider').count(), 1);
  await form.getByRole('button', { name: 'Save policy' }).click();
  await form.getByText('Saved the policy.').waitFor();
  await screenshot(page, 'admin-policy-form');
  let policy = (await (await page.request.get('/api/v1/admin/llm')).json()).policy;
  assert.deepEqual(policy, { local: false, providers: [{ id: 'team', kind: 'anthropic', base_url: 'http://127.0.0.1:9/v1', enabled: true,
    models: ['claude-a', 'claude-b'], tools: 'text', context: 200000, images: true }] });
  // A bad field is the server's (or the form's) clear error, nothing saved.
  await p.locator('input[name=provider-context]').fill('lots');
  await form.getByRole('button', { name: 'Save policy' }).click();
  await form.getByText('the context is a number of tokens').waitFor();
  await p.locator('input[name=provider-context]').fill('');
  await p.locator('input[name=provider-id]').fill('Bad Id!');
  await form.getByRole('button', { name: 'Save policy' }).click();
  await form.locator('.form-error').filter({ hasText: /id/i }).waitFor();
  policy = (await (await page.request.get('/api/v1/admin/llm')).json()).policy;
  assert.equal(policy.providers[0].id, 'team', 'nothing saved');
  page.problems.length = 0; // the expected 400 of that refusal
  // Reloaded, the form shows what was saved; remove the provider and save.
  await page.reload();
  await hydrated(page, '[data-testid=policy-form] button[type=submit]');
  assert.equal(await form.locator('input[name=provider-id]').inputValue(), 'team');
  assert.equal(await form.locator('input[name=provider-models]').inputValue(), 'claude-a, claude-b');
  assert.equal(await form.getByLabel('People may use the local model').isChecked(), false);
  await form.getByTestId('remove-provider').click();
  await form.getByLabel('People may use the local model').check();
  await form.getByRole('button', { name: 'Save policy' }).click();
  await form.getByText('Saved the policy.').waitFor();
  policy = (await (await page.request.get('/api/v1/admin/llm')).json()).policy;
  assert.deepEqual(policy, { local: true, providers: [] });

  // Usage names the project and the person, not their ids.
  await page.goto('/admin?section=usage');
  const usage = page.getByTestId('usage-list');
  await usage.waitFor();
  const text = await usage.innerText();
  assert.match(text, /Todo list app/);
  assert.match(text, /Ada Lovelace/);
  const ids = (await (await page.request.get('/api/v1/projects')).json()).projects.map((x) => x.id);
  for (const id of ids) assert.ok(!text.includes(id), `usage shows the id ${id}`);
  await screenshot(page, 'admin-usage');
  assert.deepEqual(page.problems, []);
});

test('the local model says what it can do where a model is picked', async () => {
  const page = await newPage(browser, server.url);
  const headers = await signIn(page);
  let r = await page.request.put('/api/v1/admin/llm/policy', { headers, data: { local: true, providers: [] } });
  assert.equal(r.status(), 200, await r.text());
  const status = (await (await page.request.get('/api/v1/llm/providers')).json()).local_status;
  assert.ok(status && typeof status.agent_ready === 'boolean', `the server reports local_status: ${JSON.stringify(status)}`);
  // No worker runs here (no models/ in the data folder): nothing can serve the agent.
  assert.equal(status.agent_ready, false);

  // The dashboard's first-run banner, with the server's message and a way to Admin → Models.
  await page.goto('/');
  const banner = page.getByTestId('local-model-banner');
  await banner.waitFor();
  assert.equal(await banner.getAttribute('data-state'), status.state);
  assert.ok((await banner.innerText()).includes(status.message.trim().split('\n')[0].slice(0, 60)));
  await screenshot(page, 'dashboard-model-banner');
  await banner.getByTestId('banner-admin-models').click();
  await page.waitForURL('**/admin?section=models');
  const state = page.getByTestId('local-model-state');
  await state.waitFor();
  assert.notEqual(await state.innerText(), 'ready', 'ready only when agent_ready');
  assert.equal(await page.getByTestId('local-model-status').getAttribute('data-state'), status.state);

  // The project's model picker says it too.
  const project = (await (await page.request.get('/api/v1/projects?q=todo')).json()).projects[0];
  await page.goto(`/projects/${project.id}/settings`);
  await page.getByTestId('agent-settings').waitFor();
  await page.locator('select[name=agent-model]').waitFor();
  const model = (await (await page.request.get(`/api/v1/projects/${project.id}/agent`)).json()).model;
  if (!model) await page.getByTestId('agent-settings').getByTestId('local-model-banner').waitFor();
  const label = await page.locator('select[name=agent-model] option[value=""]').innerText();
  assert.match(label, status.test_model ? /test model/ : /not ready/);

  // With a usable provider, the dashboard has no banner and picks that provider's model.
  r = await page.request.put('/api/v1/admin/llm/policy', { headers, data: { local: true, providers: [
    { id: 'scripted', kind: 'openai', base_url: 'http://127.0.0.1:9/v1', enabled: true, models: ['coder'] }] } });
  assert.equal(r.status(), 200, await r.text());
  await page.goto('/');
  await hydrated(page, '[data-testid=prompt-submit]');
  await page.getByTestId('prompt-model').locator('option[value="scripted/coder"]').waitFor({ state: 'attached' });
  await page.waitForFunction(() => document.querySelector('[data-testid=prompt-model]').value === 'scripted/coder');
  assert.equal(await page.getByTestId('local-model-banner').count(), 0);
  assert.deepEqual(page.problems, []);
});
