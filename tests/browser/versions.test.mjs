// The version timeline in headless Chromium: a version pushed with the real
// git client appears, its changes and a comparison show as diffs, reverting
// adds a new version, branches are made and switched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, newPage, screenshot, hydrated } from './support.mjs';

let server, browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

const PASSWORD = 'correct horse battery staple';

function git(cwd, home, ...args) {
  return execFileSync('git', args, {
    cwd,
    env: { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Grace Hopper', GIT_AUTHOR_EMAIL: 'grace@example.com',
      GIT_COMMITTER_NAME: 'Grace Hopper', GIT_COMMITTER_EMAIL: 'grace@example.com' },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('timeline, diff, compare, revert and branches', async () => {
  const page = await newPage(browser, server.url);
  const signup = await page.request.post('/api/v1/auth/signup', { data: { email: 'grace@example.com', name: 'Grace Hopper', password: PASSWORD } });
  assert.equal(signup.status(), 201);
  const csrf = signup.headers()['x-csrf-token'];
  const created = await page.request.post('/api/v1/projects', { data: { name: 'Compiler', template: 'static' }, headers: { 'x-csrf-token': csrf } });
  const project = await created.json();

  // A second version, pushed with git.
  const work = mkdtempSync(join(tmpdir(), 'autocrea-git-'));
  const url = server.url.replace('http://', `http://grace:${encodeURIComponent(PASSWORD)}@`) + '/git/grace/compiler.git';
  git(work, work, 'clone', '-q', url, 'repo');
  writeFileSync(join(work, 'repo', 'index.html'), '<h1>Version two</h1>\n');
  git(join(work, 'repo'), work, 'commit', '-qam', 'Rewrite the landing page');
  git(join(work, 'repo'), work, 'push', '-q');
  rmSync(work, { recursive: true, force: true });

  await page.goto(`/projects/${project.id}`);
  await page.getByTestId('clone-url').waitFor();
  assert.match(await page.getByTestId('clone-url').innerText(), /git clone http:\/\/127\.0\.0\.1:\d+\/git\/grace\/compiler\.git/);
  await page.getByTestId('project-versions-link').click();
  await page.waitForURL('**/versions');
  await page.getByTestId('version').nth(1).waitFor();
  await hydrated(page, '[data-testid=show-changes]');
  assert.equal(await page.getByTestId('version').count(), 2);
  assert.match(await page.getByTestId('version').first().innerText(), /Rewrite the landing page[\s\S]*Grace Hopper/);
  await screenshot(page, 'versions-timeline');

  await page.getByTestId('show-changes').first().click();
  await page.getByTestId('diff').waitFor();
  const diffText = await page.getByTestId('diff').innerText();
  assert.match(diffText, /\+<h1>Version two<\/h1>/);
  assert.match(diffText, /index\.html/);
  await screenshot(page, 'versions-changes');

  const versions = await (await page.request.get(`/api/v1/projects/${project.id}/versions`)).json();
  const [newest, oldest] = versions.versions.map((v) => v.sha);
  await page.getByTestId('compare-from').selectOption(newest);
  await page.getByTestId('compare-to').selectOption(oldest);
  await page.getByTestId('compare').click();
  await page.getByRole('region', { name: 'Comparison' }).waitFor();
  assert.match(await page.getByRole('region', { name: 'Comparison' }).innerText(), /-<h1>Version two<\/h1>/);
  await screenshot(page, 'versions-compare');

  // Revert to the first version: a third version appears on top.
  await page.getByTestId('revert').click();
  await page.getByText('Restored the files of').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=version]').length === 3);
  assert.match(await page.getByTestId('version').first().innerText(), /Revert to/);
  await screenshot(page, 'versions-reverted');
  const after = await (await page.request.get(`/api/v1/projects/${project.id}/diff?from=${oldest}&to=${(await (await page.request.get(`/api/v1/projects/${project.id}/versions`)).json()).versions[0].sha}`)).json();
  assert.deepEqual(after.files, [], 'the files are those of the first version again');

  // Branches: create, switch, and the timeline follows.
  await page.getByLabel('New branch name').fill('redesign');
  await page.getByTestId('branch-form').getByRole('button').click();
  await page.getByTestId('branch-select').locator('option[value=redesign]').waitFor({ state: 'attached' });
  await page.getByTestId('branch-select').selectOption('redesign');
  await page.waitForFunction(() => document.querySelector('[data-testid=branch-select]')?.value === 'redesign'
    && document.querySelector('.branch-others')?.innerText.includes('main'));
  // Back to main through the same control: the select must follow again.
  await page.getByTestId('branch-select').selectOption('main');
  await page.waitForFunction(() => document.querySelector('[data-testid=branch-select]')?.value === 'main'
    && document.querySelector('.branch-others')?.innerText.includes('redesign'));
  await screenshot(page, 'versions-branch');
  const branches = await (await page.request.get(`/api/v1/projects/${project.id}/branches`)).json();
  assert.equal(branches.branches.find((b) => b.current).name, 'main');
  assert.deepEqual(page.problems, [], 'no console errors or exceptions');
});
