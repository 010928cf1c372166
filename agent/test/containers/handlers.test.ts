// The container RPC handlers over the simulated engine, called through the real RPC dispatcher
// (params validated by the shared schemas, errors as the control plane sees them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerRpcDefinitions, createLogger, decodeJson, encodeJson, RpcResponse, systemClock, topicFor } from '@edgehook/shared';
import { RpcDispatcher } from '../../src/devices/rpc.dispatcher.js';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { startContainers, type ContainersAgent } from '../../src/containers/containers.js';
import { OutputLineSplitter } from '../../src/containers/containers.handler.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
let dir = '';
let c: ContainersAgent;
let runtime: SimulatedContainerRuntime;
let call: (method: string, params: unknown) => Promise<RpcResponse>;

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'eh-handlers-'));
  runtime = new SimulatedContainerRuntime({ clock: systemClock, images: ['busybox'] });
  c = startContainers({ runtime, stateDir: dir, clock: systemClock, log });
  let n = 0;
  const waiting = new Map<string, (r: RpcResponse) => void>();
  const dispatcher = new RpcDispatcher({
    deviceId: 'dev1',
    handlers: c.handlers,
    log,
    now: () => Date.now(),
    publish: async (_topic, payload) => {
      const r = decodeJson(RpcResponse, payload);
      if (r.ok) waiting.get(r.value.id)?.(r.value);
    },
  });
  call = (method, params) =>
    new Promise((resolve) => {
      const id = `r${++n}`;
      waiting.set(id, resolve);
      dispatcher.handle(topicFor('rpcRequest', { deviceId: 'dev1', replyTo: 'cp', requestId: id }), encodeJson({ id, method, params, deadline: Date.now() + 60_000 }));
    });
});
test.after.each(async () => {
  c.close();
  await rm(dir, { recursive: true, force: true });
});

async function ok(method: string, params: unknown): Promise<any> {
  const r = await call(method, params);
  if (!r.ok) throw new Error(`${method} failed: ${r.error.code} ${r.error.message}`);
  return r.result;
}
async function err(method: string, params: unknown): Promise<string> {
  const r = await call(method, params);
  return r.ok ? 'ok' : r.error.code;
}

test('every container method has a handler', () => {
  for (const m of Object.keys(containerRpcDefinitions)) assert.type(c.handlers[m as keyof typeof c.handlers], 'function', m);
});

test('engine, create, list, inspect, power, remove', async () => {
  assert.is((await ok('containers.engine', {})).name, 'simulated');
  const created = await ok('containers.create', { spec: { name: 'web', image: 'busybox', cmd: ['cat'] }, start: true });
  assert.equal([created.name, created.engineState, created.power, created.managed, created.server, created.declared], ['web', 'running', 'running', true, 'web', false]);
  const listed = await ok('containers.list', {});
  assert.equal(listed.map((x: { name: string }) => x.name), ['web']);
  assert.is((await ok('containers.inspect', { ref: 'web' })).id, created.id);
  const stopped = await ok('containers.power', { ref: 'web', action: 'stop', timeoutSec: 1 });
  assert.equal([stopped.engineState, stopped.power, stopped.exitCode], ['exited', 'offline', 143]);
  assert.is((await ok('containers.power', { ref: created.id, action: 'restart' })).power, 'running');
  assert.is(await err('containers.remove', { ref: 'web' }), 'CONFLICT', 'running: needs force');
  await ok('containers.remove', { ref: 'web', force: true });
  assert.is(await err('containers.inspect', { ref: 'web' }), 'NOT_FOUND');
  assert.is(await err('containers.power', { ref: 'web', action: 'start' }), 'NOT_FOUND');
  assert.is(await err('containers.power', { ref: '../etc', action: 'start' }), 'BAD_REQUEST');
  assert.is(await err('containers.create', { spec: { name: 'x', image: 'nope' } }), 'NOT_FOUND');
  assert.is(await err('containers.create', { spec: { name: 'x', image: 'busybox', labels: { 'io.edgehook.owner': 'me' } } }), 'BAD_REQUEST');
});

