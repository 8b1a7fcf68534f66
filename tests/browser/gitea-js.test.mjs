// A real Gitea client library from the npm registry (gitea-js) against the
// Gitea-compatible API at http://HOST/git.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { giteaApi } from 'gitea-js';
import { startServer } from './support.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

const PASSWORD = 'correct horse battery staple';

test('gitea-js: version, user, repository, files, branches, commits', async () => {
  const signup = await fetch(`${server.url}/api/v1/auth/signup`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'linus@example.com', name: 'Linus', password: PASSWORD }),
  });
  assert.equal(signup.status, 201);
  // A token made the Gitea way: Basic auth and a scope.
  const basic = 'Basic ' + Buffer.from(`linus:${PASSWORD}`).toString('base64');
  const made = await fetch(`${server.url}/git/api/v1/users/linus/tokens`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: basic },
    body: JSON.stringify({ name: 'gitea-js', scopes: ['write:repository', 'read:user'] }),
  });
  assert.equal(made.status, 201);
  const { sha1: token } = await made.json();

  const api = giteaApi(`${server.url}/git`, { token, customFetch: fetch });
  const version = await api.version.getVersion();
  assert.match(version.data.version, /^1\.(2[1-9]|[3-9]\d)\./);

  const me = await api.user.userGetCurrent();
  assert.equal(me.data.login, 'linus');

  const repo = await api.user.createCurrentUserRepo({ name: 'kernel', description: 'A small kernel', auto_init: true });
  assert.equal(repo.status, 201);
  assert.equal(repo.data.full_name, 'linus/kernel');
  assert.equal(repo.data.default_branch, 'main');

  const got = await api.repos.repoGet('linus', 'kernel');
  assert.equal(got.data.description, 'A small kernel');

  const created = await api.repos.repoCreateFile('linus', 'kernel', 'src/main.c', {
    content: Buffer.from('int main(void) { return 0; }\n').toString('base64'),
    message: 'Add main.c',
  });
  assert.equal(created.status, 201);
  const file = await api.repos.repoGetContents('linus', 'kernel', 'src/main.c', { ref: 'main' });
  assert.equal(Buffer.from(file.data.content, 'base64').toString(), 'int main(void) { return 0; }\n');

  const updated = await api.repos.repoUpdateFile('linus', 'kernel', 'src/main.c', {
    content: Buffer.from('int main(void) { return 1; }\n').toString('base64'),
    sha: file.data.sha,
    message: 'Exit with 1',
  });
  assert.equal(updated.status, 200);

  const branch = await api.repos.repoCreateBranch('linus', 'kernel', { new_branch_name: 'next', old_branch_name: 'main' });
  assert.equal(branch.status, 201);
  const branches = await api.repos.repoListBranches('linus', 'kernel');
  assert.deepEqual(branches.data.map((b) => b.name), ['main', 'next']);

  const commits = await api.repos.repoGetAllCommits('linus', 'kernel', { sha: 'main', limit: 10 });
  assert.deepEqual(commits.data.map((c) => c.commit.message.trim()), ['Exit with 1', 'Add main.c', 'Start from the template']);
  assert.equal(commits.headers.get('x-total'), '3');

  const removed = await api.repos.repoDeleteFile('linus', 'kernel', 'src/main.c', { sha: updated.data.content.sha, message: 'Remove main.c' });
  assert.equal(removed.status, 200);

  // Errors surface as Gitea's error body.
  await assert.rejects(api.repos.repoGet('linus', 'missing'), (e) => e.status === 404 && typeof e.error.message === 'string');
});
