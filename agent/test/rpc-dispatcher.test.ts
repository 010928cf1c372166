import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, topicFor } from '@edgehook/shared';
import { RpcDispatcher } from '../src/link/rpc.dispatcher.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const reqTopic = (id: string) => topicFor('rpcRequest', { deviceId: 'dev', replyTo: 'cp-1', requestId: id });
const request = (id: string, method: string, params: unknown) => Buffer.from(JSON.stringify({ id, method, params, deadline: Date.now() + 5000 }));

function setup(handlerDelayMs = 0) {
  const sent: Array<{ topic: string; body: any }> = [];
  let runs = 0;
  const d = new RpcDispatcher({
    deviceId: 'dev',
    log,
    now: () => Date.now(),
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

test.run();
