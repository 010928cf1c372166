// Container stream kinds through the real StreamHost over the in-memory broker, with a scripted
// control-plane side (opens, acks output, sends input): console, logs, stats, file download/upload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, encodeJson, filterFor, systemClock, topicFor, type StreamCmd } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { StreamHost } from '../../src/streams/stream-host.js';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { startContainers, type ContainersAgent } from '../../src/containers/containers.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
let dir = '';
let c: ContainersAgent;
let runtime: SimulatedContainerRuntime;
let host: StreamHost;
let broker: MemoryBroker;
let seq = 0;

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await tick(10);
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eh-cstreams-'));
  runtime = new SimulatedContainerRuntime({ clock: systemClock });
  c = startContainers({ runtime, stateDir: dir, clock: systemClock, log });
  host = new StreamHost(log);
  host.registerAll(c.streamKinds);
  broker = new MemoryBroker();
  await host.attach(broker.connect(), 'dev1');
});
test.after.each(async () => {
  host.dropAll();
  c.close();
  await rm(dir, { recursive: true, force: true });
});

/** Opens a stream as the control plane would; acks output as it arrives unless told not to. */
async function open(kind: string, spec: unknown, opts: { window?: number; autoAck?: boolean } = {}) {
  const cp = broker.connect();
  const ids = { deviceId: 'dev1', cp: 'cp-a', streamId: `s${++seq}` };
  const ctl: any[] = [];
  const flow = { autoAck: opts.autoAck !== false };
  const out: Array<{ channel: number; data: Buffer }> = [];
  const cmd = (x: StreamCmd) => cp.publish(topicFor('streamCmd', ids), encodeJson(x));
  await cp.subscribe(filterFor('streamCtl', ids), (_t, p) => ctl.push(JSON.parse(p.toString())));
  await cp.subscribe(filterFor('streamData', ids), (_t, p) => {
    out.push({ channel: p[0] ?? 0, data: Buffer.from(p.subarray(1)) });
    if (flow.autoAck) void cmd({ type: 'ack', bytes: p.length - 1 });
  });
  let sent = 0;
  const input = async (b: Buffer | string) => {
    sent += Buffer.byteLength(b);
    await cp.publish(topicFor('streamInput', ids), Buffer.from(b));
  };
  await cmd({ type: 'open', kind, spec, window: opts.window ?? 64 * 1024 });
  await until('opened or error', () => ctl.some((m) => m.type === 'opened' || m.type === 'error'));
  const text = (channel = 1) => Buffer.concat(out.filter((o) => o.channel === channel).map((o) => o.data)).toString();
  const acked = () => ctl.filter((m) => m.type === 'ack').reduce((n, m) => n + m.bytes, 0);
  const end = () => ctl.find((m) => m.type === 'end');
  /** Acks what arrived so far and everything from now on. */
  const resume = async () => {
    flow.autoAck = true;
    await cmd({ type: 'ack', bytes: out.reduce((n, o) => n + o.data.length, 0) });
  };
  return { ctl, out, cmd, input, text, acked, end, resume, sent: () => sent };
}

test('console: input echoes back on stdout, credits return, the stop ends the stream with the exit', async () => {
  await c.handlers['containers.create']?.({ spec: (await import('@edgehook/shared')).ContainerSpec.parse({ name: 'web', image: 'busybox', cmd: ['sh', '-c', 'echo booted; cat'] }), start: true });
  await tick(10);
  const s = await open('container-console', { ref: 'web', tail: 10 });
  assert.equal(s.ctl[0].type, 'opened');
  assert.is(s.ctl[0].info.name, 'web');
  await until('replay', () => s.text().includes('booted\n'));
  await s.input('say hello\n');
  await until('echo', () => s.text().includes('say hello\n'));
  assert.is(s.text(), 'booted\nsay hello\n');
  await until('input credit', () => s.acked() === 10);
  await c.handlers['containers.power']?.({ ref: 'web', action: 'stop', timeoutSec: 1, wait: true });
  await until('end', () => !!s.end());
  assert.equal(s.end().result, { status: 'fulfilled', value: { state: 'offline' }, exitCode: 143 });
});

test('consoles share one attachment: one leaving does not end the other', async () => {
  await runtime.create({ name: 'web', image: 'busybox', cmd: ['cat'], env: {}, ports: [], binds: [], restartPolicy: 'no', labels: {}, tty: false, openStdin: true, stopTimeoutSec: 1 });
  await runtime.start('web');
  const a = await open('container-console', { ref: 'web' });
  const b = await open('container-console', { ref: 'web' });
  await a.input('one\n');
  await until('both see it', () => a.text() === 'one\n' && b.text() === 'one\n');
  await a.cmd({ type: 'detach' });
  await tick(20);
  await b.input('two\n');
  await until('the other still works', () => b.text() === 'one\ntwo\n');
  assert.is(a.text(), 'one\n');
  assert.is((await runtime.inspect('web')).state, 'running');
  await b.cmd({ type: 'cancel' });
  await until('end', () => !!b.end());
});

test('console: a stopped container or unknown ref is refused at open', async () => {
  const s = await open('container-console', { ref: 'nosuch' });
  assert.is(s.ctl[0].code, 'NOT_FOUND');
  const bad = await open('container-console', { ref: '../x' });
  assert.is(bad.ctl[0].code, 'BAD_REQUEST');
});

