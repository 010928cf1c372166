// The first admin password and its recovery: `edgehook serve` and `edgehook admin reset-password`
// as real processes on real stores (SQLite, and a throwaway PostgreSQL server). Build first: npx tsc -b
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { reachableUrls } from '../src/http/addresses.js';
import { ADMIN_PASSWORD, CP_MAIN, cleanup, login, runCli, startTestControlPlane, tempDir, waitFor } from './helpers/harness.js';
import { startPostgres } from './helpers/stores.js';

const t = suite('first admin and reset-password');
const running = new Set<ChildProcess>();
const dirs: string[] = [];
t.after(async () => {
  for (const c of running) c.kill('SIGKILL');
  await cleanup(...dirs);
});

/** `edgehook serve` in its own process, without EDGEHOOK_ADMIN_PASSWORD (so it generates one). */
function serve(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env = { ...process.env };
  delete env['EDGEHOOK_ADMIN_PASSWORD'];
  const child = spawn(process.execPath, [CP_MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((r) => child.once('exit', (code) => r(code))) };
}

function listen(host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, host, () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

async function freePort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((r) => server.close(r));
  return port;
}

async function loginStatus(url: string, username: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  return res.status;
}

t('a first start that fails (MQTT port taken) does not lose the generated admin password', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const taken = await listen();
  const port = await freePort();
  const failed = serve(['--port', String(port), '--mqtt-port', String(taken.port), '--data-dir', dir]);
  assert.is.not(await failed.exited, 0);
  assert.not.match(failed.output(), /log in as admin with password/);
  await new Promise((r) => taken.server.close(r));
  const mqttPort = await freePort();
  const second = serve(['--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dir]);
  const password = await waitFor('the first-start banner on the second try', () => /log in as admin with password (\S+)/.exec(second.output())?.[1], 20_000);
  assert.match(second.output(), 'edgehook admin reset-password --username admin');
  assert.is(await loginStatus(`http://127.0.0.1:${port}`, 'admin', password), 200);
  second.child.kill('SIGTERM');
  assert.is(await second.exited, 0);
});

t('serve --host 0.0.0.0 prints the addresses a device can reach', async () => {
  const dir = await tempDir();
  dirs.push(dir);
  const [port, mqttPort] = [await freePort(), await freePort()];
  const cp = serve(['--host', '0.0.0.0', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dir]);
  await waitFor('banner', () => /Edgehook control plane/.test(cp.output()) && /password/.test(cp.output()), 20_000);
  const external = Object.values(networkInterfaces()).flatMap((l) => l ?? []).filter((a) => !a.internal && a.family === 'IPv4');
  for (const a of external) assert.match(cp.output(), `http://${a.address}:${port}`);
  if (external.length > 0) assert.match(cp.output(), `Edgehook control plane: http://${external[0]?.address}:${port}`);
  cp.child.kill('SIGTERM');
  await cp.exited;
});

t('reachable URLs: interface addresses for a wildcard host, the host itself otherwise', () => {
  const ifs = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
    eth0: [
      { address: '192.168.1.10', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.10/24' },
      { address: 'fd00::2', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fd00::2/64', scopeid: 0 },
      { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 },
    ],
  } as const;
  const copy = JSON.parse(JSON.stringify(ifs));
  assert.equal(reachableUrls('0.0.0.0', 8080, copy), ['http://192.168.1.10:8080', 'http://127.0.0.1:8080']);
  assert.equal(reachableUrls('::', 8080, copy), ['http://192.168.1.10:8080', 'http://[fd00::2]:8080', 'http://127.0.0.1:8080']);
  assert.equal(reachableUrls('10.0.0.5', 8080, copy), ['http://10.0.0.5:8080']);
});

t('admin reset-password on the SQLite store: generated or from EDGEHOOK_NEW_PASSWORD; sessions end; bad input is clear', async () => {
  const cp = await startTestControlPlane();
  dirs.push(cp.dataDir);
  const config = await tempDir('edgehook-cli-');
  dirs.push(config);
  const before = await login(cp.url);
  const check = () => fetch(`${cp.url}/api/auth/check`, { headers: { authorization: `Bearer ${before.accessToken}` } }).then((r) => r.status);
  assert.is(await check(), 200);
  // Offline tool on the store the (running) server uses: no login, no server URL.
  const generated = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--data-dir', cp.dataDir], { EDGEHOOK_NEW_PASSWORD: '' });
  assert.is(generated.code, 0, generated.stderr);
  const password = /new password for admin: (\S+)/.exec(generated.stdout)?.[1] ?? '';
  assert.ok(password.length >= 12, generated.stdout);
  assert.is(await loginStatus(cp.url, 'admin', ADMIN_PASSWORD), 403, 'the old password no longer works');
  assert.is(await loginStatus(cp.url, 'admin', password), 200);
  assert.is(await check(), 403, 'the old session ended');
  // From the environment, with the store given as a path.
  const chosen = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--database', join(cp.dataDir, 'edgehook.db')], { EDGEHOOK_NEW_PASSWORD: 'chosen-password-1' });
  assert.is(chosen.code, 0, chosen.stderr);
  assert.not.match(chosen.stdout, 'chosen-password-1');
  assert.is(await loginStatus(cp.url, 'admin', 'chosen-password-1'), 200);
  const short = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--data-dir', cp.dataDir], { EDGEHOOK_NEW_PASSWORD: 'short' });
  assert.is(short.code, 2);
  assert.match(short.stderr, 'EDGEHOOK_NEW_PASSWORD: ');
  const nobody = await runCli(config, ['admin', 'reset-password', '--username', 'nobody', '--data-dir', cp.dataDir]);
  assert.is(nobody.code, 1);
  assert.match(nobody.stderr, 'no user "nobody" in the store');
  const nowhere = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--data-dir', join(cp.dataDir, 'missing')]);
  assert.is(nowhere.code, 1);
  assert.match(nowhere.stderr, `no Edgehook store at ${join(cp.dataDir, 'missing', 'edgehook.db')}`);
  // No way to put a password in argv.
  const inArgv = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--password', 'x', '--data-dir', cp.dataDir]);
  assert.is(inArgv.code, 2);
  assert.match(inArgv.stderr, "unknown option '--password'");
  await cp.close();
});

t('admin reset-password on a PostgreSQL store (postgres:// URL)', async () => {
  const pg = await startPostgres();
  if ('missing' in pg) {
    if (process.env['CI'] === 'true') throw new Error(`Postgres is required in CI: ${pg.missing}`);
    process.stderr.write(`skipped the PostgreSQL reset: ${pg.missing}\n`);
    return;
  }
  try {
    const cp = await startTestControlPlane({ args: ['--database', pg.url] });
    dirs.push(cp.dataDir);
    const config = await tempDir('edgehook-cli-');
    dirs.push(config);
    const res = await runCli(config, ['admin', 'reset-password', '--username', 'admin', '--database', pg.url], { EDGEHOOK_NEW_PASSWORD: 'from-postgres-1' });
    assert.is(res.code, 0, res.stderr);
    assert.is(await loginStatus(cp.url, 'admin', 'from-postgres-1'), 200);
    await cp.close();
  } finally {
    await pg.stop();
  }
});

t.run();
