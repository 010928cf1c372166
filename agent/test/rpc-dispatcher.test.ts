import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, topicFor } from '@edgehook/shared';
import { RpcDispatcher } from '../src/devices/rpc.dispatcher.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const reqTopic = (id: string) => topicFor('rpcRequest', { deviceId: 'dev', replyTo: 'cp-1', requestId: id });
const request = (id: string, method: string, params: unknown) => Buffer.from(JSON.stringify({ id, method, params, deadline: Date.now() + 5000 }));

function setup(handlerDelayMs = 0, now: () => number = () => Date.now()) {
  const sent: Array<{ topic: string; body: any }> = [];
  let runs = 0;
  const d = new RpcDispatcher({
    deviceId: 'dev',
    log,
    now,
    publish: async (topic, payload) => {
      sent.push({ topic, body: JSON.parse(payload.toString()) });
    },
    handlers: {
      ping: async (p) => {
        runs++;
        await new Promise((r) => setTimeout(r, handlerDelayMs));
        return { sentAt: p.sentAt, agentTime: 42 };
      },
    },
  });
  return { d, sent, runs: () => runs };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

test('answers on the response topic for the caller, with the request id', async () => {
  const { d, sent } = setup();
  d.handle(reqTopic('a1'), request('a1', 'ping', { sentAt: 7 }));
  await settle();
  assert.is(sent.length, 1);
  assert.is(sent[0]!.topic, topicFor('rpcResponse', { deviceId: 'dev', replyTo: 'cp-1', requestId: 'a1' }));
  assert.equal(sent[0]!.body, { id: 'a1', ok: true, result: { sentAt: 7, agentTime: 42 } });
});

test('a redelivered request runs once and gets the same answer (in flight and after)', async () => {
  const { d, sent, runs } = setup(20);
  d.handle(reqTopic('r1'), request('r1', 'ping', { sentAt: 1 }));
  d.handle(reqTopic('r1'), request('r1', 'ping', { sentAt: 1 }));
  await new Promise((r) => setTimeout(r, 50));
  d.handle(reqTopic('r1'), request('r1', 'ping', { sentAt: 1 }));
  await settle();
  assert.is(runs(), 1);
  assert.is(sent.length, 3);
  assert.equal(sent[0]!.body, sent[2]!.body);
});

test('unknown methods, unsupported methods and bad params are answered with clear errors', async () => {
  const { d, sent } = setup();
  d.handle(reqTopic('u1'), request('u1', 'fly', {}));
  d.handle(reqTopic('u2'), request('u2', 'system.describe', {}));
  d.handle(reqTopic('u3'), request('u3', 'ping', { sentAt: 'soon' }));
  await settle();
  const byId = Object.fromEntries(sent.map((s) => [s.body.id, s.body]));
  assert.is(byId['u1'].error.code, 'UNKNOWN_METHOD');
  assert.is(byId['u2'].error.code, 'UNKNOWN_METHOD');
  assert.is(byId['u3'].error.code, 'BAD_REQUEST');
  assert.match(byId['u3'].error.message, /sentAt/);
});

test('malformed requests and foreign topics are ignored without crashing', async () => {
  const { d, sent } = setup();
  d.handle(reqTopic('m1'), Buffer.from('not json'));
  d.handle(reqTopic('m2'), Buffer.from(JSON.stringify({ method: 'ping' })));
  d.handle('edgehook/v1/d/dev/status', request('m3', 'ping', { sentAt: 1 }));
  await settle();
  assert.is(sent.length, 0);
});

test('a request whose deadline passed before it arrived is answered with a timeout and not run (the injected clock decides)', async () => {
  // The device's clock says 10 s later than the caller's deadline: a late redelivery.
  const { d, sent, runs } = setup(0, () => 1_000_000);
  d.handle(reqTopic('late'), Buffer.from(JSON.stringify({ id: 'late', method: 'ping', params: { sentAt: 1 }, deadline: 990_000 })));
  d.handle(reqTopic('edge'), Buffer.from(JSON.stringify({ id: 'edge', method: 'ping', params: { sentAt: 1 }, deadline: 1_000_000 })));
  d.handle(reqTopic('fine'), Buffer.from(JSON.stringify({ id: 'fine', method: 'ping', params: { sentAt: 1 }, deadline: 1_005_000 })));
  await settle();
  const byId = Object.fromEntries(sent.map((s) => [s.body.id, s.body]));
  assert.is(byId['late'].ok, false);
  assert.is(byId['late'].error.code, 'DEVICE_TIMEOUT');
  assert.match(byId['late'].error.message, /ping arrived 10000 ms after its deadline and was not run/);
  assert.is(byId['edge'].error.code, 'DEVICE_TIMEOUT');
  assert.equal(byId['fine'], { id: 'fine', ok: true, result: { sentAt: 1, agentTime: 42 } });
  assert.is(runs(), 1, 'only the request in time ran');
});

test('a deadline that passes while the handler runs answers a timeout at the deadline, not the late result', async () => {
  const t0 = 5_000_000;
  const { d, sent, runs } = setup(300, () => t0);
  const started = Date.now();
  d.handle(reqTopic('slow'), Buffer.from(JSON.stringify({ id: 'slow', method: 'ping', params: { sentAt: 1 }, deadline: t0 + 60 })));
  await new Promise((r) => setTimeout(r, 150));
  assert.is(runs(), 1);
  assert.is(sent.length, 1, 'answered before the handler finished');
  assert.ok(Date.now() - started < 290);
  assert.is(sent[0]!.body.error.code, 'DEVICE_TIMEOUT');
  assert.match(sent[0]!.body.error.message, /ping passed its deadline while running \(60 ms budget\)/);
  await new Promise((r) => setTimeout(r, 250));
  assert.is(sent.length, 1, 'the late result is not sent');
  // A redelivery of the same request gets the same timeout answer and does not run again.
  d.handle(reqTopic('slow'), Buffer.from(JSON.stringify({ id: 'slow', method: 'ping', params: { sentAt: 1 }, deadline: t0 + 60 })));
  await settle();
  assert.is(runs(), 1);
  assert.equal(sent[1]!.body, sent[0]!.body);
});

test.run();
