import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Clock } from '@edgehook/shared';
import { adminApi, cleanup, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { openSocket, wsUrl } from '../remote-exec/fixtures.js';
import { SEED_RUNNING, SEED_TELE, seedHandler, WsiTestBackend } from './wsi-client.js';

// Moved forward by the expiry test (the last one).
let offsetMs = 0;
const clock: Clock = { now: () => Date.now() + offsetMs, monotonic: () => performance.now() };
const BACKEND = { username: 'quix1', password: 'bright01-quix' };

const t = suite<{ cp: TestControlPlane; api: Api; url: string; token: string; deviceId: string; backend: WsiTestBackend }>('quix wsi gateway');
t.before(async (ctx) => {
  ctx.cp = await startTestControlPlane({ clock, wsi: { telemetryEveryMs: 0, requestTimeoutMs: 800 } });
  ctx.api = await adminApi(ctx.cp);
  ctx.url = `${ctx.cp.url.replace(/^http/, 'ws')}/wsi`;
  assert.is((await ctx.api.request('POST', '/api/roles', { name: 'backends', permissions: ['devices.backend'] })).status, 201);
  for (const [username, roleName] of [[BACKEND.username, 'backends'], ['quix2', 'backends'], ['viewer1', 'viewer']]) {
    const res = await ctx.api.request('POST', '/api/users', { username, password: BACKEND.password, roleName });
    assert.is(res.status, 201, JSON.stringify(res.body));
  }
});
t.after(async (ctx) => {
  await ctx.cp.close();
  await cleanup(ctx.cp.dataDir);
});

const device = async (api: Api, id: string): Promise<any> => (await api.request('GET', `/api/devices/${id}`)).body;

t('bad envelopes, requests before authenticate and unknown requests answer clear failures', async ({ url }) => {
  const b = await WsiTestBackend.connect(url);
  const notJson = await b.raw('{not json');
  assert.equal([notJson.rid, notJson.msg.success, notJson.msg.reason], [null, false, 'bad_envelope']);
  assert.is((await b.raw('[1,2]')).msg.reason, 'bad_envelope');
  assert.is((await b.raw(Buffer.from([1, 2, 3]))).msg.reason, 'bad_envelope', 'binary frame');
  const noRid = await b.raw('{"req":"authenticate","msg":{}}');
  assert.equal([noRid.rid, noRid.msg.reason], [null, 'bad_envelope']);
  assert.match(noRid.msg.message, /rid/);
  // The rid is kept when there is one, so the backend can match the failure.
  const badReq = await b.requestWithRid(77, { req: 5, rid: 77, msg: {} });
  assert.is(badReq.reason, 'bad_envelope');
  const before = await b.request('execute', { cmd: ['ls'] });
  assert.equal([before.success, before.reason], [false, 'not_authenticated']);
  const vpnBefore = await b.request('get_vpn_conf', { conf_type: 'wireguard', tun_mode: 'udp' });
  assert.equal([vpnBefore.result, vpnBefore.reason], ['failure', 'not_authenticated']);
  b.close();
});

t('authenticate failures: password_invalid, not_permitted, token_invalid, bad_request', async ({ url }) => {
  const b = await WsiTestBackend.connect(url);
  const wrong = await b.login(BACKEND.username, 'not-the-password');
  assert.equal(wrong, { success: false, reason: 'password_invalid', message: 'wrong username or password' });
  const unknown = await b.login('nobody-here', 'whatever-password');
  assert.is(unknown.reason, 'password_invalid');
  const viewer = await b.login('viewer1', BACKEND.password);
  assert.equal([viewer.success, viewer.reason], [false, 'not_permitted']);
  assert.match(viewer.message, /devices\.backend/);
  const badToken = await b.request('authenticate', {}, 'ehwsi_not-a-token');
  assert.equal([badToken.success, badToken.reason], [false, 'token_invalid']);
  const noCreds = await b.request('authenticate', { username: 'x' });
  assert.is(noCreds.reason, 'bad_request');
  b.close();
});

t('a password authenticate makes a fleet device: token, validity, listed, tagged, online, audited', async (ctx) => {
  const { url, api } = ctx;
  const b = await WsiTestBackend.connect(url, seedHandler);
  const auth = await b.login(BACKEND.username, BACKEND.password);
  assert.is(auth.success, true);
  assert.type(auth.token, 'string');
  assert.is(auth.validity, 86400);
  assert.equal(Object.keys(auth).sort(), ['success', 'token', 'validity']);
  const listed = await waitFor('the backend listed online', async () => ((await api.request('GET', '/api/devices?tag=wsi')).body as any[]).find((d) => d.online && d.transport === 'wsi'));
  assert.match(listed.name, /^wsi-quix1-[0-9a-f]{6}$/);
  assert.equal(listed.tags, ['wsi']);
  ctx.token = auth.token;
  ctx.deviceId = listed.id;
  ctx.backend = b;
  const tagged = await api.request('PATCH', `/api/devices/${listed.id}`, { tags: ['wsi', 'lab'] });
  assert.equal([tagged.status, tagged.body.tags], [200, ['wsi', 'lab']]);
  assert.is((await b.request('launch_rockets', {})).reason, 'unknown_request');
  assert.is((await b.login(BACKEND.username, BACKEND.password)).reason, 'bad_request', 'a second password authenticate on a bound socket');
  // A token on a later request must be the socket's own.
  assert.is((await b.request('get_vpn_conf', {}, 'ehwsi_someone-else')).reason, 'token_invalid');
  const audit = await waitFor('audit entries', async () => {
    const list = (await api.request('GET', '/api/audit?limit=200')).body.entries as any[];
    return list.some((e) => e.action === 'wsi.open') ? list : undefined;
  });
  const reg = audit.find((e) => e.action === 'wsi.register');
  assert.equal([reg?.actor, reg?.deviceId], [BACKEND.username, listed.id]);
  assert.ok(audit.find((e) => e.action === 'wsi.auth.failed' && e.actor === BACKEND.username), 'the wrong password of the test before');
});

t('process REST through a WSI device speaks execute, view_running and proc_signal', async ({ api, deviceId, backend }) => {
  const exec = await api.request('POST', `/api/devices/${deviceId}/processes`, { cmd: ['python3', 'testserver/testserver.py', '--help'] });
  assert.equal([exec.status, exec.body], [201, { result: 'success', proc_id: 12345, id: '12345' }]);
  const sent = backend.requests.find((r) => r.req === 'execute');
  assert.equal(sent?.msg, { cmd: ['python3', 'testserver/testserver.py', '--help'] });
  assert.type(sent?.rid, 'number');
  const list = await api.request('GET', `/api/devices/${deviceId}/processes`);
  assert.is(list.status, 200);
  assert.equal(backend.requests.find((r) => r.req === 'view_running')?.msg, { verb: 1 });
  const [first] = list.body;
  assert.equal([first.pid, first.id, first.title, first.reqc, first.mem_util, first.port_util, first.kind], [12351, '12351', SEED_RUNNING[0]?.title, SEED_RUNNING[0]?.reqc, 111, [12345, 56193], 'arbitrary']);
  const signal = await api.request('POST', `/api/devices/${deviceId}/processes/signal`, { pid: 12351, mode: 'SIGTERM' });
  assert.equal([signal.status, signal.body], [200, { result: 'success' }]);
  assert.equal(backend.requests.find((r) => r.req === 'proc_signal')?.msg, { pid: 12351, mode: 'SIGTERM' });
  const refused = await api.request('POST', `/api/devices/${deviceId}/processes/signal`, { pid: 999, mode: 'SIGKILL' });
  assert.equal([refused.status, refused.body.error.code], [403, 'FORBIDDEN']);
  assert.match(refused.body.error.message, /not started by quix/);
  backend.handler = (req, msg) => (req === 'execute' ? { result: 'failure', reason: 'no such program' } : seedHandler(req, msg));
  const failed = await api.request('POST', `/api/devices/${deviceId}/processes`, { cmd: ['nope'] });
  assert.equal([failed.status, failed.body.error.code], [409, 'CONFLICT']);
  assert.match(failed.body.error.message, /no such program/);
  backend.handler = seedHandler;
  // The seed's `msg: { [...] }` read as an object holding the list.
  backend.handler = (req, msg) => (req === 'view_running' ? { running: SEED_RUNNING } : seedHandler(req, msg));
  assert.equal((await api.request('GET', `/api/devices/${deviceId}/processes`)).body.map((p: any) => p.pid), [12351]);
  backend.handler = (req, msg) => (req === 'execute' ? { proc: 'twelve' } : seedHandler(req, msg));
  const malformed = await api.request('POST', `/api/devices/${deviceId}/processes`, { cmd: ['ls'] });
  assert.equal([malformed.status, malformed.body.error.code], [500, 'INTERNAL']);
  assert.match(malformed.body.error.message, /invalid reply/);
  backend.handler = seedHandler;
  const ping = await api.request('POST', `/api/devices/${deviceId}/ping`);
  assert.is(ping.status, 200, JSON.stringify(ping.body));
});

t('capabilities a WSI backend lacks answer 501 "not supported by this device"', async ({ cp, api, deviceId }) => {
  for (const [method, path, body] of [
    ['GET', `/api/devices/${deviceId}/containers`, undefined],
    ['GET', `/api/devices/${deviceId}/processes/12345`, undefined],
    ['POST', `/api/devices/${deviceId}/processes`, { cmd: ['ls'], cwd: '/tmp' }],
    ['POST', `/api/devices/${deviceId}/hardware/atx/power`, { action: 'on' }],
  ] as const) {
    const res = await api.request(method, path, body);
    assert.is(res.status, 501, `${method} ${path}: ${JSON.stringify(res.body)}`);
    assert.is(res.body.error.code, 'UNKNOWN_METHOD');
    assert.match(res.body.error.message, /not supported by this device/);
  }
  // Byte streams (exec, shell, consoles) fail at once with the same error, not after a timeout.
  const exec = await openSocket(wsUrl(cp, `/api/devices/${deviceId}/exec`), { authorization: `Bearer ${api.token}` });
  exec.ws.send(JSON.stringify({ type: 'open', argv: ['ls'] }));
  await exec.closed;
  const error = JSON.parse(exec.text());
  assert.equal([error.type, error.code], ['error', 'UNKNOWN_METHOD']);
  assert.match(error.message, /not supported by this device/);
});

t('telemetry: the seed snapshot is answered and stored like agent telemetry', async ({ api, deviceId, backend }) => {
  const snap = await api.request('POST', `/api/devices/${deviceId}/telemetry/snapshot`, { stat_types: ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status'] });
  assert.equal([snap.status, snap.body], [200, SEED_TELE]);
  assert.equal(backend.requests.find((r) => r.req === 'telemetry')?.msg, { stat_types: ['ttl_cpu_usage', 'ttl_mem_usage', 'disk_util', 'vpn_status'] });
  const cpu = await waitFor('cpu.usage stored', async () => {
    const q = await api.request('GET', `/api/devices/${deviceId}/telemetry?metric=cpu.usage&from=-2m&step=10s&agg=last`);
    if (q.status !== 200) throw new Error(JSON.stringify(q.body));
    const points = (q.body.series[0]?.points as [number, number | null][]).filter(([, v]) => v !== null);
    return points.length > 0 ? points : undefined;
  });
  assert.is(cpu[cpu.length - 1]?.[1], 6, 'mean of 0.10 0.11 0.02 0.01 as a percent');
  const disk = await api.request('GET', `/api/devices/${deviceId}/telemetry?metric=disk.used&from=-2m&step=10s&agg=last&label=device=/dev/sdb`);
  assert.is(disk.status, 200, JSON.stringify(disk.body));
  assert.is(disk.body.series[0].points.find(([, v]: [number, number | null]) => v !== null)?.[1], 185844831);
  const metrics = (await api.request('GET', `/api/devices/${deviceId}/telemetry/metrics`)).body.metrics.map((m: any) => m.metric);
  for (const m of ['cpu.core.usage', 'mem.used', 'mem.free', 'disk.free', 'vpn.up']) assert.ok(metrics.includes(m), m);
});

t('get_vpn_conf without a VPN service answers the failure shape with a clear reason', async ({ backend, token }) => {
  const conf = await backend.request('get_vpn_conf', { conf_type: 'wireguard', tun_mode: 'udp' }, token);
  assert.equal(conf, { result: 'failure', reason: 'vpn_not_configured', message: 'vpn not configured on this control plane' });
});

t('a backend that never answers times out with 504', async ({ api, deviceId, backend }) => {
  backend.handler = () => undefined;
  const res = await api.request('GET', `/api/devices/${deviceId}/processes`);
  assert.equal([res.status, res.body.error.code], [504, 'DEVICE_TIMEOUT']);
  assert.match(res.body.error.message, /view_running/);
  backend.handler = seedHandler;
});

t('a second socket with the same token destroys the old one; the token gives the remaining validity', async (ctx) => {
  const { url, token, api, deviceId } = ctx;
  const b2 = await WsiTestBackend.connect(url, seedHandler);
  const again = await b2.request('authenticate', {}, token);
  assert.is(again.success, true);
  assert.ok(again.validity <= 86400 && again.validity > 86000, String(again.validity));
  assert.is(again.token, undefined);
  const old = await ctx.backend.closed;
  assert.is(old.code, 4009);
  assert.is((await device(api, deviceId)).online, true);
  assert.is((await api.request('GET', `/api/devices/${deviceId}/processes`)).status, 200, 'calls go to the new socket');
  ctx.backend = b2;
  b2.close();
  await b2.closed;
  await waitFor('offline after close', async () => (await device(api, deviceId)).online === false);
  const offline = await api.request('GET', `/api/devices/${deviceId}/processes`);
  assert.is(offline.status, 503);
});

t('deleting the device closes its socket and ends its token', async ({ url, api, token, deviceId }) => {
  const b = await WsiTestBackend.connect(url, seedHandler);
  assert.is((await b.request('authenticate', {}, token)).success, true);
  await waitFor('online', async () => (await device(api, deviceId)).online === true);
  assert.is((await api.request('DELETE', `/api/devices/${deviceId}`)).status, 204);
  assert.is((await b.closed).code, 4004);
  const b2 = await WsiTestBackend.connect(url);
  assert.is((await b2.request('authenticate', {}, token)).reason, 'token_invalid');
  b2.close();
});

t('deleting the account closes its backends', async ({ url, api }) => {
  const b = await WsiTestBackend.connect(url, seedHandler);
  const auth = await b.login('quix2', BACKEND.password);
  assert.is(auth.success, true);
  const users = (await api.request('GET', '/api/users')).body as any[];
  const quix2 = users.find((u) => u.username === 'quix2');
  assert.is((await api.request('DELETE', `/api/users/${quix2.id}`)).status, 204);
  assert.is((await b.closed).code, 4001);
  const b2 = await WsiTestBackend.connect(url);
  assert.is((await b2.request('authenticate', {}, auth.token)).reason, 'token_invalid');
  b2.close();
});

t('taking devices.backend from the role closes its backends (4003)', async ({ url, api }) => {
  const role = await api.request('POST', '/api/roles', { name: 'temp-backends', permissions: ['devices.backend'] });
  assert.is((await api.request('POST', '/api/users', { username: 'quix3', password: BACKEND.password, roleName: 'temp-backends' })).status, 201);
  const b = await WsiTestBackend.connect(url, seedHandler);
  const auth = await b.login('quix3', BACKEND.password);
  assert.is(auth.success, true);
  assert.is((await api.request('PATCH', `/api/roles/${role.body.id}`, { permissions: ['devices.read'] })).status, 200);
  assert.is((await b.closed).code, 4003);
  const b2 = await WsiTestBackend.connect(url);
  const again = await b2.request('authenticate', {}, auth.token);
  assert.equal([again.success, again.reason], [false, 'token_invalid']);
  b2.close();
});

t('an expired token is token_invalid', async ({ url }) => {
  const b = await WsiTestBackend.connect(url, seedHandler);
  const auth = await b.login(BACKEND.username, BACKEND.password);
  b.close();
  offsetMs += 86_400_000 + 1000;
  const b2 = await WsiTestBackend.connect(url);
  const expired = await b2.request('authenticate', {}, auth.token);
  assert.equal([expired.success, expired.reason], [false, 'token_invalid']);
  assert.match(expired.message, /expired/);
  b2.close();
});

t.run();
