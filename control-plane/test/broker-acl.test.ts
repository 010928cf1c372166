import { cp as cp_ } from 'node:fs/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt, { type MqttClient } from 'mqtt';
import { createEnrollmentToken, spawnAgent, tempDir, waitFor, withControlPlane, type SuiteContext, enrollRaw, cleanup, type Api, type TestControlPlane, jsonOf } from './helpers/harness.js';

const t = suite<SuiteContext>('broker policy');

async function enrollDevice(cp: TestControlPlane, api: Api): Promise<{ deviceId: string; mqtt: { url: string; wsUrl: string; username: string; password: string } }> {
  const token = await createEnrollmentToken(api);
  return jsonOf(await enrollRaw(cp, token));
}

/** Resolves with the client once connected, or with the CONNACK refusal code. */
function connect(url: string, opts: mqtt.IClientOptions): Promise<{ client: MqttClient; refused?: number }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client }));
    client.once('error', (err) => resolve({ client, refused: 'code' in err && typeof err.code === 'number' ? err.code : -1 }));
  });
}

function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

withControlPlane(t);

t('only enrolled devices with the right secret and client id connect', async ({ cp, api }) => {
  const dev = await enrollDevice(cp, api);
  const base = { clientId: dev.deviceId, username: dev.deviceId };
  const wrong = await connect(dev.mqtt.url, { ...base, password: 'wrong' });
  assert.is(wrong.refused, 5);
  wrong.client.end(true);
  const anon = await connect(dev.mqtt.url, { clientId: 'anon' });
  assert.is(anon.refused, 4);
  anon.client.end(true);
  const spoof = await connect(dev.mqtt.url, { clientId: 'someone-else', username: dev.deviceId, password: dev.mqtt.password });
  assert.is(spoof.refused, 2);
  spoof.client.end(true);
  const ok = await connect(dev.mqtt.url, { ...base, password: dev.mqtt.password });
  assert.is(ok.refused, undefined);
  ok.client.end(true);
  // MQTT over websocket on the HTTP port, with the same rules.
  const ws = await connect(dev.mqtt.wsUrl, { ...base, password: dev.mqtt.password });
  assert.is(ws.refused, undefined);
  ws.client.end(true);
  const wsWrong = await connect(dev.mqtt.wsUrl, { ...base, password: 'nope' });
  assert.is(wsWrong.refused, 5);
  wsWrong.client.end(true);
});

t('a device may not subscribe or publish outside its prefix, nor publish garbage; the broker stays up', async ({ cp, api }) => {
  const me = await enrollDevice(cp, api);
  const other = await enrollDevice(cp, api);
  const { client } = await connect(me.mqtt.url, { clientId: me.deviceId, username: me.deviceId, password: me.mqtt.password });
  const subscribe = (filter: string) =>
    new Promise<string>((resolve) => client.subscribe(filter, { qos: 1 }, (err, granted) => resolve(err ? 'refused' : `qos${granted?.[0]?.qos}`)));
  for (const foreign of [`edgehook/v1/d/${other.deviceId}/#`, 'edgehook/v1/d/+/status', '#']) {
    assert.is(await subscribe(foreign), 'refused', foreign);
  }
  assert.ok(client.connected, 'a refused subscription does not disconnect');
  assert.is(await subscribe(`edgehook/v1/d/${me.deviceId}/rpc/req/#`), 'qos1');

  // Publishing as another device: refused, and the offender is disconnected.
  const gone = closed(client);
  client.publish(`edgehook/v1/d/${other.deviceId}/status`, JSON.stringify({ state: 'offline', ts: 1 }), { qos: 1 });
  await gone;
  await waitFor('refusal logged', () => cp.logs.some((l) => l.includes('mqtt publish refused') && l.includes("outside the device's prefix")));

  const again = await connect(me.mqtt.url, { clientId: me.deviceId, username: me.deviceId, password: me.mqtt.password });
  const gone2 = closed(again.client);
  again.client.publish(`edgehook/v1/d/${me.deviceId}/status`, 'garbage{', { qos: 1 });
  await gone2;
  await waitFor('garbage logged', () => cp.logs.some((l) => l.includes('mqtt publish refused') && l.includes('not JSON')));

  const third = await connect(me.mqtt.url, { clientId: me.deviceId, username: me.deviceId, password: me.mqtt.password });
  const gone3 = closed(third.client);
  third.client.publish(`edgehook/v1/d/${me.deviceId}/rpc/req/cp-x/abc`, JSON.stringify({ id: 'a', method: 'ping', params: {}, deadline: 1 }), { qos: 1 });
  await gone3;
  await waitFor('direction logged', () => cp.logs.some((l) => l.includes('devices may not publish rpcRequest')));

  const schema = await connect(me.mqtt.url, { clientId: me.deviceId, username: me.deviceId, password: me.mqtt.password });
  const gone4 = closed(schema.client);
  schema.client.publish(`edgehook/v1/d/${me.deviceId}/status`, JSON.stringify({ state: 'dancing', ts: 1 }), { qos: 1 });
  await gone4;

  // The other device's presence was not touched, and the control plane still answers.
  const otherView = await api.request('GET', `/api/devices/${other.deviceId}`);
  assert.is(otherView.status, 200);
  assert.is(otherView.body.online, false);
  assert.is((await fetch(cp.url + '/api/health')).status, 200);
});

