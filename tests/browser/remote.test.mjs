// The "Git remote" card of the deployments page in headless Chromium. The
// remote is another project's repository on this same appliance (its git
// over HTTP, the owner's API token as the token), so push and pull are
// real: link (the token shown only as its last four characters, the
// webhook secret once), a URL with credentials refused, Pull now brings a
// version made upstream, Push now sends one made here, the last push is
// shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated } from './support.mjs';

let server, browser;
before(async () => {
  // The remote is on loopback over plain http: allowed here only.
  server = await startServer({ AUTOCREA_REMOTE_ALLOW_HTTP: 'on', AUTOCREA_REMOTE_ALLOW_LOOPBACK: 'on' });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

const PASSWORD = 'correct horse battery staple';

async function save(page, csrf, project, path, content) {
  const cur = await page.request.get(`/api/v1/projects/${project}/file?path=${path}`);
  const data = { content };
  if (cur.status() === 200) data.sha = (await cur.json()).sha;
  const r = await page.request.put(`/api/v1/projects/${project}/file?path=${path}`, { data, headers: { 'x-csrf-token': csrf } });
  assert.equal(r.status(), 200, await r.text());
}

test('link a remote, pull, push, from the deployments page', async () => {
  const page = await newPage(browser, server.url);
  const signup = await page.request.post('/api/v1/auth/signup', { data: { email: 'grace@example.com', name: 'Grace Hopper', password: PASSWORD } });
  assert.equal(signup.status(), 201);
  const csrf = signup.headers()['x-csrf-token'];
  const headers = { 'x-csrf-token': csrf };
  const mk = async (name) => (await (await page.request.post('/api/v1/projects', { data: { name, template: 'static' }, headers })).json());
  const project = await mk('Mirrored');
  const upstream = await mk('Upstream');
  const token = (await (await page.request.post('/api/v1/me/tokens', { data: { name: 'remote' }, headers })).json()).token;
  const remoteUrl = `${server.url}/git/grace/${upstream.slug}.git`;

  await page.goto(`/projects/${project.id}/deployments`);
  await hydrated(page, '[data-testid=remote-save]');
  const card = page.getByTestId('remote-card');

  // Credentials inside the URL are refused, and the reason says where they go.
  await page.getByTestId('remote-url').fill(remoteUrl.replace('http://', 'http://grace:secret@'));
  await page.getByTestId('remote-save').click();
  await card.getByRole('alert').filter({ hasText: /token/ }).waitFor();

  // Link with the token: the secret shows once, the token only as ••••last4.
  await page.getByTestId('remote-url').fill(remoteUrl);
  await page.getByTestId('remote-username').fill('grace');
  await page.getByTestId('remote-token').fill(token);
  await page.getByTestId('remote-save').click();
  await page.getByTestId('remote-webhook-secret').waitFor();
  const secret = await page.getByTestId('remote-webhook-secret').innerText();
  assert.ok(secret.length >= 32);
  assert.match(await page.getByTestId('remote-webhook-url').innerText(), new RegExp(`/api/v1/hooks/remote/${project.id}$`));
  assert.equal(await page.getByTestId('remote-token').getAttribute('placeholder'), `••••${token.slice(-4)} (leave empty to keep it)`);
  assert.ok(!(await page.content()).includes(token), 'the token is not on the page');

  // A version made upstream comes in by Pull now (a fast-forward, or a
  // merge when the two projects' first versions differ by a second).
  await save(page, csrf, upstream.id, 'NOTES.md', '# Made upstream\n');
  await page.getByTestId('remote-pull').click();
  await page.getByText(/Pulled: (the remote's changes are new versions here|both sides had changed)/).waitFor();
  const notes = await (await page.request.get(`/api/v1/projects/${project.id}/file?path=NOTES.md`)).json();
  assert.equal(notes.content, '# Made upstream\n');
  // A version made here goes upstream by Push now.
  await save(page, csrf, project.id, 'about.html', '<h1>About</h1>\n');
  await page.getByTestId('remote-push').click();
  await page.getByText('Pushed.').waitFor();
  await page.getByTestId('remote-status').filter({ hasText: /Last push\s*\d{4}-\d\d-\d\d/ }).waitFor();
  const mine = (await (await page.request.get(`/api/v1/projects/${project.id}/versions`)).json()).versions[0].sha;
  const theirs = (await (await page.request.get(`/api/v1/projects/${upstream.id}/versions`)).json()).versions[0].sha;
  assert.equal(theirs, mine, 'the upstream project has the new version');
  await screenshot(page, 'remote-card');

  // After a reload the secret is gone (shown once), the link stays.
  await page.reload();
  await hydrated(page, '[data-testid=remote-save]');
  await page.getByTestId('remote-status').waitFor();
  assert.equal(await page.getByTestId('remote-webhook-secret').count(), 0);
  // The refused link above is the one failed request the browser logs.
  assert.deepEqual(page.problems.filter((p) => !p.includes('status of 400')), []);
});
