// The workspace in headless Chromium, with a scripted OpenAI-compatible model
// and real sandboxes: a request's steps stream into the chat (without moving
// what is shown), the files appear in the tree, the preview shows the result;
// an edit saved from the editor reaches the preview; an earlier version can be
// previewed; reverting to the first version brings it back. Also: a model
// reply carrying HTML, script and javascript: links renders inert; search and
// replace from the keyboard; attachments; the terminal; unsaved edits under an
// agent change; the error overlay, console and bug finder sending to chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, removeSandboxes, csrf, frameText, waitForFrame, scriptedModel, chatReply, offerScriptedModel } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
const XSS = 'Here is <img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> and '
  + '[a link](javascript:window.__xss=3) and ![pic](javascript:window.__xss=4).\n\n```js\nconsole.log("<b>safe</b>");\n```';
let server;
let browser;
let model;
let instance;
const asked = []; // every request the scripted model got

/// Answers like a model: the first call of a turn builds (or, for "xss", replies with
/// HTML), the call after the tool results ends the turn.
function shopModel() {
  return scriptedModel(({ messages: msgs }, res) => {
    asked.push(msgs);
    const request = msgs.find((m) => m.role === 'user').content;
    let message;
    if (request.includes('xss')) {
      message = { role: 'assistant', content: XSS };
    } else if (msgs.some((m) => m.role === 'tool')) {
      message = { role: 'assistant', content: 'Built the **shop** page.' };
    } else {
      const page = '<!doctype html>\n<title>Shop</title>\n<h1>Welcome to the shop</h1>\n<script src="shop.js"></script>\n';
      message = { role: 'assistant', content: null, tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'full_file_rewrite', arguments: JSON.stringify({ path: 'index.html', content: page }) } },
        { id: 'c2', type: 'function', function: { name: 'create_file', arguments: JSON.stringify({ path: 'shop.js', content: 'console.log("shop");\n' }) } },
      ] };
    }
    setTimeout(() => chatReply(res, message, { prompt_tokens: 120, completion_tokens: 30 }, 'stop'), 300);
  });
}

