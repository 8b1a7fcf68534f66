// A turn's card in headless Chromium, with a scripted OpenAI-compatible model
// that streams: tokens of a long call show while it is written, Stop ends the
// turn in the middle of that call, and a failed turn stays in the thread
// after a later message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, hydrated, csrf, scriptedModel, offerScriptedModel } from './support.mjs';

const PASSWORD = 'correct horse battery staple 42';
let server;
let browser;
let model;
let page;
let headers;
let project;
let open = 0; // streamed answers still being written (Stop must end them)

/// "slow ..." streams a create_file call a piece every 100 ms for a minute;
/// "fail ..." answers 500; anything else finishes at once.
function streamingModel() {
  return scriptedModel((request, res) => {
    // The request is the newest user message (earlier ones are the thread's history).
    const user = request.messages.filter((m) => m.role === 'user').map((m) => m.content).pop() || '';
    if (user.includes('fail')) {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { message: 'the scripted model broke on purpose' } }));
      return;
    }
    assert.equal(request.stream, true, 'the agent streams its calls');
    res.setHeader('content-type', 'text/event-stream');
    const send = (delta, finish = null) => res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'coder',
      choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
    if (!user.includes('slow') || request.messages.some((m) => m.role === 'tool')) {
      send({ role: 'assistant', content: 'Done.' });
      send({}, 'stop');
      res.end('data: [DONE]\n\n');
      return;
    }
    open += 1;
    send({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'create_file', arguments: '' } }] });
    send({ tool_calls: [{ index: 0, function: { arguments: '{"path": "index.html", "content": "' } }] });
    let n = 0;
    const timer = setInterval(() => {
      n += 1;
      send({ tool_calls: [{ index: 0, function: { arguments: `line ${n} ` } }] });
      if (n >= 600) { clearInterval(timer); send({ tool_calls: [{ index: 0, function: { arguments: '"}' } }] }); send({}, 'tool_calls'); res.end('data: [DONE]\n\n'); }
    }, 100);
    res.on('close', () => { clearInterval(timer); open -= 1; });
  });
}

before(async () => {
  model = await streamingModel();
  server = await startServer();
  browser = await launchBrowser();
  page = await newPage(browser, server.url);
  let r = await page.request.post('/api/v1/auth/signup', { data: { email: 'ada@example.com', name: 'Ada', password: PASSWORD } });
  assert.equal(r.status(), 201, await r.text());
  headers = { 'X-CSRF-Token': await csrf(page) };
  await offerScriptedModel(page, headers, model.url);
  r = await page.request.post('/api/v1/projects', { headers, data: { name: 'Turns', template: 'static', model: 'scripted/coder' } });
  assert.equal(r.status(), 201, await r.text());
  project = (await r.json()).id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
  model?.srv.close();
});

async function send(text) {
  const box = page.getByLabel('Message to the agent');
  await box.fill(text);
  await page.getByTestId('send-message').click();
}

test('tokens of a long call stream to the card and Stop ends it mid-call', async () => {
  await page.goto(`/projects/${project}/workspace`);
  await hydrated(page, '[data-testid=send-message]');
  await send('slow: build the page');
  const progress = page.getByTestId('live-progress');
  await page.waitForFunction(() => /Writing a create_file call… (\d\d+) tokens/.test(document.querySelector('[data-testid=live-progress]')?.textContent || ''), null, { timeout: 30000 });
  assert.match(await page.getByTestId('streaming').innerText(), /line \d+/, 'the call being written is shown');
  await screenshot(page, 'turn-streaming');
  assert.equal(open, 1, 'the model is mid-call');

  const stopped = Date.now();
  await page.getByTestId('stop-turn').click();
  await page.getByTestId('turn-card').filter({ hasText: 'stopped' }).first().waitFor({ timeout: 30000 });
  const took = (Date.now() - stopped) / 1000;
  console.log(`Stop ended the turn in the browser after ${took.toFixed(2)} s`);
  await progress.waitFor({ state: 'detached' });
  // The model's request was cancelled, not left to run to its end.
  for (let i = 0; i < 100 && open > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(open, 0, 'the streamed request was closed');
  const file = await (await page.request.get(`/api/v1/projects/${project}/file?path=index.html`)).text();
  assert.ok(!file.includes('line 1 '), 'the stopped turn changed nothing');
  // Sandboxes are off in this server: the workspace's preview answers 503.
  assert.deepEqual(page.problems.filter((p) => !p.includes('status of 503')), []);
});

test('a failed turn stays in the thread after a later message', async () => {
  await send('fail: this one breaks');
  const failed = page.getByTestId('turn-card').filter({ hasText: 'the scripted model broke on purpose' });
  await failed.waitFor({ timeout: 30000 });
  await page.getByTestId('send-message').waitFor();
  await send('now a good one');
  await page.getByTestId('assistant-message').filter({ hasText: 'Done.' }).waitFor({ timeout: 30000 });
  await page.reload();
  await page.getByTestId('assistant-message').filter({ hasText: 'Done.' }).waitFor({ timeout: 30000 });
  assert.equal(await failed.count(), 1, 'the failed turn is still shown, with why');
  const cards = await page.getByTestId('turn-card').evaluateAll((cs) => cs.map((c) => c.dataset.status));
  assert.deepEqual(cards, ['stopped', 'failed', 'done']);
  await screenshot(page, 'turn-failed-stays');
  assert.deepEqual(page.problems.filter((p) => !p.includes('status of 503')), []);
});
