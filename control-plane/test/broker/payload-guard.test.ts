import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeJson, filterFor, topicFor } from '@edgehook/shared';
import { brokerFilter, HandlerTable, MemoryBroker } from '@edgehook/shared/transport';
import { guardDevicePayloads } from '../../src/broker/payload-guard.js';
import { memoryLogger, waitFor } from '../helpers/harness.js';

const DEV = 'dev-1';

test('device payloads are checked on arrival: garbage never reaches a handler, its device is disabled once and logged', async () => {
  const broker = new MemoryBroker();
  const disabled: string[] = [];
  const { log, lines } = memoryLogger();
  const bus = guardDevicePayloads(broker.connect(), { log, disable: async (id) => void disabled.push(id) });
  const got: string[] = [];
  await bus.subscribe(filterFor('telemetry'), (_t, p) => got.push(p.toString()));
  await bus.subscribe(filterFor('rpcRequest'), (_t, p) => got.push(`req ${p.toString()}`));
  const device = broker.connect();
  const good = encodeJson({ seq: 1, ts: 1, samples: [{ m: 'cpu.usage', v: 1 }] });
  await device.publish(topicFor('telemetry', { deviceId: DEV }), '{"not":"a batch"}');
  await device.publish(topicFor('telemetry', { deviceId: DEV }), 'not json');
  await device.publish(topicFor('telemetry', { deviceId: DEV }), good);
  // Another replica's request to a device is not a device payload: not checked, not a reason to disable.
  await device.publish(topicFor('rpcRequest', { deviceId: DEV, replyTo: 'cp-x', requestId: 'r1' }), '{}');
  await waitFor('valid messages delivered', () => got.length === 2);
  assert.equal(got, [good.toString(), 'req {}']);
  await waitFor('disabled', () => disabled.length === 1);
  assert.equal(disabled, [DEV]);
  assert.ok(lines.some((l) => l.includes('device payload refused') && l.includes('invalid telemetry payload')));
  assert.ok(lines.some((l) => l.includes('payload on telemetry is not JSON')));
});

test('shared subscriptions: the broker gets $share/<group>/<filter>, messages match the plain filter', () => {
  assert.is(brokerFilter('edgehook/v1/d/+/telemetry', 'edgehook-telemetry'), '$share/edgehook-telemetry/edgehook/v1/d/+/telemetry');
  assert.is(brokerFilter('edgehook/v1/d/+/telemetry'), 'edgehook/v1/d/+/telemetry');
  const table = new HandlerTable();
  const got: string[] = [];
  table.add(brokerFilter('edgehook/v1/d/+/telemetry', 'g'), (t) => got.push(t));
  table.dispatch('edgehook/v1/d/a/telemetry', Buffer.from(''), () => undefined);
  table.dispatch('edgehook/v1/d/a/status', Buffer.from(''), () => undefined);
  assert.equal(got, ['edgehook/v1/d/a/telemetry']);
  assert.equal(table.filters(), ['$share/g/edgehook/v1/d/+/telemetry']);
});

test.run();