before(async () => {
  model = await shopModel();
  server = await startServer({ AUTOCREA_SANDBOX: 'on' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  model?.srv.close();
  removeSandboxes(instance);
});

/// Signs Ada in (the account the first test made) on a new page, makes a
/// static project whose agent is the scripted model, and opens its workspace.
async function openWorkspace(name) {
  const page = await newPage(browser, server.url);
  let r = await page.request.post('/api/v1/auth/login', { data: { email: 'ada@example.com', password: PASSWORD } });
  assert.equal(r.status(), 200);
  const headers = { 'X-CSRF-Token': await csrf(page) };
  r = await page.request.post('/api/v1/projects', { headers, data: { name, template: 'static' } });
  assert.equal(r.status(), 201, await r.text());
  const project = await r.json();
  r = await page.request.put(`/api/v1/projects/${project.id}/agent`, { headers, data: { model: 'scripted/coder' } });
  assert.equal(r.status(), 200, await r.text());
  await page.goto(`/projects/${project.id}/workspace`);
  await hydrated(page, '[data-testid=send-message]');
  return { page, project };
}

test('build, edit, save and revert in the workspace', async () => {
  const page = await newPage(browser, server.url);
  page.on('response', (r) => { if (r.status() >= 400) page.problems.push(`${r.status()} ${r.url()}`); });
  // Sign in through the UI (the first account is the admin).
  await page.goto('/signup');
  await hydrated(page);
  await page.locator('input[name=name]').fill('Ada');
  await page.locator('input[name=email]').fill('ada@example.com');
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(server.url + '/');
  instance = (await (await page.request.get('/api/v1/admin/sandboxes')).json()).instance;
  const headers = { 'X-CSRF-Token': await csrf(page) };
  await offerScriptedModel(page, headers, model.url);
  let r;

  // New project (static) from the dashboard.
  r = await page.request.post('/api/v1/projects', { headers, data: { name: 'Shop', template: 'static' } });
  assert.equal(r.status(), 201);
  const project = await r.json();
  r = await page.request.put(`/api/v1/projects/${project.id}/agent`, { headers, data: { model: 'scripted/coder', mode: 'quick' } });
  assert.equal(r.status(), 200, await r.text());
  await page.goto(`/projects/${project.id}`);
  await hydrated(page, '[data-testid=project-workspace-link]');
  await page.getByTestId('project-workspace-link').click();
  await page.waitForURL(`**/projects/${project.id}/workspace`);
  await hydrated(page, '[data-testid=send-message]');
  await waitForFrame(page, 'Hello from AUTOCREA');
  await page.getByTestId('file-tree').getByText('index.html').waitFor();
  await screenshot(page, 'workspace-open');

  // A request: its steps stream in, the files appear, the preview shows the result.
  // Layout shifts inside the chat are recorded while it streams (none may move what is already shown).
  await page.evaluate(() => {
    window.__chatShifts = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const inChat = e.sources.some((s) => s.node && s.node.closest && s.node.closest('[data-testid=messages]'));
        if (inChat && !e.hadRecentInput) window.__chatShifts.push(e.value);
      }
    }).observe({ type: 'layout-shift', buffered: false });
  });
  await page.getByLabel('Message to the agent').fill('Make a shop landing page');
  await page.getByTestId('send-message').click();
  await page.getByTestId('live-turn').waitFor({ timeout: 10000 });
  await screenshot(page, 'workspace-agent-working');
  await page.getByTestId('messages').getByText('Built the shop page.').waitFor({ timeout: 30000 });
  await page.getByTestId('file-tree').locator('[data-path="shop.js"]').waitFor();
  const card = page.getByTestId('turn-card').last();
  assert.match(await card.textContent(), /Developer\s*done/);
  assert.match(await page.getByTestId('messages').textContent(), /full_file_rewrite index\.html/);
  await waitForFrame(page, 'Welcome to the shop');
  await screenshot(page, 'workspace-agent-built');
  const shifts = await page.evaluate(() => window.__chatShifts);
  const shifted = shifts.reduce((a, b) => a + b, 0);
  console.log(`chat layout shift while the turn streamed: ${shifted.toFixed(4)} (${shifts.length} shifts)`);
  assert.ok(shifted < 0.05, `the chat moved while streaming: ${JSON.stringify(shifts)}`);

  // The panel bars move from the keyboard too.
  const chatPanel = page.locator('section.ws-chat');
  const chatWidth = (await chatPanel.boundingBox()).width;
  await page.getByRole('separator', { name: 'Resize the chat' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((w) => document.querySelector('section.ws-chat').getBoundingClientRect().width >= w + 47, chatWidth);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');

  // A changed file in the chat opens its diff (the turn's start -> its version).
  await page.getByTestId('messages').getByRole('button', { name: 'full_file_rewrite index.html' }).click();
  await page.locator('[data-testid=diff] .monaco-diff-editor').waitFor({ timeout: 30000 });
  await page.locator('[data-testid=diff] .view-lines', { hasText: 'Welcome to the shop' }).first().waitFor();
  assert.match(await page.getByTestId('diff-bar').textContent(), /Changes to index\.html/);
  await screenshot(page, 'workspace-turn-diff');
  await page.getByRole('button', { name: 'Close the diff' }).click();
  await page.getByTestId('diff-bar').waitFor({ state: 'detached' });

  // Edit index.html in the editor; Ctrl+S saves a version; the preview follows.
  await page.getByTestId('file-tree').locator('[data-path="index.html"]').click();
  await page.locator('#ws-monaco .view-lines').waitFor({ timeout: 30000 });
  await page.waitForFunction(() => window.monaco && window.AutocreaWorkspace.current() === 'index.html');
  await page.locator('#ws-monaco .view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('<!doctype html>\n<title>Shop</title>\n<h1>Edited by hand</h1>\n');
  await page.locator('.ws-tab.active', { hasText: '•' }).waitFor();
  await page.keyboard.press('Control+S');
  await page.getByTestId('timeline').getByText('Update index.html').waitFor({ timeout: 10000 });
  await waitForFrame(page, 'Edited by hand');
  await screenshot(page, 'workspace-edited');

  // Preview the agent's version without changing the history, then back to the latest.
  const versions = page.getByTestId('timeline').locator('li');
  assert.equal(await versions.count(), 3);
  await versions.nth(1).getByRole('button', { name: /^Preview/ }).click();
  await page.getByTestId('previewing').waitFor({ timeout: 10000 });
  assert.match(await page.getByTestId('previewing').textContent(), /Showing version \w{7}/);
  await waitForFrame(page, 'Welcome to the shop');
  await screenshot(page, 'workspace-previewing-version');
  assert.equal(await versions.count(), 3, 'previewing adds no version');
  await page.getByTestId('previewing').getByRole('button', { name: 'Back to latest' }).click();
  await page.getByTestId('previewing').waitFor({ state: 'detached' });
  await waitForFrame(page, 'Edited by hand');

  // Revert to the first version: the preview goes back.
  await versions.last().getByRole('button', { name: /Revert to/ }).click();
  await page.getByTestId('timeline').getByText(/Revert to/).first().waitFor({ timeout: 10000 });
  await waitForFrame(page, 'Hello from AUTOCREA');
  await page.getByTestId('file-tree').locator('[data-path="shop.js"]').waitFor({ state: 'detached' });
  await screenshot(page, 'workspace-reverted');
  const problems = page.problems.filter((p) => !p.includes('favicon'));
  assert.deepEqual(problems, []);
});

test('a model reply with HTML, script and javascript: links renders inert', async () => {
  const { page, project } = await openWorkspace('Inert');
  await page.getByLabel('Message to the agent').fill('show me some xss');
  await page.getByTestId('send-message').click();
  await page.getByTestId('messages').locator('.markdown', { hasText: 'Here is' }).last().waitFor({ timeout: 30000 });
  const messages = page.getByTestId('messages');
  assert.equal(await messages.locator('img').count(), 0, 'no image element from model output');
  assert.equal(await messages.locator('script').count(), 0, 'no script element from model output');
  assert.equal(await messages.locator('[onerror], [onclick], [onload]').count(), 0);
  const hrefs = await messages.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(hrefs.every((h) => !/^\s*javascript:/i.test(h || '')), JSON.stringify(hrefs));
  assert.match(await messages.textContent(), /<img src=x onerror="window.__xss=1">/, 'the HTML shows as text');
  await messages.locator('a', { hasText: 'a link' }).click();
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran');
  await screenshot(page, 'workspace-inert-reply');
});

test('search and replace across files from the keyboard', async () => {
  const { page, project } = await openWorkspace('Finder');
  await page.getByTestId('file-tree').getByText('index.html').waitFor();
  await page.locator('#ws-monaco').waitFor();
  await page.waitForFunction(() => window.AutocreaWorkspace && window.AutocreaWorkspace.ready());
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return { id: el.id, label: el.getAttribute('aria-label') || el.textContent.trim(), outline: getComputedStyle(el).outlineStyle };
  });

  // Ctrl+Shift+F focuses the search; typing searches every file.
  await page.keyboard.press('Control+Shift+F');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'ws-search-input');
  await page.keyboard.type('hello');
  await page.getByTestId('search-summary').waitFor({ timeout: 10000 });
  assert.match(await page.getByTestId('search-summary').textContent(), /^[1-9]\d* result\(s\) in [1-9]\d* file\(s\)/);
  const panel = page.getByTestId('search-panel');
  assert.match(await panel.textContent(), /index\.html/);

  // A result opens its file in the editor with the match selected.
  await panel.getByTestId('search-hit').filter({ hasText: 'Hello from AUTOCREA' }).click();
  await page.waitForFunction(() => window.AutocreaWorkspace.current() === 'index.html');
  await page.waitForFunction(() => {
    const ed = window.monaco.editor.getEditors()[0];
    return ed.getModel() && ed.getModel().getValueInRange(ed.getSelection()) === 'Hello';
  });

  // Keyboard only: Tab past the toggles to "Replace with", type, Tab to "Replace all", Enter.
  await page.locator('#ws-search-input').focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
  let f = await focused();
  assert.equal(f.label, 'Replace with');
  await page.keyboard.type('Howdy');
  await page.keyboard.press('Tab');
  f = await focused();
  assert.equal(f.label, 'Replace all');
  assert.notEqual(f.outline, 'none', 'keyboard focus is visible');
  page.once('dialog', (d) => d.accept());
  await page.keyboard.press('Enter');
  await panel.getByText(/Replaced \d+ match\(es\) in \d+ file\(s\)/).waitFor({ timeout: 10000 });
  await page.getByTestId('timeline').getByText(/Replace "hello" with "Howdy"/).waitFor({ timeout: 10000 });
  const r = await page.request.get(`/api/v1/projects/${project.id}/file?path=index.html`);
  assert.match((await r.json()).content, /Howdy from AUTOCREA/);
  // The open file follows the new version (it had no unsaved edits).
  await page.waitForFunction(() => (window.AutocreaWorkspace.value('index.html') || '').includes('Howdy from AUTOCREA'));
  assert.match(await page.getByTestId('search-summary').textContent(), /^0 result/);
  await screenshot(page, 'workspace-search-replace');

  // A broken regular expression is explained, not sent as a replace.
  await page.getByRole('button', { name: 'Regular expression' }).click();
  await page.locator('#ws-search-input').fill('(');
  await panel.getByRole('alert').filter({ hasText: 'regular expression' }).waitFor({ timeout: 10000 });
  assert.equal(await page.getByTestId('replace-all').isDisabled(), true);
});

