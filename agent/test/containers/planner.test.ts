// The declared-set planner as a pure function: a table of current/desired cases and their steps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeclaredServer, EDGEHOOK_LABELS, EdgehookError, type DeclaredServer as Declared, type EngineState, type PlanStep } from '@edgehook/shared';
import type { RuntimeContainer } from '../../src/containers/container-runtime.js';
import { OWNER, planServers, specHash, toCreateSpec } from '../../src/containers/planner.js';
import { DENY_ALL } from '../../src/containers/host-access.js';

const declared = (name: string, extra: Partial<Record<string, unknown>> = {}): Declared => DeclaredServer.parse({ name, image: 'busybox', ...extra });

function container(name: string, state: EngineState, opts: { spec?: Declared; owner?: string | null; declared?: string; hash?: string; id?: string } = {}): RuntimeContainer {
  const labels: Record<string, string> = {};
  if (opts.owner !== null) labels[EDGEHOOK_LABELS.owner] = opts.owner ?? OWNER;
  labels[EDGEHOOK_LABELS.server] = name;
  labels[EDGEHOOK_LABELS.declared] = opts.declared ?? 'true';
  const hash = opts.hash ?? (opts.spec ? specHash(opts.spec) : undefined);
  if (hash) labels[EDGEHOOK_LABELS.specHash] = hash;
  return { id: opts.id ?? `id-${name}`, name, image: 'busybox', state, status: state, labels, createdAt: 0, startedAt: null, finishedAt: null, exitCode: null, tty: false, ports: [] };
}

const web = declared('web');
const webStopped = declared('web', { desired: 'stopped' });
const db = declared('db');

const cases: Array<{ name: string; current: RuntimeContainer[]; desired: Declared[]; steps: PlanStep[] }> = [
  { name: 'nothing to do', current: [], desired: [], steps: [] },
  { name: 'new server: create then start', current: [], desired: [web], steps: [{ action: 'create', server: 'web' }, { action: 'start', server: 'web' }] },
  { name: 'new stopped server: create only', current: [], desired: [webStopped], steps: [{ action: 'create', server: 'web' }] },
  { name: 'unchanged and running: nothing', current: [container('web', 'running', { spec: web })], desired: [web], steps: [] },
  { name: 'unchanged and stopped as desired: nothing', current: [container('web', 'exited', { spec: webStopped })], desired: [webStopped], steps: [] },
  { name: 'stopped but should run: start', current: [container('web', 'exited', { spec: web })], desired: [web], steps: [{ action: 'start', server: 'web' }] },
  { name: 'created but never started: start', current: [container('web', 'created', { spec: web })], desired: [web], steps: [{ action: 'start', server: 'web' }] },
  { name: 'running but should stop: stop', current: [container('web', 'running', { spec: web })], desired: [webStopped], steps: [{ action: 'stop', server: 'web' }] },
  {
    name: 'spec changed: recreate then start',
    current: [container('web', 'running', { hash: 'old' })],
    desired: [web],
    steps: [{ action: 'recreate', server: 'web', reason: `spec changed (old -> ${specHash(web)})` }, { action: 'start', server: 'web' }],
  },
  { name: 'no hash label: recreate', current: [container('web', 'exited', { hash: '' })], desired: [webStopped], steps: [{ action: 'recreate', server: 'web', reason: 'container has no spec hash' }] },
  { name: 'owned, declared, no longer wanted: remove', current: [container('old', 'running', { spec: web })], desired: [], steps: [{ action: 'remove', server: 'old', containerId: 'id-old' }] },
  { name: 'foreign container untouched, even with a declared name', current: [container('web', 'running', { owner: null })], desired: [web], steps: [{ action: 'create', server: 'web' }, { action: 'start', server: 'web' }] },
  { name: 'foreign container not removed', current: [container('other', 'running', { owner: 'someone-else' })], desired: [], steps: [] },
  { name: 'ad-hoc container not removed', current: [container('adhoc', 'running', { declared: 'false' })], desired: [], steps: [] },
  {
    name: 'two containers claim one server: the second goes',
    current: [container('web', 'running', { spec: web, id: 'a' }), container('web', 'exited', { spec: web, id: 'b' })],
    desired: [web],
    steps: [{ action: 'remove', server: 'web', containerId: 'b' }],
  },
  { name: 'a server listed twice: the first wins', current: [], desired: [web, webStopped], steps: [{ action: 'create', server: 'web' }, { action: 'start', server: 'web' }] },
  {
    name: 'mixed: removes, then builds, then power, each by name',
    current: [container('zz', 'running', { spec: web }), container('aa', 'running', { spec: web }), container('db', 'running', { spec: db }), container('web', 'exited', { hash: 'x' })],
    desired: [declared('new'), web, declared('db', { desired: 'stopped' })],
    steps: [
      { action: 'remove', server: 'aa', containerId: 'id-aa' },
      { action: 'remove', server: 'zz', containerId: 'id-zz' },
      { action: 'create', server: 'new' },
      { action: 'recreate', server: 'web', reason: `spec changed (x -> ${specHash(web)})` },
      { action: 'stop', server: 'db' },
      { action: 'start', server: 'new' },
      { action: 'start', server: 'web' },
    ],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, () => {
    assert.equal(planServers(c.current, c.desired, specHash), c.steps);
    // Pure: same inputs, same answer, inputs untouched.
    assert.equal(planServers(c.current, c.desired, specHash), c.steps);
  });
}

test('the spec hash ignores key order and the desired state, and sees real changes', () => {
  const a = declared('web', { env: { A: '1', B: '2' }, desired: 'running' });
  const b = declared('web', { env: { B: '2', A: '1' }, desired: 'stopped' });
  assert.is(specHash(a), specHash(b));
  assert.is.not(specHash(a), specHash(declared('web', { env: { A: '1', B: '3' } })));
  assert.is.not(specHash(a), specHash(declared('web', { env: { A: '1', B: '2' }, image: 'alpine' })));
});

test('toCreateSpec: labels, data bind, volumes inside the data dir, cpus as nano-cpus', () => {
  const spec = declared('web', { labels: { team: 'x' }, cpus: 0.5, volumes: [{ source: 'conf', target: '/etc/app' }, { source: '/srv/shared', target: '/shared', readOnly: true }] });
  const create = toCreateSpec(spec, { dataDir: '/state/servers/web', declared: true, hostAccess: { ...DENY_ALL, hostPaths: ['/srv'] } });
  assert.equal(create.labels, { team: 'x', [EDGEHOOK_LABELS.owner]: OWNER, [EDGEHOOK_LABELS.server]: 'web', [EDGEHOOK_LABELS.declared]: 'true', [EDGEHOOK_LABELS.specHash]: specHash(spec) });
  assert.equal(create.binds, [
    { source: '/state/servers/web', target: '/data', readOnly: false },
    { source: '/state/servers/web/conf', target: '/etc/app', readOnly: false },
    { source: '/srv/shared', target: '/shared', readOnly: true },
  ]);
  assert.is(create.nanoCpus, 500_000_000);
  assert.is(create.openStdin, true);
  assert.is(toCreateSpec(declared('web', { dataMount: null }), { dataDir: '/d', declared: false }).binds.length, 0);
  try {
    toCreateSpec(declared('web', { volumes: [{ source: '../other/secret', target: '/x' }] }), { dataDir: '/state/servers/web', declared: true });
    assert.unreachable('a volume escaping the data dir must be refused');
  } catch (err) {
    assert.instance(err, EdgehookError);
    assert.is((err as EdgehookError).code, 'FORBIDDEN');
  }
});

test.run();
