import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt, { type MqttClient } from 'mqtt';
import { createEnrollmentToken, enrollRaw, jsonOf, waitFor, withControlPlane, type Api, type SuiteContext, type TestControlPlane } from './helpers/harness.js';

const t = suite<SuiteContext>('presence follows the broker connection');
withControlPlane(t);

interface Enrolled {
  deviceId: string;
  mqtt: { url: string; username: string; password: string };
}

async function enrollDevice(cp: TestControlPlane, api: Api): Promise<Enrolled> {
  return jsonOf(await enrollRaw(cp, await createEnrollmentToken(api)));
}

/** A raw mqtt.js client (no will unless given); resolves with the CONNACK refusal code when refused. */
function connect(url: string, opts: mqtt.IClientOptions): Promise<{ client: MqttClient; refused?: number }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4, ...opts });
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client }));
    client.once('error', (err) => resolve({ client, refused: 'code' in err && typeof err.code === 'number' ? err.code : -1 }));
  });
}

const online = async (api: Api, id: string): Promise<boolean> => (await api.request('GET', `/api/devices/${id}`)).body?.online === true;

function publishStatus(client: MqttClient, deviceId: string, session: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(`edgehook/v1/d/${deviceId}/status`, JSON.stringify({ state: 'online', ts: Date.now(), session }), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve())),
  );
}

/** A TCP relay to the broker that can freeze: bytes stop both ways, sockets stay open (a stalled path). */
async function stallableProxy(target: number): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = tcpConnect(target, '127.0.0.1');
    sockets.add(inbound).add(outbound);
    inbound.on('data', (d) => frozen || outbound.write(d));
    outbound.on('data', (d) => frozen || inbound.write(d));
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => frozen || outbound.destroy());
    outbound.on('close', () => frozen || inbound.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    freeze: () => {
      frozen = true;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

t('a client that connects without a will goes offline when its connection ends', async ({ cp, api }) => {
  const dev = await enrollDevice(cp, api);
  const { client, refused } = await connect(dev.mqtt.url, { clientId: dev.deviceId, username: dev.deviceId, password: dev.mqtt.password });
  assert.is(refused, undefined);
  await publishStatus(client, dev.deviceId, 'no-will-1');
  await waitFor('online', () => online(api, dev.deviceId));
  // The socket dies without DISCONNECT and there is no will: only the broker knows.
  client.stream.destroy();
  await waitFor('offline after the connection ended', async () => !(await online(api, dev.deviceId)), 10_000);
  client.end(true);
});

t('a clean offline stays offline; a device reconnecting over a stalled connection takes it over at once', async ({ cp, api }) => {
  const dev = await enrollDevice(cp, api);
  const creds = { clientId: dev.deviceId, username: dev.deviceId, password: dev.mqtt.password };
  const proxy = await stallableProxy(cp.mqttPort);
  // keepalive 2 s: the broker alone would drop the stalled connection only after 3 s of silence.
  const first = await connect(`mqtt://127.0.0.1:${proxy.port}`, { ...creds, keepalive: 2 });
  assert.is(first.refused, undefined);
  await publishStatus(first.client, dev.deviceId, 'old-session');
  await waitFor('online', () => online(api, dev.deviceId));
  proxy.freeze();
  // Right away the incumbent may be a live duplicate: refused, as before.
  const early = await connect(dev.mqtt.url, creds);
  assert.is(early.refused, 2, 'a connection that has not missed its keepalive is not taken over');
  early.client.end(true);
  // Once it missed its own keepalive, the same device with valid credentials takes over.
  const second = await waitFor('takeover', async () => {
    const next = await connect(dev.mqtt.url, { ...creds, keepalive: 30 });
    if (next.refused === undefined) return next.client;
    next.client.end(true);
    return undefined;
  }, 15_000, 100);
  assert.ok(cp.logs.some((l) => /stalled: taking it over/.test(l)), 'taken over by the policy, not after the broker timed the old one out');
  await publishStatus(second, dev.deviceId, 'new-session');
  await waitFor('online with the new session', () => online(api, dev.deviceId));
  // The old connection's offline (same old session) cannot mark the new one offline.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(await online(api, dev.deviceId));
  second.end(true);
  await waitFor('offline once the new connection ends too', async () => !(await online(api, dev.deviceId)), 10_000);
  first.client.end(true);
  await proxy.close();
});

t.run();
