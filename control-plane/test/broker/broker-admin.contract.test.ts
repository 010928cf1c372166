import { test } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt from 'mqtt';
import { adminApi, cleanup, createEnrollmentToken, enrollRaw, jsonOf, startTestControlPlane, waitFor, type Api, type TestControlPlane } from '../helpers/harness.js';
import { requireMosquitto, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';

/**
 * One contract over both BrokerAdmin implementations, each behind a real control plane: the
 * embedded aedes broker (identities in the store) and a real Mosquitto 2 with dynamic security.
 * Devices are real MQTT clients using the credentials enrollment hands out.
 */
interface Fixture {
  name: string;
  cp: TestControlPlane;
  api: Api;
  mosquitto?: TestMosquitto;
}

const fixtures: Fixture[] = [];
const clients: mqtt.MqttClient[] = [];

async function setUp(): Promise<void> {
  const cp = await startTestControlPlane();
  fixtures.push({ name: 'embedded', cp, api: await adminApi(cp) });
  const found = requireMosquitto();
  if (!found) return;
  const mosquitto = await startMosquitto(found);
  const ext = await startTestControlPlane({ args: ['--broker', mosquitto.url, '--broker-username', mosquitto.admin.username], env: { EDGEHOOK_BROKER_PASSWORD: mosquitto.admin.password } });
  fixtures.push({ name: 'mosquitto', cp: ext, api: await adminApi(ext), mosquitto });
}

interface Enrolled {
  deviceId: string;
  url: string;
  password: string;
}

async function enroll(f: Fixture): Promise<Enrolled> {
  const token = await createEnrollmentToken(f.api);
  const res = await enrollRaw(f.cp, token);
  assert.is(res.status, 201);
  const body = await jsonOf(res);
  return { deviceId: body.deviceId, url: body.mqtt.url, password: body.mqtt.password };
}

/** Connects as the device (or with what is given); resolves with the client or the refusal. */
async function connectAs(url: string, o: { clientId: string; username: string; password: string }): Promise<mqtt.MqttClient | Error> {
  try {
    const c = await mqtt.connectAsync(url, { ...o, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
    clients.push(c);
    return c;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function device(d: Enrolled): Promise<mqtt.MqttClient | Error> {
  return connectAs(d.url, { clientId: d.deviceId, username: d.deviceId, password: d.password });
}

function mustConnect(c: mqtt.MqttClient | Error): mqtt.MqttClient {
  if (c instanceof Error) throw new Error(`expected a connection, got ${c.message}`);
  return c;
}

const closed = (c: mqtt.MqttClient): Promise<void> => (c.connected ? new Promise((resolve) => c.once('close', () => resolve())) : Promise.resolve());

async function subscribeResult(c: mqtt.MqttClient, filter: string): Promise<number> {
  try {
    const granted = await c.subscribeAsync(filter, { qos: 1 });
    return granted[0]?.qos ?? -1;
  } catch {
    return 128;
  }
}

test.before(setUp);
test.after(async () => {
  for (const c of clients) c.end(true);
  for (const f of fixtures) {
    await f.cp.close();
    await cleanup(f.cp.dataDir);
    await f.mosquitto?.stop();
  }
});

test('each implementation is tested', () => {
  assert.ok(fixtures.length >= 1);
  if (process.env['CI'] === 'true') assert.equal(fixtures.map((f) => f.name), ['embedded', 'mosquitto']);
});

test('an enrolled device connects with client id = username = device id, and only so', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    const ok = mustConnect(await device(d));
    assert.ok(ok.connected, f.name);
    ok.end(true);
    assert.instance(await connectAs(d.url, { clientId: 'someone-else', username: d.deviceId, password: d.password }), Error, `${f.name}: pinned client id`);
    assert.instance(await connectAs(d.url, { clientId: d.deviceId, username: d.deviceId, password: 'wrong' }), Error, `${f.name}: wrong secret`);
    assert.ok((await f.cp.brokerAdmin.listDevices()).includes(d.deviceId), `${f.name}: listed`);
  }
});

test("a device lives in its own prefix: no subscribing to, or publishing into, another device's topics", async () => {
  for (const f of fixtures) {
    const a = await enroll(f);
    const b = await enroll(f);
    const ca = mustConnect(await device(a));
    const cb = mustConnect(await device(b));
    assert.is(await subscribeResult(ca, `edgehook/v1/d/${b.deviceId}/#`), 128, `${f.name}: foreign subscribe refused`);
    assert.is(await subscribeResult(ca, `edgehook/v1/#`), 128, `${f.name}: root subscribe refused`);
    assert.is(await subscribeResult(cb, `edgehook/v1/d/${b.deviceId}/rpc/req/#`), 1, `${f.name}: own subscribe granted`);
    const got: string[] = [];
    cb.on('message', (topic) => got.push(topic));
    await ca.publishAsync(`edgehook/v1/d/${b.deviceId}/rpc/req/x/forged`, '{}', { qos: 0 }).catch(() => undefined);
    // B goes online and gets pinged through the API: that request comes after A's forged one.
    await cb.publishAsync(`edgehook/v1/d/${b.deviceId}/status`, JSON.stringify({ state: 'online', ts: Date.now(), session: 's1' }), { qos: 1, retain: true });
    await waitFor(`${f.name}: online`, async () => (await f.api.request('GET', `/api/devices/${b.deviceId}`)).body?.online === true);
    const ping = f.api.request('POST', `/api/devices/${b.deviceId}/ping`).catch(() => undefined);
    await waitFor(`${f.name}: ping request at B`, () => got.some((t) => t.includes('/rpc/req/cp-')));
    assert.not.ok(got.some((t) => t.endsWith('/forged')), `${f.name}: forged request delivered: ${got.join(', ')}`);
    await ping;
    ca.end(true);
    cb.end(true);
  }
});

test('removeDevice drops the live connection at once and refuses it from then on', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    const c = mustConnect(await device(d));
    const gone = closed(c);
    await f.cp.brokerAdmin.removeDevice(d.deviceId);
    await gone;
    assert.instance(await device(d), Error, `${f.name}: reconnect refused`);
    assert.not.ok((await f.cp.brokerAdmin.listDevices()).includes(d.deviceId), `${f.name}: no longer listed`);
    await f.cp.brokerAdmin.removeDevice(d.deviceId); // unknown devices are fine
  }
});

test('disableDevice drops the connection and refuses it; provisioning again (new secret) re-enables it', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    const c = mustConnect(await device(d));
    const gone = closed(c);
    await f.cp.brokerAdmin.disableDevice(d.deviceId, 'contract test');
    await gone;
    assert.instance(await device(d), Error, `${f.name}: disabled device refused`);
    await f.cp.brokerAdmin.provisionDevice(d.deviceId, d.password);
    const back = await device(d);
    // The embedded broker's identity is the store row (unchanged secret): it connects again once re-provisioned.
    mustConnect(back).end(true);
  }
});

