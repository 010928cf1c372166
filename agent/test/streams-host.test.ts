// The agent's end of device streams, over the in-memory broker with a scripted control-plane side.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACK_DELAY_MS, createLogger, encodeJson, filterFor, matchTopic, topicFor, type StreamCmd } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { StreamHost, type AgentStream } from '../src/streams/stream-host.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const ids = { deviceId: 'dev1', cp: 'cp-a', streamId: 'stream-0001' };

async function setup(timing: { silenceMs?: number; sweepEveryMs?: number } = {}) {
  const broker = new MemoryBroker();
  const host = new StreamHost(log, timing);
  const events: string[] = [];
  let current: AgentStream | undefined;
  const specs: unknown[] = [];
  // Any kind of the map serves; serial's spec is small (an optional port and baud).
  host.register('serial', {
    async open(spec, stream) {
      specs.push(spec);
      if (spec.port === 'refuse') throw new Error('nope');
      current = stream;
      stream.onInput((data, done) => {
        events.push(`in:${data.toString()}`);
        done();
      });
      stream.onCommand((cmd) => events.push(`cmd:${cmd.type}`));
      stream.onGone(() => events.push('gone'));
      return { port: 'console', path: '/dev/null', baud: 9600 };
    },
  });
  await host.attach(broker.connect(), 'dev1');
  const cp = broker.connect();
  const ctl: unknown[] = [];
  const data: Buffer[] = [];
  await cp.subscribe(filterFor('streamCtl', { cp: 'cp-a' }), (_t, p) => ctl.push(JSON.parse(p.toString())));
  await cp.subscribe(filterFor('streamData', { cp: 'cp-a' }), (t, p) => matchTopic(t) && data.push(p));
  const cmd = (c: StreamCmd, streamId = ids.streamId) => cp.publish(topicFor('streamCmd', { ...ids, streamId }), encodeJson(c));
  const input = (s: string) => cp.publish(topicFor('streamInput', ids), Buffer.from(s));
  return { host, events, ctl, data, cmd, input, specs, stream: () => current };
}

test('open runs the kind; unknown kinds and failures answer with an error', async () => {
  const { ctl, cmd } = await setup();
  await cmd({ type: 'open', kind: 'serial', spec: {}, window: 4096 });
  await cmd({ type: 'open', kind: 'nope', spec: {}, window: 4096 }, 'stream-0002');
  await cmd({ type: 'open', kind: 'serial', spec: { port: 'refuse' }, window: 4096 }, 'stream-0003');
  await tick();
  assert.equal(ctl, [
    { type: 'opened', info: { port: 'console', path: '/dev/null', baud: 9600 } },
    { type: 'error', code: 'UNKNOWN_METHOD', message: 'this agent has no nope streams' },
    { type: 'error', code: 'INTERNAL', message: 'nope' },
  ]);
});

test('a spec that does not match the schema of its kind is refused before the kind runs', async () => {
  const { ctl, cmd, specs } = await setup();
  await cmd({ type: 'open', kind: 'serial', spec: { baud: -5 }, window: 4096 });
  await cmd({ type: 'open', kind: 'serial', spec: { port: 'a', extra: 1 }, window: 4096 }, 'stream-0002');
  await cmd({ type: 'open', kind: 'serial', spec: 'not an object', window: 4096 }, 'stream-0003');
  await tick();
  assert.equal(specs, [], 'the kind never saw a bad spec');
  const texts = ctl.map((m) => JSON.stringify(m));
  assert.is(texts.length, 3);
  for (const t of texts) assert.match(t, /^\{"type":"error","code":"BAD_REQUEST","message":"invalid serial spec: /);
  assert.match(texts[0] ?? '', /baud/);
  assert.match(texts[1] ?? '', /extra/);
});

test('input is acked once consumed; a close-input waits for the input sent before it', async () => {
  const { events, ctl, cmd, input } = await setup();
  await cmd({ type: 'open', kind: 'serial', spec: {}, window: 4096 });
  await tick();
  await cmd({ type: 'close-input', sent: 5 });
  await tick();
  assert.equal(events, [], 'close held back: 5 bytes announced, none arrived');
  await input('abc');
  await input('de');
  await tick();
  assert.equal(events, ['in:abc', 'in:de', 'cmd:close-input']);
  // Keystroke-sized credit is gathered for ACK_DELAY_MS into one ack.
  const acked = (): boolean => ctl.some((m) => JSON.stringify(m) === JSON.stringify({ type: 'ack', bytes: 5 }));
  for (let i = 0; i < 100 && !acked(); i++) await new Promise((r) => setTimeout(r, ACK_DELAY_MS));
  assert.ok(acked());
  assert.is(ctl.filter((m) => JSON.stringify(m).includes('"ack"')).length, 1, 'one ack for both writes');
});

test('output carries the channel byte; the end follows all output with the byte count', async () => {
  const { ctl, data, cmd, stream } = await setup();
  await cmd({ type: 'open', kind: 'serial', spec: {}, window: 4096 });
  await tick();
  stream()?.write(Buffer.from('out'), 1);
  stream()?.write(Buffer.from('err'), 2);
  stream()?.end({ status: 'fulfilled', value: 7 });
  await tick(20);
  assert.equal(data.map((d) => [d[0], d.subarray(1).toString()]), [[1, 'out'], [2, 'err']]);
  assert.equal(ctl.at(-1), { type: 'end', result: { status: 'fulfilled', value: 7 }, sent: 6 });
});

test('a control plane that goes silent is treated as gone; keepalives prevent that', async () => {
  const { events, cmd } = await setup({ silenceMs: 120, sweepEveryMs: 20 });
  await cmd({ type: 'open', kind: 'serial', spec: {}, window: 4096 });
  for (let i = 0; i < 6; i++) {
    await tick(40);
    await cmd({ type: 'keepalive' });
  }
  assert.equal(events, [], 'alive while keepalives come');
  await tick(250);
  assert.equal(events, ['gone']);
});

test.run();
