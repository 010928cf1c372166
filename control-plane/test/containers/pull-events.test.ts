// Pull progress from a device: the containerPull topic's schema is enforced by the broker policy,
// and good reports reach /api/events as container.pull only for users who may read containers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { createEnrollmentToken, enrollRaw, jsonOf, login, waitFor, withControlPlane, type SuiteContext, type TestControlPlane } from '../helpers/harness.js';

const t = suite<SuiteContext>('image pull progress: topic, policy, events');
withControlPlane(t);

function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

function eventsSocket(cp: TestControlPlane, token: string): Promise<{ ws: WebSocket; events: Array<{ type: string; deviceId?: string; pull?: { status: string; layers: unknown } }> }> {
  const ws = new WebSocket(cp.url.replace('http', 'ws') + '/api/events', { headers: { authorization: `Bearer ${token}` } });
  const events: Array<{ type: string }> = [];
  ws.on('message', (d) => events.push(JSON.parse(d.toString())));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, events }));
    ws.once('error', reject);
  });
}

const progress = { image: 'registry.simulated/demo/web:1', server: 'web', status: 'pulling', layers: { total: 3, done: 1 }, bytes: { current: 1_200_000, total: 3_400_000 }, message: 'Downloading' };

t('a device publishes progress: operators with containers.read see container.pull, others do not; a bad payload is refused and the device cut off', async ({ cp, api }) => {
  const dev = await jsonOf(await enrollRaw(cp, await createEnrollmentToken(api)));
  const topic = `edgehook/v1/d/${dev.deviceId}/containers/pull`;
  // A reader: devices.read opens /api/events, but no containers.read.
  assert.is((await api.request('POST', '/api/roles', { name: 'fleet-readers', permissions: ['devices.read'] })).status, 201);
  assert.is((await api.request('POST', '/api/users', { username: 'rhea', password: 'rhea-password-1', roleName: 'fleet-readers' })).status, 201);
  const admin = await eventsSocket(cp, (await login(cp.url)).accessToken);
  const reader = await eventsSocket(cp, (await login(cp.url, 'rhea', 'rhea-password-1')).accessToken);
  await waitFor('hello on both', () => admin.events.length > 0 && reader.events.length > 0);

  const device = await connect(dev.mqtt.url, { clientId: dev.deviceId, username: dev.deviceId, password: dev.mqtt.password });
  device.publish(topic, JSON.stringify(progress), { qos: 0 });
  device.publish(topic, JSON.stringify({ ...progress, status: 'done', layers: { total: 3, done: 3 }, bytes: { current: 3_400_000, total: 3_400_000 } }), { qos: 0 });
  const seen = await waitFor('container.pull done for the admin', () => {
    const pulls = admin.events.filter((e) => e.type === 'container.pull' && e.deviceId === dev.deviceId);
    return pulls.some((e) => e.pull?.status === 'done') ? pulls : undefined;
  });
  assert.equal(seen.map((e) => e.pull?.status), ['pulling', 'done']);
  assert.equal(seen[0]?.pull?.layers, { total: 3, done: 1 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(reader.events.filter((e) => e.type === 'container.pull'), [], 'no containers.read: no pull events');

  // Not the schema (a negative byte count, an unknown status): refused by the broker, the device disconnected.
  const gone = new Promise<void>((resolve) => device.once('close', () => resolve()));
  device.publish(topic, JSON.stringify({ ...progress, status: 'dancing', bytes: { current: -1, total: 5 } }), { qos: 1 });
  await gone;
  await waitFor('refusal logged', () => cp.logs.some((l) => l.includes('mqtt publish refused') && l.includes('invalid containerPull payload')));
  await new Promise((r) => setTimeout(r, 200));
  assert.not.ok(admin.events.some((e) => e.type === 'container.pull' && e.pull?.status === 'dancing'), 'never forwarded');
  admin.ws.close();
  reader.ws.close();
  device.end(true);
});

t.run();