test('images and text files attach to a message', async () => {
  const { page, project } = await openWorkspace('Attach');
  const pixel = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
  await page.getByTestId('attach-input').setInputFiles([
    { name: 'mock.png', mimeType: 'image/png', buffer: pixel },
    { name: 'brief.md', mimeType: 'text/markdown', buffer: Buffer.from('# Brief\nUse teal buttons.\n') },
  ]);
  const chips = page.getByTestId('attached');
  await chips.getByText(/mock\.png/).waitFor({ timeout: 10000 });
  await chips.getByText(/brief\.md/).waitFor();
  // The project's model is not marked as reading images: the composer says so before sending.
  assert.match(await page.getByTestId('no-image-model').textContent({ timeout: 10000 }), /scripted\/coder cannot see images/);
  // A refused file is explained and not attached.
  await page.getByTestId('attach-input').setInputFiles([{ name: 'tool.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0, 1, 2]) }]);
  await page.getByRole('alert').filter({ hasText: 'tool.exe' }).waitFor({ timeout: 10000 });
  assert.equal(await chips.locator('li').count(), 2);
  await screenshot(page, 'workspace-attachments-ready');

  const before = asked.length;
  await page.getByLabel('Message to the agent').fill('Style it like the mock-up');
  await page.getByTestId('send-message').click();
  await page.getByTestId('attached').waitFor({ state: 'detached', timeout: 10000 });
  const sent = page.getByTestId('user-message').last();
  await sent.locator('img.attach-thumb').waitFor({ timeout: 10000 });
  await page.waitForFunction(() => { const img = document.querySelector('img.attach-thumb'); return img && img.complete && img.naturalWidth === 1; });
  assert.match(await sent.textContent(), /brief\.md/);
  await page.getByTestId('messages').getByText('Built the shop page.').last().waitFor({ timeout: 30000 });
  const request = asked.slice(before).map((msgs) => msgs.filter((m) => m.role === 'user').pop().content).find((c) => String(c).includes('Style it like'));
  assert.ok(request, 'the model got the message');
  assert.match(request, /Attached file `brief\.md`:\n```\n# Brief\nUse teal buttons\.\n\n```/);
  assert.match(request, /attached the image `mock\.png`, but the model in use cannot see images/);
  await screenshot(page, 'workspace-attachments-sent');
});

test('the terminal runs commands in the project sandbox', async () => {
  const { page, project } = await openWorkspace('Shell');
  await waitForFrame(page, 'Hello from AUTOCREA');
  await page.getByRole('button', { name: 'Terminal' }).click();
  const rows = page.locator('[data-testid=terminal] .xterm-rows');
  await rows.waitFor({ timeout: 20000 });
  await page.locator('[data-testid=terminal] .xterm-helper-textarea').focus();
  // The shell answers: arithmetic proves it ran there, and the project's files are its working folder.
  for (let attempt = 0; attempt < 20 && !/sum-42/.test(await rows.textContent()); attempt++) {
    await page.keyboard.type('echo sum-$((40+2)); ls\n');
    await page.waitForTimeout(500);
  }
  await page.waitForFunction(() => /sum-42/.test(document.querySelector('[data-testid=terminal] .xterm-rows').textContent), null, { timeout: 10000 });
  assert.match(await rows.textContent(), /index\.html/);
  await screenshot(page, 'workspace-terminal');
  await page.getByRole('button', { name: 'Terminal' }).click();
  await page.getByTestId('terminal').waitFor({ state: 'hidden' });
});

test('unsaved edits survive an agent change to the open file', async () => {
  const { page, project } = await openWorkspace('Draft');
  await page.getByTestId('file-tree').locator('[data-path="index.html"]').click();
  await page.waitForFunction(() => window.monaco && window.AutocreaWorkspace.current() === 'index.html');
  await page.locator('#ws-monaco .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n<p>my draft</p>');
  await page.locator('.ws-tab.active', { hasText: '•' }).waitFor();

  // The agent rewrites index.html while the draft is unsaved.
  await page.getByLabel('Message to the agent').fill('Make a shop landing page');
  await page.getByTestId('send-message').click();
  await page.getByTestId('messages').getByText('Built the shop page.').waitFor({ timeout: 30000 });
  const conflict = page.getByTestId('conflict');
  await conflict.waitFor({ timeout: 10000 });
  assert.match(await conflict.textContent(), /index\.html changed/);
  assert.match(await page.evaluate(() => window.AutocreaWorkspace.value('index.html')), /my draft/, 'the draft is still there');
  await screenshot(page, 'workspace-conflict');

  // Keeping the edits and saving makes them the newest version.
  await conflict.getByRole('button', { name: 'Keep my edits' }).click();
  await page.locator('#ws-monaco .view-lines').click();
  await page.keyboard.press('Control+S');
  await page.getByTestId('timeline').getByText('Update index.html').waitFor({ timeout: 10000 });
  const r = await page.request.get(`/api/v1/projects/${project.id}/file?path=index.html`);
  assert.match((await r.json()).content, /my draft/);
});

test('a broken page shows the error overlay, the console and the bug finder, each sending to chat', async () => {
  const { page, project } = await openWorkspace('Broken');
  const headers = { 'X-CSRF-Token': await csrf(page) };
  const file = await (await page.request.get(`/api/v1/projects/${project.id}/file?path=app.js`)).json();
  const r = await page.request.put(`/api/v1/projects/${project.id}/file?path=app.js`, { headers, data: { content: 'document.title = ;\n', sha: file.sha } });
  assert.equal(r.status(), 200, await r.text());
  // The page's script fails in the preview: the injected script reports it.
  await page.getByTestId('preview-refresh').click();
  const overlay = page.getByTestId('error-overlay');
  await overlay.waitFor({ timeout: 30000 });
  assert.match(await overlay.textContent(), /error\(s\) in the preview/);
  await page.getByRole('button', { name: 'Console', exact: true }).click();
  assert.match(await page.getByTestId('preview-console').textContent(), /SyntaxError|Unexpected token/);
  await screenshot(page, 'workspace-error-overlay');

  // "Send to chat" from the overlay asks the agent to fix it.
  await overlay.getByRole('button', { name: 'Send to chat' }).click();
  await page.getByTestId('user-message').filter({ hasText: /Fix this error: .*SyntaxError/ }).waitFor({ timeout: 10000 });
  await page.getByTestId('messages').getByText('Built the shop page.').waitFor({ timeout: 30000 });

  // The bug finder runs check_for_errors in the sandbox: node --check names the file and line.
  await page.getByTestId('bug-finder').click();
  const bugs = page.getByTestId('bug-list');
  await bugs.getByText(/app\.js:1/).first().waitFor({ timeout: 30000 });
  await screenshot(page, 'workspace-bug-finder');
  await bugs.getByRole('button', { name: 'Fix this' }).first().click();
  await page.getByTestId('user-message').filter({ hasText: /Fix this error: app\.js:1/ }).waitFor({ timeout: 10000 });
});
