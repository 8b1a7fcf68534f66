// Starts the real `autocrea` binary on a free loopback port with a fresh data
// folder, and Debian's Chromium through playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
export const screenshotDir = join(here, '..', 'artifacts', 'screenshots');

export function binaryPath() {
  if (process.env.AUTOCREA_BIN) return process.env.AUTOCREA_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'autocrea-target');
  return join(target, 'debug', 'autocrea');
}

export async function startServer(extraEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'autocrea-browser-'));
  const child = spawn(binaryPath(), ['serve'], {
    // Sandboxes are off unless a test turns them on (sandbox.test.mjs).
    env: { ...process.env, AUTOCREA_SANDBOX: 'off', AUTOCREA_LISTEN: '127.0.0.1:0', AUTOCREA_DATA_DIR: join(dataDir, 'data'), ...extraEnv },
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${stderr}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${stderr}`)); });
  });
  return {
    url,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// A page that records console errors and uncaught exceptions (hydration bugs show up there).
export async function newPage(browser, baseURL) {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`exception: ${e.message}`));
  return page;
}

let shot = 0;
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  shot += 1;
  const file = join(screenshotDir, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/// Waits until the page has hydrated: Leptos enables the submit buttons then.
export async function hydrated(page, selector = 'button[type=submit]') {
  await page.locator(`${selector}:not([disabled])`).first().waitFor({ timeout: 15000 });
}

/// Removes the sandboxes of a test server's instance (they outlive the
/// appliance on purpose, for adoption after a restart).
export function removeSandboxes(instance) {
  if (!instance) return;
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=org.autocrea.instance=${instance}`]).toString().split(/\s+/).filter(Boolean);
  if (ids.length) execFileSync('docker', ['rm', '-f', ...ids]);
}

/// The CSRF token the console's cookie carries (sent back as X-CSRF-Token).
export async function csrf(page) {
  const cookies = await page.context().cookies();
  return cookies.find((c) => c.name.endsWith('autocrea_csrf'))?.value;
}

export async function frameText(page) {
  return page.frameLocator('[data-testid=preview-frame]').locator('body').textContent({ timeout: 1000 }).catch(() => '');
}

/// Waits for the workspace's preview to show `text`. Chromium drops loads in
/// flight when Docker adds a container's network interface on this same
/// machine ("A network change was detected"), and now and then a reload here
/// stays blank: what a person would do is press Refresh, and so does this.
export async function waitForFrame(page, text, timeout = 60000) {
  const started = Date.now();
  let blankSince = Date.now();
  while (Date.now() - started < timeout) {
    const shown = await frameText(page);
    if (shown.includes(text)) return;
    if (shown.trim()) blankSince = Date.now();
    if (shown.includes('ERR_NETWORK_CHANGED') || Date.now() - blankSince > 8000) {
      await page.getByTestId('preview-refresh').click();
      blankSince = Date.now();
    }
    await page.waitForTimeout(250);
  }
  await screenshot(page, 'preview-failed');
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const html = frame ? await frame.content().catch((e) => `(no content: ${e.message})`) : '(no frame)';
  assert.fail(`the preview never showed ${JSON.stringify(text)}; it shows ${JSON.stringify(await frameText(page))}; frame ${frame?.url()}: ${html.slice(0, 600)}`);
}

/// A scripted OpenAI-compatible model on a free loopback port, for tests of
/// the agent's UI. `answer(request, res)` gets each parsed chat request and
/// writes the reply (`chatReply` for a plain one); returns { srv, url }.
export function scriptedModel(answer) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => answer(JSON.parse(body), res));
    });
    srv.listen(0, '127.0.0.1', () => resolve({ srv, url: `http://127.0.0.1:${srv.address().port}/v1` }));
  });
}

/// One non-streamed chat completion carrying `message`.
export function chatReply(res, message, usage = { prompt_tokens: 100, completion_tokens: 20 },
  finish = message.tool_calls ? 'tool_calls' : 'stop') {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: 'x', object: 'chat.completion', created: 0, model: 'coder',
    choices: [{ index: 0, message, finish_reason: finish }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
}

/// As the admin: the scripted model becomes provider `scripted` (model
/// `scripted/coder`) with a shared key, so every account can use it.
export async function offerScriptedModel(page, headers, url) {
  let r = await page.request.put('/api/v1/admin/llm/policy', { headers, data: { local: true, providers: [
    { id: 'scripted', kind: 'openai', base_url: url, enabled: true, models: ['coder'] }] } });
  assert.equal(r.status(), 200, await r.text());
  r = await page.request.put('/api/v1/admin/llm/providers/scripted/key', { headers, data: { key: 'sk-scripted-0000' } });
  assert.equal(r.status(), 200, await r.text());
}
