// SFTP into servers with OpenSSH's own sftp and scp: key and password logins, upload, download,
// rename, mkdir, delete, a 100 MB file, the traversal corpus, permissions and revocation.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { ADMIN_PASSWORD, adminApi, apiClient, cleanup, login, runCli, killAllAgents, startTestControlPlane, tempDir, waitFor, type AgentProcess, type Api, type TestControlPlane } from '../helpers/harness.js';
import { containerAgent } from '../containers/fixtures.js';
import { askpass, makeKey, opensshAvailable, run, sshOptions } from './openssh.js';

interface Ctx { cp: TestControlPlane; api: Api; agent: AgentProcess & { deviceId: string }; dir: string; key: string; user: string }
const t = suite<Ctx>('SFTP into servers (OpenSSH sftp and scp)');
const LONG = 120_000;

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest('hex');
}

if (!opensshAvailable()) {
  t.skip('SFTP tests (no OpenSSH clients)', () => undefined);
  t.run();
} else {
  t.before(async (ctx) => {
    ctx.cp = await startTestControlPlane({ args: ['--sftp-port', '0'] });
    ctx.api = await adminApi(ctx.cp);
    ctx.agent = await containerAgent(ctx.cp, ctx.api, 'simulated', 'sftp-dev');
    const put = await ctx.api.request('PUT', `/api/devices/${ctx.agent.deviceId}/servers`, { servers: [{ name: 'files1', image: 'sim/echo' }] });
    if (!put.body.apply?.ok) throw new Error(`declaring the server failed: ${JSON.stringify(put.body)}`);
    ctx.dir = await tempDir('edgehook-sftp-');
    ctx.key = await makeKey(ctx.dir);
    const added = await ctx.api.request('POST', '/api/users/me/ssh-keys', { publicKey: await readFile(`${ctx.key}.pub`, 'utf8') });
    if (added.status !== 201) throw new Error(`adding the key failed: ${JSON.stringify(added.body)}`);
    ctx.user = 'admin.files1@sftp-dev';
  });
  t.after(async (ctx) => {
    await killAllAgents();
    await ctx.cp?.close();
    await cleanup(ctx.cp?.dataDir ?? '', ctx.dir ?? '');
  });

  const sftp = (ctx: Ctx, batch: string, extra: string[] = [], env: Record<string, string> = {}) =>
    run('sftp', [...sshOptions(ctx.cp.sftpPort ?? 0, ctx.user, ['-i', ctx.key, '-o', 'BatchMode=yes', ...extra]), '-b', '-', '127.0.0.1'], { input: batch, env });

  t('the host key is kept 0600 in the data directory; keys are listed and refused when malformed', async ({ cp, api }) => {
    const st = await stat(join(cp.dataDir, 'sftp_host_ed25519_key'));
    assert.is(st.mode & 0o777, 0o600);
    const keys = await api.request('GET', '/api/users/me/ssh-keys');
    assert.is(keys.body.length, 1);
    assert.match(keys.body[0].fingerprint, /^SHA256:/);
    const bad = await api.request('POST', '/api/users/me/ssh-keys', { publicKey: '-----BEGIN OPENSSH PRIVATE KEY----- nope' });
    assert.is(bad.status, 400);
    assert.match(bad.body.error.message, /not an SSH public key/);
  });

  t('sftp with a key: put, ls, mkdir, rename, get, rm, rmdir — all in the server root on the device', async (ctx) => {
    const local = join(ctx.dir, 'hello.txt');
    await writeFile(local, 'hello over sftp\n');
    const r = await sftp(ctx, [`put ${local} /hello.txt`, 'mkdir /sub', 'rename /hello.txt /sub/moved.txt', 'ls -l /sub', `get /sub/moved.txt ${join(ctx.dir, 'back.txt')}`, 'rm /sub/moved.txt', 'rmdir /sub', 'ls /'].join('\n'));
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /moved\.txt/);
    assert.is(await readFile(join(ctx.dir, 'back.txt'), 'utf8'), 'hello over sftp\n');
    const listing = await ctx.api.request('GET', `/api/devices/${ctx.agent.deviceId}/servers/files1/files?path=/`);
    assert.equal(listing.body, [], 'the HTTP file routes see the same (now empty) root');
  });

  t('scp up and down', async (ctx) => {
    const local = join(ctx.dir, 'scp.bin');
    await writeFile(local, randomBytes(300_000));
    const opts = sshOptions(ctx.cp.sftpPort ?? 0, ctx.user, ['-i', ctx.key, '-o', 'BatchMode=yes']);
    const up = await run('scp', [...opts, local, '127.0.0.1:/scp.bin']);
    assert.is(up.code, 0, up.stderr);
    const down = await run('scp', [...opts, '127.0.0.1:/scp.bin', join(ctx.dir, 'scp-back.bin')]);
    assert.is(down.code, 0, down.stderr);
    assert.is(await sha256(join(ctx.dir, 'scp-back.bin')), await sha256(local));
  });

  t('a 100 MB file up and back, byte for byte', async (ctx) => {
    const big = join(ctx.dir, 'big.bin');
    await writeFile(big, randomBytes(100 * 1024 * 1024));
    const r = await sftp(ctx, `put ${big} /big.bin\nget /big.bin ${join(ctx.dir, 'big-back.bin')}\nrm /big.bin\n`);
    assert.is(r.code, 0, r.stderr);
    assert.is(await sha256(join(ctx.dir, 'big-back.bin')), await sha256(big));
  });

  t('the traversal corpus the HTTP routes refuse is refused here, symlink escapes too', async (ctx) => {
    await symlink('/etc', join(ctx.agent.stateDir, 'servers', 'files1', 'etc-link'));
    for (const bad of ['../../../etc/passwd', '/../../etc/shadow', 'a/../../x', '/etc-link/passwd']) {
      const get = await sftp(ctx, `get ${bad} ${join(ctx.dir, 'stolen')}\n`);
      assert.is.not(get.code, 0, `get ${bad}`);
      const put = await sftp(ctx, `put ${join(ctx.dir, 'scp.bin')} ${bad}\n`);
      assert.is.not(put.code, 0, `put ${bad}`);
      const ls = await sftp(ctx, `ls ${bad}\n`);
      assert.is.not(ls.code, 0, `ls ${bad}`);
    }
  });

  t('password login with OpenSSH; wrong password, unknown server or device, and a role without containers.files are refused', async (ctx) => {
    const port = ctx.cp.sftpPort ?? 0;
    // Not -b: batch mode turns password logins off. Commands come from stdin instead.
    const byPassword = async (user: string, password: string) =>
      run('sftp', [...sshOptions(port, user, ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1']), '127.0.0.1'], { input: 'pwd\n', env: await askpass(ctx.dir, password), timeoutMs: 60_000 });
    const ok = await byPassword(ctx.user, ADMIN_PASSWORD);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Remote working directory: \//);
    assert.is.not((await byPassword(ctx.user, 'wrong-password')).code, 0);
    for (const user of ['admin.nope@sftp-dev', 'admin.files1@no-such-device', 'nobody.files1@sftp-dev', 'admin@sftp-dev']) {
      const r = await run('sftp', [...sshOptions(port, user, ['-i', ctx.key, '-o', 'BatchMode=yes']), '-b', '-', '127.0.0.1'], { input: 'ls /\n', timeoutMs: 60_000 });
      assert.is.not(r.code, 0, user);
    }
    await ctx.api.request('POST', '/api/users', { username: 'watcher', password: 'watcher-pass-1', roleName: 'viewer' });
    assert.is.not((await byPassword('watcher.files1@sftp-dev', 'watcher-pass-1')).code, 0, 'viewer has no containers.files');
  });

  t('a removed key stops working; deleting the user ends an open session within about a second', async (ctx) => {
    const port = ctx.cp.sftpPort ?? 0;
    const created = await ctx.api.request('POST', '/api/users', { username: 'ops', password: 'ops-password-1', roleName: 'operator' });
    const ops = apiClient(ctx.cp.url, (await login(ctx.cp.url, 'ops', 'ops-password-1')).accessToken);
    const key = await makeKey(await tempDir('edgehook-sftp-ops-'));
    const add = await ops.request('POST', '/api/users/me/ssh-keys', { publicKey: await readFile(`${key}.pub`, 'utf8'), name: 'laptop' });
    assert.is(add.status, 201);
    const opts = sshOptions(port, 'ops.files1@sftp-dev', ['-i', key, '-o', 'BatchMode=yes']);
    assert.is((await run('sftp', [...opts, '-b', '-', '127.0.0.1'], { input: 'ls /\n' })).code, 0);
    assert.is((await ops.request('DELETE', `/api/users/me/ssh-keys/${add.body.id}`)).status, 204);
    assert.is.not((await run('sftp', [...opts, '-b', '-', '127.0.0.1'], { input: 'ls /\n', timeoutMs: 60_000 })).code, 0, 'the removed key is refused');

    // An open session (sftp reads commands from a pipe we keep open), then the user is deleted.
    await ops.request('POST', '/api/users/me/ssh-keys', { publicKey: await readFile(`${key}.pub`, 'utf8') });
    const live = spawn('sftp', [...opts, '127.0.0.1'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let out = '';
    live.stdout.on('data', (d) => (out += d));
    live.stderr.on('data', (d) => (out += d));
    live.stdin.write('pwd\n');
    await waitFor('sftp session up', () => /Remote working directory/.test(out), LONG);
    assert.is((await ctx.api.request('DELETE', `/api/users/${created.body.id}`)).status, 204);
    // The server disconnects it (sftp itself then waits for its stdin to end).
    const ended = await waitFor('disconnected', () => /Received disconnect|Connection closed/.test(out), 20_000).catch(() => false);
    if (live.pid) process.kill(-live.pid, 'SIGKILL');
    assert.ok(ended, `the session of a deleted user ends: ${out}`);
  });

  t('edgehook ssh-key add, ls, rm (the built CLI); a private key is refused', async (ctx) => {
    const config = await tempDir('edgehook-cli-');
    assert.is((await runCli(config, ['login', '--server', ctx.cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD })).code, 0);
    const key = await makeKey(await tempDir('edgehook-sftp-cli-'));
    const add = await runCli(config, ['ssh-key', 'add', `${key}.pub`, '--name', 'ci-key', '--json']);
    assert.is(add.code, 0, add.stderr);
    const added = JSON.parse(add.stdout);
    const ls = await runCli(config, ['ssh-key', 'ls']);
    assert.match(ls.stdout, new RegExp(`${added.id} +ci-key +ssh-ed25519 +SHA256:`));
    const priv = await runCli(config, ['ssh-key', 'add', key]);
    assert.is(priv.code, 2);
    assert.match(priv.stderr, /private key/);
    assert.is((await runCli(config, ['ssh-key', 'rm', added.id])).code, 0);
    assert.not.match((await runCli(config, ['ssh-key', 'ls'])).stdout, /ci-key/);
    await cleanup(config);
  });

  t.run();
}
