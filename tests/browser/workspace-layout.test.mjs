// The workspace on a first visit, in headless Chromium with real sandboxes:
// every combination of the panel toggles fills the screen with the panels
// that are on; a "Skip to chat" link is the first stop; the tablet frame keeps
// its 768 px and is scaled to fit, the preview bar stays on one line; the
// untouched vite-react template has no error markers in Monaco; a phone gets
// one panel at a time without horizontal overflow; errors clear once the code
// is fixed; the state badge follows the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, removeSandboxes, csrf, frameText, waitForFrame } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let browser;
let instance;

before(async () => {
  server = await startServer({ AUTOCREA_SANDBOX: 'on' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeSandboxes(instance);
});

/// Signs Ada in (signing her up the first time) on a new page of `viewport`,
/// makes a project of `template` and opens its workspace.
let signedUp = false;
async function openWorkspace(name, { template = 'static', viewport } = {}) {
  const page = await newPage(browser, server.url);
  if (viewport) await page.setViewportSize(viewport);
  if (!signedUp) {
    const r = await page.request.post('/api/v1/auth/signup', { data: { email: 'ada@example.com', name: 'Ada', password: PASSWORD } });
    assert.equal(r.status(), 201, await r.text());
    signedUp = true;
    instance = (await (await page.request.get('/api/v1/admin/sandboxes')).json()).instance;
  } else {
    const r = await page.request.post('/api/v1/auth/login', { data: { email: 'ada@example.com', password: PASSWORD } });
    assert.equal(r.status(), 200);
  }
  const headers = { 'X-CSRF-Token': await csrf(page) };
  const r = await page.request.post('/api/v1/projects', { headers, data: { name, template } });
  assert.equal(r.status(), 201, await r.text());
  const project = await r.json();
  await page.goto(`/projects/${project.id}/workspace`);
  await hydrated(page, '[data-testid=send-message]');
  return { page, project, headers };
}

/// The boxes of the four panels and the workspace (null: not shown).
function boxes(page) {
  return page.evaluate(() => {
    const box = (el) => {
      if (!el || getComputedStyle(el).display === 'none') return null;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 ? { left: r.left, right: r.right, width: r.width, height: r.height } : null;
    };
    const ids = { side: 'ws-panel-side', chat: 'ws-panel-chat', editor: 'ws-panel-editor', preview: 'ws-panel-preview' };
    const out = { workspace: box(document.querySelector('[data-testid=workspace]')), bars: [] };
    for (const [k, id] of Object.entries(ids)) out[k] = box(document.getElementById(id));
    document.querySelectorAll('[data-testid=workspace] > .ws-resizer').forEach((b) => { const r = box(b); if (r) out.bars.push(r); });
    return out;
  });
}

const PANELS = [['side', 'Files'], ['chat', 'Chat'], ['editor', 'Editor'], ['preview', 'Preview']];

test('every combination of panel toggles shows the panels that are on, filling the width', async () => {
  const { page } = await openWorkspace('Toggles');
  const toggles = page.getByRole('group', { name: 'Panels' });
  for (let bits = 1; bits < 16; bits++) {
    const want = Object.fromEntries(PANELS.map(([k], i) => [k, (bits & (1 << i)) !== 0]));
    // Turn on first, then off: the last panel shown cannot be turned off.
    for (const on of [true, false]) {
      for (const [k, label] of PANELS) {
        if (want[k] !== on) continue;
        const button = toggles.getByRole('button', { name: label, exact: true });
        if ((await button.getAttribute('aria-pressed')) !== String(on)) await button.click();
      }
    }
    const b = await boxes(page);
    const label = PANELS.filter(([k]) => want[k]).map(([, l]) => l).join('+');
    const shown = PANELS.filter(([k]) => want[k]).map(([k]) => b[k]);
    for (const [k] of PANELS) {
      if (want[k]) assert.ok(b[k] && b[k].width >= 150 && b[k].height >= 200, `${label}: ${k} is shown with room (${JSON.stringify(b[k])})`);
      else assert.equal(b[k], null, `${label}: ${k} is hidden`);
    }
    // Shown panels and the bars between them cover the workspace's width, left to right.
    const used = shown.reduce((s, r) => s + r.width, 0) + b.bars.reduce((s, r) => s + r.width, 0);
    assert.ok(Math.abs(used - b.workspace.width) <= 2, `${label}: panels and bars use ${used} of ${b.workspace.width} px`);
    assert.equal(b.bars.length, shown.length - 1, `${label}: one bar between each pair of neighbours`);
    assert.ok(Math.abs(Math.max(...shown.map((r) => r.right)) - b.workspace.right) <= 2, `${label}: the last panel reaches the right edge`);
    if (bits === 10 || bits === 2 || bits === 8) await screenshot(page, `workspace-toggles-${label}`);
    // The only panel shown cannot be turned off (the workspace would be empty).
    if (bits === 8) assert.equal(await toggles.getByRole('button', { name: 'Preview', exact: true }).isDisabled(), true);
  }
});

test('a "Skip to chat" link is the page\'s first stop and focuses the chat box', async () => {
  const { page } = await openWorkspace('Keyboard');
  // From the top of the page, the first Tab reaches it, before the top bar.
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to chat');
  const link = page.getByTestId('skip-to-chat');
  const box = await link.boundingBox();
  assert.ok(box && box.y >= 0 && box.width > 0, 'the focused link is on screen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'ws-chat-input');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Message to the agent');
});

test('the tablet frame keeps its 768 px and is scaled to fit; the preview bar stays on one line', async () => {
  const { page } = await openWorkspace('Tablet');
  await waitForFrame(page, 'Hello from AUTOCREA');
  // The narrowest preview panel (the bar takes arrow keys; Shift moves 96 px).
  const bar = page.getByRole('separator', { name: 'Resize the preview' });
  await bar.focus();
  for (let i = 0; i < 15; i++) await page.keyboard.press('Shift+ArrowRight');
  await page.getByRole('group', { name: 'Width' }).getByRole('button', { name: 'Tablet' }).click();
  const fit = () => page.evaluate(() => {
    const frame = document.querySelector('[data-testid=preview-frame]');
    const wrap = frame.parentElement;
    const r = frame.getBoundingClientRect();
    const w = wrap.getBoundingClientRect();
    return { layout: frame.offsetWidth, shown: r.width, left: r.left - w.left, right: w.right - r.right, wrap: w.width, bottom: w.bottom - r.bottom };
  });
  await page.waitForFunction(() => {
    const frame = document.querySelector('[data-testid=preview-frame]');
    return frame && frame.getBoundingClientRect().width <= frame.parentElement.clientWidth + 1;
  }, null, { timeout: 10000 }).catch(() => {});
  const f = await fit();
  assert.equal(f.layout, 768, `the page in the frame is laid out at 768 px (${JSON.stringify(f)})`);
  assert.ok(f.wrap < 768, `the panel is narrower than a tablet (${f.wrap} px)`);
  assert.ok(Math.abs(f.shown - f.wrap) <= 2 && f.left >= -1 && f.right >= -1, `scaled to the panel's width (${JSON.stringify(f)})`);
  assert.ok(Math.abs(f.bottom) <= 2, `and to its height (${JSON.stringify(f)})`);
  const inner = await (await (await page.getByTestId('preview-frame').elementHandle()).contentFrame()).evaluate(() => window.innerWidth);
  assert.equal(inner, 768, 'the app sees a tablet-wide window');

  // One line: every control of the bar sits on the same row, inside it.
  const row = await page.evaluate(() => {
    const head = document.querySelector('.ws-preview-bar');
    const h = head.getBoundingClientRect();
    return [...head.children].map((c) => { const r = c.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, right: r.right - h.right }; });
  });
  // Centred controls of different heights: on one row they all overlap one horizontal line.
  assert.ok(Math.max(...row.map((r) => r.top)) < Math.min(...row.map((r) => r.bottom)), `one row: ${JSON.stringify(row)}`);
  assert.ok(row.every((r) => r.right <= 1), `nothing sticks out: ${JSON.stringify(row)}`);
  await screenshot(page, 'workspace-tablet-scaled');
  // Desktop is the panel's own width again.
  await page.getByRole('group', { name: 'Width' }).getByRole('button', { name: 'Desktop' }).click();
  await page.waitForFunction(() => { const fr = document.querySelector('[data-testid=preview-frame]'); return Math.abs(fr.offsetWidth - fr.parentElement.clientWidth) <= 1; });
});

test('the untouched vite-react template shows no error markers in the editor', async () => {
  const { page } = await openWorkspace('Vite', { template: 'vite-react' });
  for (const path of ['src/App.tsx', 'src/main.tsx']) {
    await page.getByTestId('file-tree').locator(`[data-path="${path}"]`).click();
    await page.waitForFunction((p) => window.monaco && window.AutocreaWorkspace.current() === p, path, { timeout: 30000 });
    // A deliberate type error at the end proves the TypeScript service has
    // checked this text; the other markers are what a person would see.
    const canaryLine = await page.evaluate((p) => {
      const model = window.monaco.editor.getModels().find((m) => m.uri.path === '/' + p);
      window.__original = model.getValue();
      model.setValue(window.__original + '\nconst autocreaCanary: number = "not a number";\n');
      return model.getLineCount() - 1;
    }, path);
    const markers = await page.waitForFunction(({ p, line }) => {
      const model = window.monaco.editor.getModels().find((m) => m.uri.path === '/' + p);
      const all = window.monaco.editor.getModelMarkers({ resource: model.uri });
      if (!all.some((m) => m.startLineNumber === line && m.severity === window.monaco.MarkerSeverity.Error)) return null;
      return all.filter((m) => m.startLineNumber !== line && m.severity === window.monaco.MarkerSeverity.Error)
        .map((m) => `${m.startLineNumber}: ${m.message}`);
    }, { p: path, line: canaryLine }, { timeout: 60000 }).then((h) => h.jsonValue());
    assert.deepEqual(markers, [], `${path} has no errors in the editor`);
    await page.evaluate((p) => window.monaco.editor.getModels().find((m) => m.uri.path === '/' + p).setValue(window.__original), path);
  }
  await screenshot(page, 'workspace-vite-no-squiggles');
});

test('a phone gets one panel at a time with tabs, and nothing overflows at 390 px', async () => {
  const { page } = await openWorkspace('Phone', { viewport: { width: 390, height: 844 } });
  const tabs = page.getByRole('tablist', { name: 'Panel' });
  await tabs.waitFor();
  assert.equal(await page.getByRole('group', { name: 'Panels' }).isVisible(), false, 'the desktop toggles give way to tabs');
  for (const [k, label] of [['editor', 'Editor'], ['preview', 'Preview'], ['side', 'Files'], ['chat', 'Chat']]) {
    await tabs.getByRole('tab', { name: label }).click();
    assert.equal(await tabs.getByRole('tab', { name: label }).getAttribute('aria-selected'), 'true');
    const b = await boxes(page);
    for (const [other] of PANELS) {
      if (other === k) assert.ok(b[k] && b[k].left >= -1 && b[k].right <= 391 && b[k].width >= 380, `${label} fills the screen: ${JSON.stringify(b[k])}`);
      else assert.equal(b[other], null, `${label} tab: ${other} is hidden`);
    }
    const overflow = await page.evaluate(() => {
      const wide = [...document.querySelectorAll('.ws-bar *, .ws-phone-tabs *, [data-testid=workspace] *')]
        .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden' && !el.closest('.ws-skip'))
        .filter((el) => el.getBoundingClientRect().right > innerWidth + 1 && !el.closest('.monaco-editor, iframe, .xterm'))
        .map((el) => `${el.tagName}.${el.className}`);
      return { scroll: document.documentElement.scrollWidth, inner: innerWidth, wide: wide.slice(0, 5) };
    });
    assert.ok(overflow.scroll <= overflow.inner, `no horizontal scroll on the ${label} tab: ${JSON.stringify(overflow)}`);
    assert.deepEqual(overflow.wide, [], `nothing sticks out on the ${label} tab`);
    await screenshot(page, `workspace-phone-${k}`);
  }
  // The chat works there: the message box is on screen.
  assert.ok(await page.getByLabel('Message to the agent').isVisible());
});

test('errors clear once the code is fixed: the overlay, the console and the bug finder', async () => {
  const { page, project, headers } = await openWorkspace('Fixed');
  await waitForFrame(page, 'Hello from AUTOCREA');
  const put = async (content) => {
    const file = await (await page.request.get(`/api/v1/projects/${project.id}/file?path=app.js`)).json();
    const r = await page.request.put(`/api/v1/projects/${project.id}/file?path=app.js`, { headers, data: { content, sha: file.sha } });
    assert.equal(r.status(), 200, await r.text());
  };
  await put('document.title = ;\n');
  await page.getByTestId('preview-refresh').click();
  const overlay = page.getByTestId('error-overlay');
  await overlay.waitFor({ timeout: 30000 });
  // The bug finder sees it too (node --check names the line).
  await page.getByTestId('bug-finder').click();
  await page.getByTestId('bug-list').getByText(/app\.js:1/).first().waitFor({ timeout: 30000 });

  // Fixed, and the page reloaded: nothing is left of the error anywhere.
  await put('document.title = "fixed";\n');
  await page.getByTestId('preview-refresh').click();
  await waitForFrame(page, 'Hello from AUTOCREA');
  await page.waitForFunction(() => !document.querySelector('[data-testid=error-overlay]'), null, { timeout: 30000 })
    .catch(async () => assert.fail(`the overlay still says: ${await overlay.textContent()}`));
  const left = await (await page.request.get(`/api/v1/projects/${project.id}/sandbox/errors`)).json();
  assert.deepEqual(left.errors, [], 'the sandbox knows of no errors');
  await page.getByRole('button', { name: 'Console', exact: true }).click();
  await page.getByTestId('preview-console').getByText('Nothing reported.').waitFor({ timeout: 10000 });
  await page.getByTestId('bug-finder').click();
  await page.getByTestId('bug-list').getByText('No errors found.').waitFor({ timeout: 30000 });
  await screenshot(page, 'workspace-errors-cleared');
});

test('the state badge follows the sandbox after the start', async () => {
  const { page, project, headers } = await openWorkspace('Badge');
  await waitForFrame(page, 'Hello from AUTOCREA');
  const badge = page.getByTestId('preview-state');
  assert.equal(await badge.textContent(), 'ready');
  // The page is closed first: its live-reload connection would start the sandbox again at once.
  await page.evaluate(() => { document.querySelector('[data-testid=preview-frame]').src = 'about:blank'; });
  const r = await page.request.post(`/api/v1/projects/${project.id}/sandbox/stop`, { headers });
  assert.equal(r.status(), 200, await r.text());
  // Not "ready" while nothing runs.
  await page.waitForFunction(() => document.querySelector('[data-testid=preview-state]').textContent === 'stopped', null, { timeout: 20000 });
  // Refresh starts it again (the proxy starts a stopped sandbox); the badge follows.
  await page.getByTestId('preview-refresh').click();
  await waitForFrame(page, 'Hello from AUTOCREA', 90000);
  await page.waitForFunction(() => document.querySelector('[data-testid=preview-state]').textContent === 'ready', null, { timeout: 30000 });
});