t('RPC goes at QoS 0 both ways: the request arrives without a PUBACK to owe, a QoS 0 answer completes the call', async ({ cp, api }) => {
  const dev = await enrollDevice(cp, api);
  const { client } = await connect(dev.mqtt.url, { clientId: dev.deviceId, username: dev.deviceId, password: dev.mqtt.password });
  const received: number[] = [];
  client.on('message', (topic, payload, packet) => {
    received.push(packet.qos);
    const req = JSON.parse(payload.toString()) as { id: string; params: { sentAt: number } };
    const answer = { id: req.id, ok: true, result: { sentAt: req.params.sentAt, agentTime: Date.now() } };
    client.publish(topic.replace('/rpc/req/', '/rpc/res/'), JSON.stringify(answer), { qos: 0 });
  });
  // Subscribed at QoS 1, as agents are: the delivery is the publish's QoS, 0.
  await client.subscribeAsync(`edgehook/v1/d/${dev.deviceId}/rpc/req/#`, { qos: 1 });
  await client.publishAsync(`edgehook/v1/d/${dev.deviceId}/status`, JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1, retain: true });
  await waitFor('online', async () => (await api.request('GET', `/api/devices/${dev.deviceId}`)).body.online === true);
  const res = await api.request('POST', `/api/devices/${dev.deviceId}/ping`);
  assert.is(res.status, 200, JSON.stringify(res.body));
  assert.type(res.body.rttMs, 'number');
  assert.equal(received, [0]);
  client.end(true);
});

t('a second connection with the same device id is refused; the first stays connected', async ({ cp, api }) => {
  const dev = await enrollDevice(cp, api);
  const opts = { clientId: dev.deviceId, username: dev.deviceId, password: dev.mqtt.password };
  const first = await connect(dev.mqtt.url, opts);
  assert.is(first.refused, undefined);
  let kicked = false;
  first.client.on('close', () => {
    kicked = true;
  });
  for (let i = 0; i < 3; i++) {
    const dup = await connect(dev.mqtt.url, opts);
    assert.is(dup.refused, 2);
    dup.client.end(true);
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.not.ok(kicked, 'the incumbent was not kicked');
  assert.ok(first.client.connected);
  first.client.end(true);
  await closed(first.client);
  // Once the first is gone, the device can connect again.
  await waitFor('reconnect after the first left', async () => {
    const next = await connect(dev.mqtt.url, opts);
    next.client.end(true);
    return next.refused === undefined;
  });
});

t('two real agents sharing credentials do not kick each other', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api);
  const dir = await tempDir();
  const a = spawnAgent({ server: cp.url, token, stateDir: dir });
  await a.waitForOutput(/connected to the control plane/, 15_000);
  // A cloned SD card: the same credentials in another state dir (one dir allows one agent).
  const clone = await tempDir();
  await cp_(dir, clone, { recursive: true, filter: (src) => !src.endsWith('agent.pid') });
  const b = spawnAgent({ stateDir: clone });
  await b.waitForOutput(/disconnected from the control plane.*identifier-rejected/, 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  const disconnectsOfA = (a.output().match(/disconnected from the control plane/g) ?? []).length;
  assert.is(disconnectsOfA, 0, 'the first agent stays connected');
  await a.stop();
  await b.stop();
  await cleanup(dir, clone);
});

t('a device whose credentials are refused re-enrolls when its token allows, else says how to fix it', async ({ cp, api }) => {
  const token = await createEnrollmentToken(api, { maxUses: 2 });
  const dir = await tempDir();
  const a = spawnAgent({ server: cp.url, token, stateDir: dir });
  const first = await waitFor('first id', () => /"deviceId":"([^"]+)"/.exec(a.output())?.[1], 15_000);
  await a.waitForOutput(/connected to the control plane/, 15_000);
  assert.is((await api.request('DELETE', `/api/devices/${first}`)).status, 204);
  await a.waitForOutput(/enrolling again/, 10_000);
  const ids = await waitFor('a second enrollment', () => {
    const all = [...a.output().matchAll(/"msg":"enrolled","app":"agent","deviceId":"([^"]+)"/g)].map((m) => m[1]);
    return all.length >= 2 ? all : undefined;
  });
  const second = ids[1]!;
  assert.is.not(second, first);
  await waitFor('new identity online', async () => (await api.request('GET', `/api/devices/${second}`)).body.online === true, 15_000);
  await a.stop();
  // Without a token the agent cannot recover by itself: it says what to do.
  assert.is((await api.request('DELETE', `/api/devices/${second}`)).status, 204);
  const b = spawnAgent({ stateDir: dir });
  await b.waitForOutput(/Re-enroll with --enroll/, 10_000);
  await b.stop();
  await cleanup(dir);
});

t.run();
