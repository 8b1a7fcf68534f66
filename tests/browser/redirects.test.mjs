// Open redirects after sign-in, in headless Chromium: `/login?next=...`
// with targets that a URL parser reads as another host (a tab or newline
// is dropped, a backslash is a slash) must land on the console itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, hydrated } from './support.mjs';

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const page = await newPage(browser, server.url);
  const r = await page.request.post('/api/v1/auth/signup', {
    data: { email: 'ada@example.com', name: 'Ada', password: PASSWORD },
  });
  assert.equal(r.status(), 201, await r.text());
  await page.context().close();
});
after(async () => { await browser?.close(); await server?.stop(); });

const PASSWORD = 'correct horse battery staple';

/// Signs in on `/login?next=<rawNext>` (rawNext as it stands in the URL)
/// and returns the URL the browser lands on.
async function signInWithNext(rawNext) {
  const page = await newPage(browser, server.url);
  // Nothing may leave this machine: any request to another host fails at once.
  await page.context().route((url) => url.origin !== server.url, (route) => route.abort());
  await page.goto(`/login?next=${rawNext}`);
  await hydrated(page);
  await page.locator('input[name=email]').fill('ada@example.com');
  await page.locator('input[name=password]').fill(PASSWORD);
  const left = page.waitForURL((url) => url.pathname !== '/login', { timeout: 15000, waitUntil: 'commit' }).catch(() => {});
  await page.getByRole('button', { name: 'Sign in' }).click();
  await left;
  // A navigation to another host that was aborted leaves an error page.
  await page.waitForTimeout(300);
  const landed = page.url();
  await page.context().close();
  return landed;
}

for (const hostile of ['/%09/evil.example', '/%0A/evil.example', '/%0D%0A/evil.example', '/%5Cevil.example',
  '/%5C/evil.example', '//evil.example', '/%2F/evil.example', 'https://evil.example', '/%20/evil.example']) {
  test(`sign-in with next=${hostile} stays on the console`, async () => {
    const landed = await signInWithNext(hostile);
    assert.equal(landed, `${server.url}/`, `landed on ${landed}`);
  });
}

test('sign-in with a local next goes there', async () => {
  assert.equal(await signInWithNext('/profile'), `${server.url}/profile`);
});
