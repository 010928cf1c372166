// The container capability (handlers, power, declared set, console and file streams) over a real
// engine: a private Podman service with a local busybox image. Skipped locally when podman is
// missing; in CI the helper fails instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerSpec, createLogger, DeclaredServer, encodeJson, filterFor, systemClock, topicFor, type StreamCmd } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import { StreamHost } from '../../src/streams/stream-host.js';
import { DockerEngineRuntime } from '../../src/containers/docker-engine.runtime.js';
import { startContainers, type ContainersAgent } from '../../src/containers/containers.js';
import { startTestEngine, type TestEngine } from './podman-engine.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
let engine: TestEngine | null = null;
let dir = '';
let c: ContainersAgent;
let host: StreamHost;
let broker: MemoryBroker;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    if (await cond()) return;
    await tick(50);
  }
  assert.unreachable(`timed out waiting for ${what}`);
}

test.before(async () => {
  engine = await startTestEngine();
  if (!engine) {
    console.log('containers-engine: podman is not installed here; skipped (CI runs it)');
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'eh-cengine-'));
  c = startContainers({ runtime: new DockerEngineRuntime(engine.socket), stateDir: dir, clock: systemClock, log });
  host = new StreamHost(log);
  host.registerAll(c.streamKinds);
  broker = new MemoryBroker();
  await host.attach(broker.connect(), 'dev1');
});
test.after(async () => {
  host?.dropAll();
  c?.close();
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const h = (): any => c.handlers;
let seq = 0;
async function open(kind: string, spec: unknown) {
  const cp = broker.connect();
  const ids = { deviceId: 'dev1', cp: 'cp-e', streamId: `e${++seq}` };
  const ctl: any[] = [];
  const out: Buffer[] = [];
  const cmd = (x: StreamCmd) => cp.publish(topicFor('streamCmd', ids), encodeJson(x));
  await cp.subscribe(filterFor('streamCtl', ids), (_t, p) => ctl.push(JSON.parse(p.toString())));
  await cp.subscribe(filterFor('streamData', ids), (_t, p) => {
    out.push(Buffer.from(p.subarray(1)));
    void cmd({ type: 'ack', bytes: p.length - 1 });
  });
  let sent = 0;
  await cmd({ type: 'open', kind, spec, window: 256 * 1024 });
  await until('opened', () => ctl.some((m) => m.type === 'opened' || m.type === 'error'));
  return {
    ctl,
    cmd,
    text: () => Buffer.concat(out).toString(),
    end: () => ctl.find((m) => m.type === 'end'),
    input: async (s: string) => {
      sent += Buffer.byteLength(s);
      await cp.publish(topicFor('streamInput', ids), Buffer.from(s));
    },
    sent: () => sent,
  };
}

test('lifecycle and console round trip through the handlers and the console stream', async () => {
  if (!engine) return;
  // Exits when its stdin closes: a console leaving must not close it.
  const spec = ContainerSpec.parse({ name: 'web', image: engine.image, cmd: ['sh', '-c', 'while read l; do echo "got:$l"; done'], stopTimeoutSec: 1 });
  const created = await h()['containers.create']({ spec, start: true });
  assert.equal([created.engineState, created.power, created.managed], ['running', 'running', true]);
  const s = await open('container-console', { ref: 'web', tail: 0 });
  assert.is(s.ctl[0].type, 'opened');
  await s.input('hello engine\n');
  await until('echo', () => s.text().includes('got:hello engine\n'));
  await s.cmd({ type: 'cancel' });
  await until('first console end', () => !!s.end());
  await tick(500);
  assert.is((await h()['containers.inspect']({ ref: 'web' })).engineState, 'running', 'leaving the console keeps stdin open');
  const again = await open('container-console', { ref: 'web', tail: 0 });
  const other = await open('container-console', { ref: 'web', tail: 0 });
  await again.input('twice\n');
  await until('echo to both consoles', () => again.text() === 'got:twice\n' && other.text() === 'got:twice\n');
  await other.cmd({ type: 'detach' });
  const stopped = await h()['containers.power']({ ref: 'web', action: 'stop', timeoutSec: 1, wait: true });
  assert.is(stopped.power, 'offline');
  await until('console end', () => !!again.end());
  // sh as PID 1 ignores SIGTERM: the engine kills it after the timeout (137); the console ends while the stop runs.
  assert.is(again.end().result.status, 'fulfilled');
  assert.ok([137, 143].includes(again.end().result.exitCode), JSON.stringify(again.end().result));
  const logs = await h()['containers.logs']({ ref: 'web', tail: 10 });
  assert.equal(logs.lines, [{ stream: 'stdout', line: 'got:hello engine' }, { stream: 'stdout', line: 'got:twice' }]);
  await h()['containers.remove']({ ref: 'web', force: true });
});

test('files uploaded through the stream are visible inside the container at /data', async () => {
  if (!engine) return;
  await c.files.ensureDataDir('reader');
  const up = await open('file-write', { server: 'reader', path: 'in/hello.txt' });
  await up.input('from the files API\n');
  await up.cmd({ type: 'close-input', sent: up.sent() });
  await until('upload end', () => !!up.end());
  assert.is(up.end().result.status, 'fulfilled');
  const spec = ContainerSpec.parse({ name: 'reader', image: engine.image, cmd: ['cat', '/data/in/hello.txt'] });
  await h()['containers.create']({ spec, start: true });
  await until('exit', async () => (await h()['containers.inspect']({ ref: 'reader' })).engineState === 'exited');
  const logs = await h()['containers.logs']({ ref: 'reader', tail: 10 });
  assert.equal(logs.lines.map((l: { line: string }) => l.line), ['from the files API']);
  assert.equal((await c.files.list('reader', '/in')).map((e) => e.name), ['hello.txt']);
  await h()['containers.remove']({ ref: 'reader', force: true });
});

test('declared set: apply, apply again is a no-op, a spec change recreates, an exit on its own goes offline', async () => {
  if (!engine) return;
  const image = engine.image;
  const changes: string[] = [];
  const off = c.power.onChange((x) => changes.push(`${x.name}:${x.state}`));
  const first = await h()['servers.apply']({ servers: [DeclaredServer.parse({ name: 'svc', image, cmd: ['cat'], stopTimeoutSec: 1 })] });
  assert.ok(first.ok, JSON.stringify(first));
  assert.equal(first.steps.map((s: any) => s.step.action), ['create', 'start']);
  assert.equal(await h()['servers.plan']({ servers: [DeclaredServer.parse({ name: 'svc', image, cmd: ['cat'], stopTimeoutSec: 1 })] }), { steps: [] });
  const changed = await h()['servers.apply']({ servers: [DeclaredServer.parse({ name: 'svc', image, cmd: ['exit', '3'], stopTimeoutSec: 1 })] });
  assert.equal(changed.steps.map((s: any) => `${s.step.action}:${s.ok}`), ['recreate:true', 'start:true']);
  await until('exit on its own', async () => (await h()['containers.inspect']({ ref: 'svc' })).exitCode === 3);
  await until('offline reported', () => changes.at(-1) === 'svc:offline');
  const stats = await h()['containers.stats']({ ref: 'svc' });
  assert.is(stats.state, 'offline');
  const gone = await h()['servers.apply']({ servers: [] });
  assert.equal(gone.steps.map((s: any) => `${s.step.action}:${s.ok}`), ['remove:true']);
  off();
});

test.run();
