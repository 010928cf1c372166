import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { enrolledAgent, login, waitFor, withControlPlane, type SuiteContext, type TestControlPlane } from './helpers/harness.js';

const t = suite<SuiteContext>('presence and rpc');

withControlPlane(t);

function eventsSocket(cp: TestControlPlane, token: string): Promise<{ ws: WebSocket; events: any[] }> {
  const ws = new WebSocket(cp.url.replace('http', 'ws') + '/api/events', { headers: { authorization: `Bearer ${token}` } });
  const events: any[] = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString())));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events }));
    ws.once('error', reject);
  });
}

t('ping goes through the whole chain and reports the round trip', async ({ cp, api }) => {
  const agent = await enrolledAgent(cp, api);
  const res = await api.request('POST', `/api/devices/${agent.deviceId}/ping`);
  assert.is(res.status, 200);
  assert.type(res.body.rttMs, 'number');
  assert.ok(res.body.rttMs > 0 && res.body.rttMs < 1000);
  // By name as well as by id.
  const device = await api.request('GET', `/api/devices/${agent.deviceId}`);
  assert.is((await api.request('POST', `/api/devices/${device.body.name}/ping`)).status, 200);
  assert.is((await api.request('POST', '/api/devices/no-such-device/ping')).status, 404);
  await agent.stop();
  const offline = await waitFor('offline', async () => {
    const r = await api.request('POST', `/api/devices/${agent.deviceId}/ping`);
    return r.status === 503 ? r : undefined;
  });
  assert.is(offline.body.error.code, 'DEVICE_OFFLINE');
});

t('events socket refuses anonymous and wrong credentials before the handshake', async ({ cp }) => {
  const status = (headers: Record<string, string>) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(cp.url.replace('http', 'ws') + '/api/events', { headers });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', () => undefined);
    });
  assert.is(await status({}), 401);
  assert.is(await status({ authorization: 'Bearer nope' }), 403);
  assert.is(await status({ 'x-kvmd-user': 'admin', 'x-kvmd-passwd': 'admin-test-password' }), 101);
});

t('kill -9: offline in the API and on the events socket within a few seconds', async ({ cp, api }) => {
  const { ws, events } = await eventsSocket(cp, (await login(cp.url)).accessToken);
  const agent = await enrolledAgent(cp, api);
  await waitFor('registered + online events', () => events.some((e) => e.type === 'device.registered' && e.deviceId === agent.deviceId) && events.some((e) => e.type === 'device.online' && e.deviceId === agent.deviceId));
  const killedAt = Date.now();
  agent.child.kill('SIGKILL');
  await waitFor('offline in the API', async () => (await api.request('GET', `/api/devices/${agent.deviceId}`)).body.online === false, 5000);
  await waitFor('offline event', () => events.some((e) => e.type === 'device.offline' && e.deviceId === agent.deviceId), 5000);
  assert.ok(Date.now() - killedAt < 5000);
  ws.close();
});

t('patch renames and retags; conflicts and bad values are refused', async ({ cp, api }) => {
  const a = await enrolledAgent(cp, api, { hostname: 'alpha' });
  const b = await enrolledAgent(cp, api, { hostname: 'beta' });
  const renamed = await api.request('PATCH', `/api/devices/${a.deviceId}`, { name: 'lab-01', tags: ['lab'] });
  assert.is(renamed.status, 200);
  assert.is(renamed.body.name, 'lab-01');
  assert.equal((await api.request('GET', '/api/devices?tag=lab')).body.map((d: { id: string }) => d.id), [a.deviceId]);
  assert.is((await api.request('PATCH', `/api/devices/${b.deviceId}`, { name: 'lab-01' })).status, 409);
  assert.is((await api.request('PATCH', `/api/devices/${b.deviceId}`, { name: '../etc' })).status, 400);
  assert.is((await api.request('PATCH', `/api/devices/${b.deviceId}`, {})).status, 400);
  assert.is((await api.request('PATCH', `/api/devices/${b.deviceId}`, '{oops')).status, 400);
  assert.is((await api.request('GET', '/api/devices?online=maybe')).status, 400);
  await a.stop();
  await b.stop();
});

t('deleting a device kicks it at once and its credentials stop working', async ({ cp, api }) => {
  const agent = await enrolledAgent(cp, api);
  const { ws, events } = await eventsSocket(cp, (await login(cp.url)).accessToken);
  assert.is((await api.request('DELETE', `/api/devices/${agent.deviceId}`)).status, 204);
  assert.is((await api.request('GET', `/api/devices/${agent.deviceId}`)).status, 404);
  await waitFor('deleted event', () => events.some((e) => e.type === 'device.deleted' && e.deviceId === agent.deviceId));
  await agent.waitForOutput(/disconnected from the control plane/, 5000);
  // Its single-use token is spent, so it cannot enroll again: it says why and exits.
  await agent.waitForOutput(/refuses our credentials and re-enrollment failed/, 10_000);
  assert.is(await agent.exited, 1);
  assert.is((await api.request('DELETE', `/api/devices/${agent.deviceId}`)).status, 404);
  ws.close();
  await agent.stop();
});

t.run();
