import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditEntry } from '@edgehook/shared';
import { ADMIN_PASSWORD, adminApi, apiClient, cleanup, enrolledAgent, killAllAgents, login, runCli, startTestControlPlane, tempDir, waitFor, type Api, type TestControlPlane } from './helpers/harness.js';
import { openSocket, wsUrl } from './remote-exec/fixtures.js';

const t = suite<{ cp: TestControlPlane; api: Api; config: string }>('audit log');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane();
  ctx.api = await adminApi(ctx.cp);
  ctx.config = await tempDir('edgehook-cli-');
});
t.after(async (ctx) => {
  await killAllAgents();
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir, ctx.config);
});

async function entries(api: Api, query = ''): Promise<AuditEntry[]> {
  const res = await api.request('GET', `/api/audit${query}`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body.entries;
}

const find = (list: AuditEntry[], action: string, actor?: string): AuditEntry | undefined => list.find((e) => e.action === action && (actor === undefined || e.actor === actor));

t('operator actions over REST, the PiKVM facade and sockets are recorded with who, where, what, device, result', async ({ cp, api }) => {
  const failed = await fetch(`${cp.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'wrong-password' }) });
  assert.is(failed.status, 403);
  const created = await api.request('POST', '/api/users', { username: 'vic', password: 'viewer-password-1', roleName: 'viewer' });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const agent = await enrolledAgent(cp, api, { hostname: 'audited' });
  const dev = agent.deviceId;
  assert.is((await api.request('POST', `/api/devices/${dev}/hardware/gpio/relay/switch`, { state: true })).status, 200);
  assert.is((await api.request('POST', `/api/devices/${dev}/hardware/atx/power`, { action: 'on' })).status, 200);
  const kvm = await fetch(`${cp.url}/kvm/${dev}/api/atx/power?action=off&wait=1`, { method: 'POST', headers: { 'X-KVMD-User': 'admin', 'X-KVMD-Passwd': ADMIN_PASSWORD } });
  // Whatever the simulated PC answers (it may still be booting: 409), the attempt is recorded.
  const kvmStatus = kvm.status;
  const vic = apiClient(cp.url, (await login(cp.url, 'vic', 'viewer-password-1')).accessToken);
  assert.is((await vic.request('POST', `/api/devices/${dev}/hardware/atx/power`, { action: 'off' })).status, 403);
  assert.is((await vic.request('GET', '/api/audit')).status, 403, 'reading the audit log needs audit.read');
  const shell = await openSocket(wsUrl(cp, `/api/devices/${dev}/shell`), { authorization: `Bearer ${api.token}` });
  shell.ws.close(1000);
  await shell.closed;

  const log = await waitFor('socket close recorded', async () => {
    const list = await entries(api, '?limit=500');
    return find(list, 'shell.close') ? list : undefined;
  });
  const loginFailed = find(log, 'auth.login.failed');
  assert.ok(loginFailed, 'failed login');
  assert.is(loginFailed?.actor, 'admin');
  assert.is(loginFailed?.actorId, null);
  assert.is(loginFailed?.result, 'denied');
  assert.match(loginFailed?.source ?? '', /127\.0\.0\.1/);
  assert.ok(find(log, 'auth.login', 'admin'), 'the successful login of the test api');
  const userCreate = find(log, 'users.create', 'admin');
  assert.is(userCreate?.status, 201);
  const gpio = find(log, 'hardware.gpio.switch', 'admin');
  assert.equal([gpio?.deviceId, gpio?.target, gpio?.result], [dev, 'relay', 'ok']);
  assert.is(find(log, 'hardware.atx.power', 'admin')?.deviceId, dev);
  const viaKvm = find(log, 'kvm.atx.power', 'admin');
  assert.equal([viaKvm?.deviceId, viaKvm?.status], [dev, kvmStatus], 'PiKVM facade actions name their user');
  const denied = find(log, 'hardware.atx.power', 'vic');
  assert.equal([denied?.result, denied?.status], ['denied', 403]);
  const open = find(log, 'shell.open', 'admin');
  assert.equal([open?.deviceId, open?.status], [dev, 101]);
  assert.is(find(log, 'shell.close', 'admin')?.status, 1000);
  assert.is(find(log, 'devices.enroll')?.result, 'ok');
  for (const e of log) assert.is(e.replica, cp.instanceId, 'written by the replica that served it');

  // Filters and paging over HTTP.
  const forDevice = await entries(api, `?device=${dev}&action=hardware.*`);
  assert.equal(new Set(forDevice.map((e) => e.action)), new Set(['hardware.gpio.switch', 'hardware.atx.power']));
  const first = await api.request('GET', '/api/audit?limit=2');
  assert.is(first.body.entries.length, 2);
  const second = await api.request('GET', `/api/audit?limit=2&before=${encodeURIComponent(first.body.next)}`);
  assert.ok(!second.body.entries.some((e: AuditEntry) => first.body.entries.some((f: AuditEntry) => f.id === e.id)));
  assert.is((await api.request('GET', '/api/audit?limit=0')).status, 400);
  assert.is((await api.request('GET', '/api/audit?since=yesterday')).status, 400);
  assert.is((await api.request('GET', '/api/audit?bogus=1')).status, 400);

  assert.is((await api.request('DELETE', `/api/devices/${dev}`)).status, 204);
  await waitFor('device delete recorded', async () => find(await entries(api, `?device=${dev}`), 'devices.delete', 'admin'));
  await agent.stop();
});

t('edgehook audit lists, filters (--since -1h) and pages', async ({ cp, config }) => {
  const li = await runCli(config, ['login', '--server', cp.url, '--username', 'admin'], { EDGEHOOK_PASSWORD: ADMIN_PASSWORD });
  assert.is(li.code, 0, li.stderr);
  const table = await runCli(config, ['audit', '--action', 'hardware.*', '--since', '-1h']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /ACTION/);
  assert.match(table.stdout, /hardware\.atx\.power/);
  assert.not.match(table.stdout, /auth\.login/);
  const all = await runCli(config, ['audit', '--all', '--limit', '2', '--json']);
  assert.is(all.code, 0, all.stderr);
  const list: AuditEntry[] = JSON.parse(all.stdout);
  assert.ok(list.length > 4, `every page followed (${list.length})`);
  assert.is(new Set(list.map((e) => e.id)).size, list.length);
  const bad = await runCli(config, ['audit', '--result', 'maybe']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--result must be ok, denied or error/);
  const badTime = await runCli(config, ['audit', '--since', 'soon']);
  assert.is(badTime.code, 2);
});

t.run();