test('logs: lines per stream, tail, truncation under the reply bound', async () => {
  await ok('containers.create', { spec: { name: 'job', image: 'busybox', cmd: ['sh', '-c', 'echo one; echo two >&2; echo three'] }, start: true });
  await new Promise((r) => setTimeout(r, 20));
  const logs = await ok('containers.logs', { ref: 'job', tail: 100 });
  assert.equal(logs, { lines: [{ stream: 'stdout', line: 'one' }, { stream: 'stderr', line: 'two' }, { stream: 'stdout', line: 'three' }], truncated: false });
  assert.equal((await ok('containers.logs', { ref: 'job', tail: 1 })).lines, [{ stream: 'stdout', line: 'three' }]);
  const big = 'x'.repeat(60_000);
  await ok('containers.create', { spec: { name: 'big', image: 'busybox', cmd: ['cat'] }, start: true });
  const att = await runtime.attach('big');
  for (let i = 0; i < 8; i++) await att.write(Buffer.from(`${i}${big}\n`));
  att.close();
  const capped = await ok('containers.logs', { ref: 'big', tail: 100 });
  assert.ok(capped.truncated);
  assert.ok(capped.lines.length < 8 && capped.lines.length > 0);
  assert.ok(capped.lines.at(-1).line.startsWith('7'), 'the newest lines are kept');
});

test('line splitting joins lines split across chunks and multi-byte characters', () => {
  const s = new OutputLineSplitter();
  const euro = Buffer.from('€');
  assert.equal(s.push({ stream: 'stdout', data: Buffer.concat([Buffer.from('a\r\nb'), euro.subarray(0, 1)]) }), [{ stream: 'stdout', line: 'a' }]);
  assert.equal(s.push({ stream: 'stdout', data: Buffer.concat([euro.subarray(1), Buffer.from('c\n')]) }), [{ stream: 'stdout', line: 'b€c' }]);
  assert.equal(s.push({ stream: 'stderr', data: Buffer.from('tail') }), []);
  assert.equal(s.flush(), [{ stream: 'stderr', line: 'tail' }]);
});

test('stats: one sample with Wings keys and the data directory size', async () => {
  await ok('containers.create', { spec: { name: 'web', image: 'busybox', cmd: ['cat'] }, start: true });
  await writeFile(join(dir, 'servers', 'web', 'blob'), Buffer.alloc(12345));
  const stats = await ok('containers.stats', { ref: 'web' });
  assert.equal(Object.keys(stats).sort(), ['cpu_absolute', 'disk_bytes', 'memory_bytes', 'memory_limit_bytes', 'network', 'state', 'uptime']);
  assert.is(stats.state, 'running');
  assert.is(stats.disk_bytes, 12345);
  assert.ok(stats.memory_bytes > 0 && stats.memory_limit_bytes > 0);
});

test('servers.plan and servers.apply; files calls', async () => {
  const servers = [{ name: 'web', image: 'busybox', cmd: ['cat'] }];
  assert.equal((await ok('servers.plan', { servers })).steps, [{ action: 'create', server: 'web' }, { action: 'start', server: 'web' }]);
  const applied = await ok('servers.apply', { servers });
  assert.ok(applied.ok);
  assert.equal((await ok('servers.plan', { servers })).steps, []);
  assert.is(await err('servers.apply', { servers: [...servers, ...servers] }), 'BAD_REQUEST', 'declared twice');
  await ok('files.mkdir', { server: 'web', path: '/conf' });
  await writeFile(join(dir, 'servers', 'web', 'conf', 'a.txt'), 'hi');
  assert.equal((await ok('files.list', { server: 'web' })).map((e: { name: string }) => e.name), ['conf']);
  assert.is((await ok('files.stat', { server: 'web', path: 'conf/a.txt' })).size, 2);
  await ok('files.rename', { server: 'web', from: 'conf/a.txt', to: 'b.txt' });
  await ok('files.delete', { server: 'web', path: 'conf' });
  assert.equal((await ok('files.list', { server: 'web', path: '/' })).map((e: { name: string }) => e.name), ['b.txt']);
  assert.is(await err('files.list', { server: 'web', path: '../..' }), 'FORBIDDEN');
  assert.is(await err('files.delete', { server: 'web', path: '/' }), 'FORBIDDEN');
  assert.is(await err('files.stat', { server: 'web', path: 'nope' }), 'NOT_FOUND');
  assert.is(await err('files.list', { server: '../web', path: '/' }), 'BAD_REQUEST');
});

test.run();
