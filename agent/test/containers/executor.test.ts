// The declared-set executor over the simulated engine: apply, apply again (no-op), spec change,
// undeclared removal, failures that stay with their server, serialized and coalesced applies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, DeclaredServer, EDGEHOOK_LABELS, systemClock, type DeclaredServer as Declared } from '@edgehook/shared';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { startContainers } from '../../src/containers/containers.js';
import type { ContainerRuntime } from '../../src/containers/container-runtime.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const server = (name: string, extra: Record<string, unknown> = {}): Declared => DeclaredServer.parse({ name, image: 'busybox', cmd: ['cat'], ...extra });
let dir = '';

async function setup(runtime: ContainerRuntime = new SimulatedContainerRuntime({ clock: systemClock, images: ['busybox'] })) {
  dir = await mkdtemp(join(tmpdir(), 'eh-exec-'));
  const c = startContainers({ runtime, stateDir: dir, clock: systemClock, log, watchEvents: false });
  const states = async () => Object.fromEntries((await runtime.list({ all: true })).map((x) => [x.name, x.state]));
  return { runtime, c, states };
}
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const actions = (r: { steps: Array<{ step: { action: string; server: string }; ok: boolean }> }) => r.steps.map((s) => `${s.step.action} ${s.step.server}${s.ok ? '' : ' FAILED'}`);

test('apply creates and starts; applying again is a no-op; data directories exist', async () => {
  const { c, states } = await setup();
  const desired = [server('web'), server('db', { desired: 'stopped' })];
  const first = await c.executor.apply(desired);
  assert.equal(actions(first), ['create db', 'create web', 'start web']);
  assert.ok(first.ok);
  assert.equal(await states(), { web: 'running', db: 'created' });
  const st = await stat(join(dir, 'servers', 'web'));
  assert.ok(st.isDirectory());
  assert.is(st.mode & 0o027, 0, 'no group write, nothing for others (0750 under the umask)');
  const second = await c.executor.apply(desired);
  assert.equal(second, { steps: [], ok: true });
});

test('a changed spec recreates, a stop is applied, undeclared owned servers are removed, others left alone', async () => {
  const { c, runtime, states } = await setup();
  await c.executor.apply([server('web'), server('db'), server('old')]);
  await runtime.create({ name: 'foreign', image: 'busybox', env: {}, ports: [], binds: [], restartPolicy: 'no', labels: {}, tty: false, openStdin: false, stopTimeoutSec: 1 });
  await c.handlers['containers.create']?.({ spec: server('adhoc'), start: false });
  const webBefore = await runtime.inspect('web');
  const result = await c.executor.apply([server('web', { env: { MODE: 'new' } }), server('db', { desired: 'stopped' })]);
  assert.equal(actions(result), ['remove old', 'recreate web', 'stop db', 'start web']);
  const webAfter = await runtime.inspect('web');
  assert.is.not(webAfter.id, webBefore.id);
  assert.is(webAfter.labels[EDGEHOOK_LABELS.declared], 'true');
  assert.equal(await states(), { db: 'exited', foreign: 'created', adhoc: 'created', web: 'running' });
  assert.equal((await c.executor.plan([server('web', { env: { MODE: 'new' } }), server('db', { desired: 'stopped' })])), []);
});

test('a failing step does not stop other servers; later steps of that server are skipped', async () => {
  const { c, states } = await setup();
  const result = await c.executor.apply([server('bad', { image: 'not-here' }), server('good')]);
  assert.equal(actions(result), ['create bad FAILED', 'create good', 'start bad FAILED', 'start good']);
  assert.ok(!result.ok);
  assert.match(result.steps[0]?.error ?? '', /not-here/);
  assert.match(result.steps[2]?.error ?? '', /skipped/);
  assert.equal(await states(), { good: 'running' });
});

test('applies are serialized and the latest queued set wins', async () => {
  const { c, states } = await setup();
  const a = c.executor.apply([server('one')]);
  const b = c.executor.apply([server('two')]);
  const d = c.executor.apply([server('three')]);
  const [ra, rb, rd] = await Promise.all([a, b, d]);
  assert.equal(actions(ra), ['create one', 'start one']);
  assert.is(rb, rd, 'queued callers share the latest apply');
  assert.equal(actions(rd), ['remove one', 'create three', 'start three']);
  assert.equal(await states(), { three: 'running' });
});

test.run();