test('console output pauses while the window is full and resumes on acks', async () => {
  await runtime.create({ name: 'big', image: 'busybox', cmd: ['cat'], env: {}, ports: [], binds: [], restartPolicy: 'no', labels: {}, tty: false, openStdin: true, stopTimeoutSec: 1 });
  await runtime.start('big');
  const s = await open('container-console', { ref: 'big' }, { window: 4096, autoAck: false });
  const line = 'x'.repeat(1023) + '\n';
  for (let i = 0; i < 32; i++) await s.input(line);
  await tick(50);
  const before = s.out.reduce((n, o) => n + o.data.length, 0);
  assert.ok(before <= 4096 + 1024, `sent ${before} bytes without credit`);
  await tick(50);
  assert.is(s.out.reduce((n, o) => n + o.data.length, 0), before, 'nothing more without credit');
  await s.resume();
  await until('the rest after credit', () => s.text().length === 32 * 1024);
  await s.cmd({ type: 'cancel' });
  await until('end', () => !!s.end());
});

test('logs: tail then follow, cancel ends', async () => {
  await runtime.create({ name: 'web', image: 'busybox', cmd: ['sh', '-c', 'echo one; echo two >&2; cat'], env: {}, ports: [], binds: [], restartPolicy: 'no', labels: {}, tty: false, openStdin: true, stopTimeoutSec: 1 });
  await runtime.start('web');
  await tick(10);
  const s = await open('container-logs', { ref: 'web', tail: 10, follow: true });
  await until('past lines', () => s.text(1) === 'one\n' && s.text(2) === 'two\n');
  const att = await runtime.attach('web');
  await att.write(Buffer.from('live\n'));
  await until('followed line', () => s.text(1) === 'one\nlive\n');
  await s.cmd({ type: 'cancel' });
  await until('end', () => !!s.end());
  assert.is(s.end().result.status, 'fulfilled');
  att.close();
});

test('stats: one JSON line per engine sample with Wings keys', async () => {
  await runtime.create({ name: 'web', image: 'busybox', cmd: ['cat'], env: {}, ports: [], binds: [], restartPolicy: 'no', labels: {}, tty: false, openStdin: true, stopTimeoutSec: 1 });
  await runtime.start('web');
  const s = await open('container-stats', { ref: 'web' });
  await until('a stats line', () => s.text().includes('\n'), 5000);
  const sample = JSON.parse(s.text().split('\n')[0] ?? '');
  assert.equal(Object.keys(sample).sort(), ['cpu_absolute', 'disk_bytes', 'memory_bytes', 'memory_limit_bytes', 'network', 'state', 'uptime']);
  assert.is(sample.state, 'running');
  await s.cmd({ type: 'cancel' });
  await until('end', () => !!s.end());
});

test('upload then download: credits follow bytes on disk, the file round-trips', async () => {
  await c.files.ensureDataDir('web');
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
  const up = await open('file-write', { server: 'web', path: '/dir/blob.bin', size: body.length });
  for (let off = 0; off < body.length; off += 16_384) await up.input(body.subarray(off, off + 16_384));
  await until('all input credited', () => up.acked() === body.length);
  await up.cmd({ type: 'close-input', sent: up.sent() });
  await until('upload end', () => !!up.end());
  assert.equal(up.end().result, { status: 'fulfilled', value: { bytes: body.length } });
  assert.ok((await readFile(join(dir, 'servers/web/dir/blob.bin'))).equals(body));

  const down = await open('file-read', { server: 'web', path: 'dir/blob.bin' }, { window: 8192 });
  assert.equal(down.ctl[0].info, { size: body.length });
  await until('download end', () => !!down.end());
  assert.equal(down.end().result, { status: 'fulfilled', value: { size: body.length } });
  assert.ok(Buffer.concat(down.out.map((o) => o.data)).equals(body));
});

test('upload: cancel removes the partial file, a short upload is refused, escapes refused at open', async () => {
  await c.files.ensureDataDir('web');
  await writeFile(join(dir, 'servers/web/keep.txt'), 'old');
  const up = await open('file-write', { server: 'web', path: 'keep.txt' });
  await up.input('new content');
  await until('credit', () => up.acked() === 11);
  await up.cmd({ type: 'cancel' });
  await until('end', () => !!up.end());
  assert.is(up.end().result.status, 'rejected');
  assert.is(await readFile(join(dir, 'servers/web/keep.txt'), 'utf8'), 'old');
  assert.equal(await readdir(join(dir, 'servers/web')), ['keep.txt']);

  const short = await open('file-write', { server: 'web', path: 'short.txt', size: 100 });
  await short.input('only a bit');
  await short.cmd({ type: 'close-input', sent: short.sent() });
  await until('end', () => !!short.end());
  assert.match(short.end().result.reason, /expected 100 bytes/);
  assert.equal(await readdir(join(dir, 'servers/web')), ['keep.txt']);

  const escape = await open('file-write', { server: 'web', path: '../../escape.txt' });
  assert.is(escape.ctl[0].code, 'FORBIDDEN');
  const missing = await open('file-read', { server: 'web', path: 'nope' });
  assert.is(missing.ctl[0].code, 'NOT_FOUND');
});

test.run();