test('deleting a device through the API kicks it at the broker', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    const c = mustConnect(await device(d));
    const gone = closed(c);
    assert.is((await f.api.request('DELETE', `/api/devices/${d.deviceId}`)).status, 204);
    await gone;
    assert.instance(await device(d), Error, `${f.name}: deleted device refused`);
  }
});

test('identity() tells present, disabled and missing apart', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    assert.is(await f.cp.brokerAdmin.identity(d.deviceId), 'present', f.name);
    await f.cp.brokerAdmin.disableDevice(d.deviceId, 'contract test');
    assert.is(await f.cp.brokerAdmin.identity(d.deviceId), 'disabled', f.name);
    await f.cp.brokerAdmin.removeDevice(d.deviceId);
    assert.is(await f.cp.brokerAdmin.identity(d.deviceId), 'missing', f.name);
    assert.is(await f.cp.brokerAdmin.identity('no-such-device'), 'missing', f.name);
  }
});

/** `POST /api/enroll/reprovision` as the device sends it. */
async function reprovision(f: Fixture, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${f.cp.url}/api/enroll/reprovision`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await jsonOf(res) };
}

test('a device whose broker identity was lost gets it back with its own secret, and only then', async () => {
  for (const f of fixtures) {
    const d = await enroll(f);
    assert.equal((await reprovision(f, { deviceId: d.deviceId, secret: d.password })).body, { identity: 'present' }, `${f.name}: nothing to restore`);
    // The broker loses the identity (its data was reset): the device is refused.
    await f.cp.brokerAdmin.removeDevice(d.deviceId);
    assert.instance(await device(d), Error, `${f.name}: refused while lost`);
    const wrong = await reprovision(f, { deviceId: d.deviceId, secret: `${d.password}x` });
    assert.is(wrong.status, 401, `${f.name}: a wrong secret restores nothing`);
    assert.is((await reprovision(f, { deviceId: 'not-a-device', secret: d.password })).status, 401);
    assert.is((await reprovision(f, { deviceId: d.deviceId })).status, 400, `${f.name}: a body without the secret`);
    assert.instance(await device(d), Error, `${f.name}: still refused after the failed attempts`);
    const restored = await reprovision(f, { deviceId: d.deviceId, secret: d.password });
    assert.equal(restored.body, { identity: 'restored' }, `${f.name}: ${JSON.stringify(restored.body)}`);
    mustConnect(await device(d)).end(true);
    // A disabled device stays disabled: its own secret does not bring it back.
    await f.cp.brokerAdmin.disableDevice(d.deviceId, 'contract test');
    assert.is((await reprovision(f, { deviceId: d.deviceId, secret: d.password })).status, 403, f.name);
    assert.instance(await device(d), Error, `${f.name}: disabled stays refused`);
  }
});

test.run();
