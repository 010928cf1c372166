// The control plane's end of device streams, over the in-memory broker with a scripted device side.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACK_DELAY_MS, createLogger, encodeJson, filterFor, matchTopic, topicFor, type EdgehookError, type StreamCtl } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { FleetEvents } from '../../src/events/fleet-events.js';
import { StreamRelay } from '../../src/streams/stream-relay.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

async function setup() {
  const broker = new MemoryBroker();
  const cpLink = broker.connect();
  const device = broker.connect();
  const events = new FleetEvents(cpLink, log);
  const relay = new StreamRelay({ transport: cpLink, instanceId: 'cp-test', events, log });
  await relay.start();
  const seen: Array<{ kind: 'cmd' | 'in'; streamId: string; body: string }> = [];
  await device.subscribe(filterFor('streamCmd', { deviceId: 'dev1' }), (topic, payload) => seen.push({ kind: 'cmd', streamId: matchTopic(topic)?.params['streamId'] ?? '', body: payload.toString() }));
  await device.subscribe(filterFor('streamInput', { deviceId: 'dev1' }), (topic, payload) => seen.push({ kind: 'in', streamId: matchTopic(topic)?.params['streamId'] ?? '', body: payload.toString() }));
  const ctl = (streamId: string, msg: StreamCtl) => device.publish(topicFor('streamCtl', { deviceId: 'dev1', cp: 'cp-test', streamId }), encodeJson(msg));
  const data = (streamId: string, text: string) => device.publish(topicFor('streamData', { deviceId: 'dev1', cp: 'cp-test', streamId }), Buffer.concat([Buffer.from([1]), Buffer.from(text)]));
  return { relay, events, seen, ctl, data };
}

function handlers() {
  const got = { data: '', ends: [] as unknown[], errors: [] as EdgehookError[] };
  return {
    got,
    h: {
      onData: (d: Buffer) => (got.data += d.toString()),
      onEnd: (r: unknown) => got.ends.push(r),
      onError: (e: EdgehookError) => got.errors.push(e),
    },
  };
}

test('input and commands issued before the device answers are held, then sent in order', async () => {
  const { relay, seen, ctl } = await setup();
  const { h } = handlers();
  const s = relay.open('dev1', 'pty', { cols: 80, rows: 24 }, h);
  s.write(Buffer.from('ab'));
  s.resize(100, 30);
  s.write(Buffer.from('c'));
  s.closeInput();
  await tick();
  assert.equal(seen.map((m) => JSON.parse(m.body).type ?? m.body), ['open']);
  await ctl(s.id, { type: 'opened', info: { sessionId: 'sess-1', pid: 1, reattached: false } });
  assert.equal(await s.opened, { sessionId: 'sess-1', pid: 1, reattached: false });
  await tick();
  assert.equal(
    seen.slice(1).map((m) => (m.kind === 'in' ? `in:${m.body}` : JSON.parse(m.body))),
    ['in:ab', { type: 'resize', cols: 100, rows: 30 }, 'in:c', { type: 'close-input', sent: 3 }],
  );
});

test('an operator leaving while the device opens gets the work detached once it answers', async () => {
  const { relay, seen, ctl } = await setup();
  const { h, got } = handlers();
  const s = relay.open('dev1', 'pty', { cols: 80, rows: 24 }, h);
  s.detach();
  await tick();
  await ctl(s.id, { type: 'opened', info: { sessionId: 'sess-1', pid: 1, reattached: false } });
  await tick();
  assert.equal(seen.map((m) => JSON.parse(m.body).type), ['open', 'detach']);
  assert.equal(got.errors, []);
  assert.is(relay.openCount, 0);
});

test('the end waits for output still in flight; credit is returned as it is consumed', async () => {
  const { relay, seen, ctl, data } = await setup();
  const { h, got } = handlers();
  const s = relay.open('dev1', 'process', { call: 'x' }, { ...h, onData: (d: Buffer) => { got.data += d.toString(); s.consumed(d.length); } });
  await ctl(s.id, { type: 'opened', info: { id: 'p1', pid: 1 } });
  await data(s.id, 'hello');
  await tick();
  const acked = (): boolean => seen.some((m) => m.kind === 'cmd' && JSON.parse(m.body).type === 'ack' && JSON.parse(m.body).bytes === 5);
  assert.not.ok(acked(), 'five bytes of credit wait for more (off the echo path)');
  for (let i = 0; i < 100 && !acked(); i++) await new Promise((r) => setTimeout(r, ACK_DELAY_MS));
  assert.ok(acked(), 'credit returned after the ack delay');
  await ctl(s.id, { type: 'end', result: { status: 'fulfilled', value: 1 }, sent: 10 });
  await tick();
  assert.equal(got.ends, [], 'not before the bytes');
  await data(s.id, 'world');
  await tick();
  assert.is(got.data, 'helloworld');
  assert.equal(got.ends, [{ status: 'fulfilled', value: 1 }]);
});

test('a device going offline fails its streams; refusals and silence become errors', async () => {
  const { relay, events, ctl } = await setup();
  const a = handlers();
  const s = relay.open('dev1', 'pty', { cols: 80, rows: 24 }, a.h);
  await ctl(s.id, { type: 'opened', info: { sessionId: 'sess-1', pid: 1, reattached: false } });
  events.emitLocal({ type: 'device.offline', deviceId: 'dev1', ts: 1 });
  assert.is(a.got.errors[0]?.code, 'DEVICE_OFFLINE');
  const b = handlers();
  const refused = relay.open('dev1', 'process', { call: 'x' }, b.h);
  await ctl(refused.id, { type: 'error', code: 'NOT_FOUND', message: 'unknown process "x"' });
  await refused.opened.then(() => assert.unreachable(), (err: EdgehookError) => assert.is(err.code, 'NOT_FOUND'));
  assert.is(relay.openCount, 0);
});

test('an opened info that does not match the kind fails the stream and cancels the work', async () => {
  const { relay, seen, ctl } = await setup();
  const { h, got } = handlers();
  const s = relay.open('dev1', 'pty', { cols: 80, rows: 24 }, h);
  await ctl(s.id, { type: 'opened', info: { pid: 'one' } });
  await s.opened.then(() => assert.unreachable(), (err: EdgehookError) => {
    assert.is(err.code, 'INTERNAL');
    assert.match(err.message, /invalid info/);
  });
  await tick();
  assert.equal(seen.map((m) => JSON.parse(m.body).type), ['open', 'cancel']);
  assert.is(got.errors.length, 1);
  assert.is(relay.openCount, 0);
});

test.run();
