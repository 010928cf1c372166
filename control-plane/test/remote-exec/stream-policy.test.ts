import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, topicFor } from '@edgehook/shared';
import { createBrokerPolicy } from '../../src/broker/broker-policy.js';

const policy = createBrokerPolicy({
  verifyDevice: async () => true,
  controlPlane: { username: 'cp', password: 'x' },
  isConnected: () => false,
  log: createLogger({ level: 'error', format: 'json', write: () => undefined }),
});
const dev = 'dev-1';
const p = { deviceId: dev, cp: 'cp-abc', streamId: 'stream-0001' };
const publish = (topic: string, payload: Buffer) => policy.authorizePublish(dev, dev, topic, payload);

test('stream data is raw bytes: no JSON check, but prefix and direction still hold', () => {
  const bytes = Buffer.from([1, 0xff, 0x00, 0x7b]);
  assert.ok(publish(topicFor('streamData', p), bytes).ok);
  assert.not.ok(publish(topicFor('streamInput', p), bytes).ok, 'input is cp->device only');
  assert.not.ok(publish(topicFor('streamData', { ...p, deviceId: 'dev-2' }), bytes).ok, 'another device prefix');
});

test('stream control stays JSON-validated', () => {
  assert.ok(publish(topicFor('streamCtl', p), Buffer.from(JSON.stringify({ type: 'ack', bytes: 10 }))).ok);
  assert.not.ok(publish(topicFor('streamCtl', p), Buffer.from([1, 2, 3])).ok);
  assert.not.ok(publish(topicFor('streamCtl', p), Buffer.from(JSON.stringify({ type: 'ack', bytes: -1 }))).ok);
  assert.not.ok(publish(topicFor('streamCmd', p), Buffer.from(JSON.stringify({ type: 'cancel' }))).ok, 'commands are cp->device');
});

test.run();
