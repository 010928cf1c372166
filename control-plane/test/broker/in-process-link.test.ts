// The stream relay's socketless link into the embedded broker, against a real aedes and a real
// device connection (mqtt.js over TCP, through the broker's policy).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, encodeJson, filterFor, topicFor } from '@edgehook/shared';
import { connectMqtt, NotConnectedError, type MqttTransport } from '@edgehook/shared/transport';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { createBrokerPolicy } from '../../src/broker/broker-policy.js';
import { waitFor } from '../helpers/harness.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const creds = { username: 'edgehook-control-plane', password: 'link-test-secret' };
const ids = { deviceId: 'dev-link-1', cp: 'cp-a', streamId: 'stream-0001' };

async function setup(): Promise<{ broker: EmbeddedBroker; device: MqttTransport; close(): Promise<void> }> {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    policy: (isConnected) => createBrokerPolicy({ controlPlane: creds, isConnected, log, verifyDevice: async (id, secret) => id === ids.deviceId && secret === 'device-secret' }),
  });
  const device = await connectMqtt({ url: `mqtt://127.0.0.1:${broker.port}`, clientId: ids.deviceId, username: ids.deviceId, password: 'device-secret', keepalive: 30, backoff: { baseMs: 100, maxMs: 1000 }, log });
  await waitFor('device connected', () => device.connected);
  return {
    broker,
    device,
    close: async () => {
      await device.close();
      await broker.streamLink.close();
      await broker.close();
    },
  };
}

test('device stream bytes reach the link; the link reaches the device, in order', async () => {
  const { broker, device, close } = await setup();
  try {
    const link = broker.streamLink;
    const got: Array<[string, string]> = [];
    await link.subscribe(filterFor('streamData', { cp: 'cp-a' }), (topic, payload) => got.push([topic, payload.toString('hex')]));
    const toDevice: string[] = [];
    await device.subscribe(filterFor('streamInput', { deviceId: ids.deviceId }), (_t, p) => toDevice.push(`in:${p.toString()}`), { qos: 0 });
    await device.subscribe(filterFor('streamCmd', { deviceId: ids.deviceId }), (_t, p) => toDevice.push(`cmd:${JSON.parse(p.toString()).type}`), { qos: 1 });

    const bytes = Buffer.from([1, 0, 255, 10, 13]);
    await device.publish(topicFor('streamData', ids), bytes, { qos: 0 });
    await waitFor('data at the link', () => got.length === 1);
    assert.equal(got, [[topicFor('streamData', ids), bytes.toString('hex')]]);

    await link.publish(topicFor('streamCmd', ids), encodeJson({ type: 'open', kind: 'pty', spec: { cols: 80, rows: 24 }, window: 4096 }), { qos: 1 });
    for (const key of ['a', 'b', 'c']) await link.publish(topicFor('streamInput', ids), Buffer.from(key), { qos: 0 });
    await link.publish(topicFor('streamCmd', ids), encodeJson({ type: 'cancel' }), { qos: 0 });
    await waitFor('all at the device', () => toDevice.length === 5);
    assert.equal(toDevice, ['cmd:open', 'in:a', 'in:b', 'in:c', 'cmd:cancel']);
  } finally {
    await close();
  }
});

test('a QoS 1 message followed at once by a QoS 0 one: both reach the device (aedes drops the first as a duplicate unless told otherwise)', async () => {
  const { broker, device, close } = await setup();
  try {
    const link = broker.streamLink;
    const got: string[] = [];
    await device.subscribe(filterFor('streamCmd', { deviceId: ids.deviceId }), (topic) => got.push(topic.split('/').at(-2) ?? ''), { qos: 1 });
    await device.subscribe(filterFor('rpcRequest', { deviceId: ids.deviceId }), (topic) => got.push(topic.split('/').at(-1) ?? ''), { qos: 1 });
    // As a PiKVM socket does: a stream's open (QoS 1), then an RPC (QoS 0) before the open is delivered.
    const sent: string[] = [];
    const publishes: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      const streamId = `open-${i}`;
      const requestId = `rpc-${i}`;
      sent.push(streamId, requestId);
      publishes.push(link.publish(topicFor('streamCmd', { ...ids, streamId }), encodeJson({ type: 'open', kind: 'pty', spec: { cols: 80, rows: 24 }, window: 4096 }), { qos: 1 }));
      publishes.push(link.publish(topicFor('rpcRequest', { deviceId: ids.deviceId, replyTo: 'cp-a', requestId }), encodeJson({ id: requestId, method: 'ping', params: { sentAt: 0 } }), { qos: 0 }));
    }
    await Promise.all(publishes);
    await waitFor('all 20 at the device', () => got.length >= 20, 5000).catch(() => undefined);
    assert.equal([...got].sort(), [...sent].sort(), `missing: ${sent.filter((s) => !got.includes(s)).join(', ')}`);
  } finally {
    await close();
  }
});

test('a message matching two of one client\'s subscriptions is delivered once', async () => {
  const { broker, device, close } = await setup();
  try {
    const link = broker.streamLink;
    const got: string[] = [];
    await device.subscribe(filterFor('streamCmd', { deviceId: ids.deviceId }), (_t, p) => got.push(`cmd:${p.toString()}`), { qos: 1 });
    await device.subscribe(`edgehook/v1/d/${ids.deviceId}/stream/#`, (_t, p) => got.push(`any:${p.toString()}`), { qos: 0 });
    for (const qos of [0, 1] as const) await link.publish(topicFor('streamCmd', ids), encodeJson({ type: 'keepalive', qos }), { qos });
    await new Promise((r) => setTimeout(r, 200));
    // mqtt.js hands each arrival to every matching handler: two handlers, one arrival per publish.
    assert.equal(got.length, 4, got.join(' '));
  } finally {
    await close();
  }
});

test('the broker policy still applies to device publishes; unsubscribe and close stop the link', async () => {
  const { broker, device, close } = await setup();
  try {
    const link = broker.streamLink;
    const got: string[] = [];
    const off = await link.subscribe(filterFor('streamData', { cp: 'cp-a' }), (topic) => got.push(topic));
    // Another device's prefix: refused by the broker (aedes closes the offender's connection).
    await device.publish(topicFor('streamData', { ...ids, deviceId: 'someone-else' }), Buffer.from('x'), { qos: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got, []);
    await waitFor('device back', () => device.connected, 5000);
    await device.publish(topicFor('streamData', ids), Buffer.from('y'), { qos: 0 });
    await waitFor('own topic arrives', () => got.length === 1);
    await off();
    await device.publish(topicFor('streamData', ids), Buffer.from('z'), { qos: 0 });
    await new Promise((r) => setTimeout(r, 100));
    assert.is(got.length, 1, 'nothing after unsubscribe');
    await link.subscribe(filterFor('streamCtl', { cp: 'cp-a' }), () => undefined, { share: 'g' }).then(
      () => assert.unreachable('a shared subscription was accepted'),
      (err: unknown) => assert.match(String(err), /shared subscriptions/),
    );
    await link.close();
    assert.is(link.connected, false);
    await link.publish(topicFor('streamInput', ids), Buffer.from('late')).then(
      () => assert.unreachable('published after close'),
      (err: unknown) => assert.instance(err, NotConnectedError),
    );
  } finally {
    await close();
  }
});

test.run();
