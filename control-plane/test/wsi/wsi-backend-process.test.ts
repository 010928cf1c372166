import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminApi, cleanup, repoRoot, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { WsiTestBackend } from './wsi-client.js';

const EXAMPLE = join(repoRoot, 'examples/edgehook-wsi-backend/backend.mjs');
const PASSWORD = 'bright01-quix';
const children = new Set<ChildProcess>();

/** The example backend as a real process; its events are JSON lines on stdout. */
function startExample(cp: TestControlPlane, dir: string, extra: string[] = []): { child: ChildProcess; events: () => any[]; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [EXAMPLE, '--server', `${cp.url.replace(/^http/, 'ws')}/wsi`, '--username', 'quix1', '--state', join(dir, 'token.json'), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The password travels in the environment, never in argv.
    env: { ...process.env, EDGEHOOK_WSI_PASSWORD: PASSWORD },
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, events: () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
}

const t = suite<{ cp: TestControlPlane; api: Api; dir: string; vpnCalls: string[] }>('quix wsi: the example backend process, and get_vpn_conf through the vpn dep');
t.before(async (ctx) => {
  ctx.vpnCalls = [];
  ctx.cp = await startTestControlPlane({
    args: ['--wsi-token-ttl', '3600'],
    wsi: { telemetryEveryMs: 300, requestTimeoutMs: 5000, authTimeoutMs: 2000 },
    vpn: {
      async wireguardConfigForBackend(deviceId) {
        ctx.vpnCalls.push(deviceId);
        if (ctx.vpnCalls.length > 1) throw new Error('the address pool is exhausted');
        return `[Interface]\nPrivateKey=test-key\nAddress=10.8.0.2/32\n# ${deviceId}\n`;
      },
    },
  });
  ctx.api = await adminApi(ctx.cp);
  ctx.dir = await tempDir('edgehook-wsi-');
  assert.is((await ctx.api.request('POST', '/api/roles', { name: 'backends', permissions: ['devices.backend'] })).status, 201);
  assert.is((await ctx.api.request('POST', '/api/users', { username: 'quix1', password: PASSWORD, roleName: 'backends' })).status, 201);
});
t.after(async (ctx) => {
  for (const c of children) c.kill('SIGKILL');
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.dir);
});

t('the example backend signs in, runs, lists and signals a real process, reports telemetry, fetches its VPN config, and comes back with its saved token', async ({ cp, api, dir, vpnCalls }) => {
  const ex = startExample(cp, dir, ['--vpn', join(dir, 'wg0.conf')]);
  const dev = await waitFor('the example online', async () => ((await api.request('GET', '/api/devices?tag=wsi')).body as any[]).find((d) => d.online), 15_000);
  const authenticated = await waitFor('authenticated event', () => ex.events().find((e) => e.event === 'authenticated'));
  assert.is(authenticated.validity, 3600, '--wsi-token-ttl');
  const saved = await stat(join(dir, 'token.json'));
  assert.is(saved.mode & 0o077, 0, 'the token file is private');
  await waitFor('vpn conf', () => ex.events().find((e) => e.event === 'vpn_conf'));
  assert.equal(ex.events().find((e) => e.event === 'vpn_conf'), { event: 'vpn_conf', result: 'success', file: join(dir, 'wg0.conf') });
  assert.match(await readFile(join(dir, 'wg0.conf'), 'utf8'), new RegExp(`^\\[Interface\\]\\nPrivateKey=test-key[\\s\\S]*# ${dev.id}`));
  assert.equal(vpnCalls, [dev.id]);

  const exec = await api.request('POST', `/api/devices/${dev.id}/processes`, { cmd: ['sleep', '30'] });
  assert.is(exec.status, 201, JSON.stringify(exec.body));
  const pid = exec.body.proc_id;
  assert.ok(await stat(`/proc/${pid}`), 'a real process runs');
  const list = await api.request('GET', `/api/devices/${dev.id}/processes`);
  assert.equal(list.body.map((p: any) => [p.pid, p.reqc]), [[pid, 'sleep 30']]);
  assert.is((await api.request('POST', `/api/devices/${dev.id}/processes/signal`, { pid: 1, mode: 'SIGKILL' })).status, 403, 'only processes the backend started');
  assert.is((await api.request('POST', `/api/devices/${dev.id}/processes/signal`, { pid, mode: 'SIGTERM' })).status, 200);
  await waitFor('the process gone from the list', async () => ((await api.request('GET', `/api/devices/${dev.id}/processes`)).body as any[]).length === 0);

  // Polled every 300 ms: the backend's own numbers, stored as telemetry.
  await waitFor('mem.used stored', async () => {
    const q = await api.request('GET', `/api/devices/${dev.id}/telemetry?metric=mem.used&from=-2m&step=10s&agg=last`);
    return q.status === 200 && q.body.series[0].points.some(([, v]: [number, number | null]) => v !== null && v > 0);
  });

  ex.child.kill('SIGTERM');
  await ex.exited;
  await waitFor('offline', async () => (await api.request('GET', `/api/devices/${dev.id}`)).body.online === false);
  const again = startExample(cp, dir);
  await waitFor('the same device online again', async () => (await api.request('GET', `/api/devices/${dev.id}`)).body.online === true, 15_000);
  assert.is(((await api.request('GET', '/api/devices?tag=wsi')).body as any[]).length, 1, 'the token brought back the same backend, not a new one');
  again.child.kill('SIGTERM');
  await again.exited;
});

t('get_vpn_conf: a failing VPN service answers result failure with its reason', async ({ cp }) => {
  const b = await WsiTestBackend.connect(`${cp.url.replace(/^http/, 'ws')}/wsi`, () => undefined);
  assert.is((await b.login('quix1', PASSWORD)).success, true);
  const bad = await b.request('get_vpn_conf', { conf_type: 'openvpn' });
  assert.equal([bad.result, bad.reason], ['failure', 'bad_request']);
  const failed = await b.request('get_vpn_conf', { conf_type: 'wireguard', tun_mode: 'udp' });
  assert.equal(failed, { result: 'failure', reason: 'vpn_failed', message: 'the address pool is exhausted' });
  b.close();
});

t('a socket that never authenticates is closed', async ({ cp }) => {
  const b = await WsiTestBackend.connect(`${cp.url.replace(/^http/, 'ws')}/wsi`);
  const closed = await b.closed;
  assert.equal([closed.code, closed.reason], [1008, 'authenticate within 2 s']);
});

t.run();
