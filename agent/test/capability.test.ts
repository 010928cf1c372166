// The agent's one capability contract: every capability starts the same way and is closed by one
// loop, also when another one fails to start; capabilities loaded on first use load nothing before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, systemClock } from '@edgehook/shared';
import { defaultProfileDirs, loadProfiles } from '@edgehook/firmware-profiles';
import { closeCapabilities, loadedOnFirstUse, mergeHandlers, startCapabilities, type Capability } from '../src/capability.js';
import { containerMethods, containerStreamKindNames, containersOnFirstUse } from '../src/containers/containers.capability.js';
import { startContainers } from '../src/containers/containers.js';
import { processMethods, processStreamKindNames, startProcesses } from '../src/processes/processes.capability.js';
import { processRpcHandlers } from '../src/processes/processes.handler.js';
import { ProcessManager } from '../src/processes/process-manager.js';
import { ProcessLedger } from '../src/processes/process-ledger.js';
import { loadActions } from '../src/processes/actions.js';
import { SimulatedContainerRuntime } from '../src/containers/simulated.runtime.js';
import type { AgentStream } from '../src/streams/stream-host.js';
import { runAgent } from '../src/agent.js';
import { loadAgentConfig } from '../src/config.js';
import { LogRing } from '../src/hardware/log/log-ring.js';
import { simulatedPtyFactory } from '../src/pty/simulated-pty.factory.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });

function recording(name: string, closed: string[], opts: { closeFails?: boolean } = {}): Capability {
  return {
    name,
    handlers: {},
    streamKinds: {},
    close: async () => {
      closed.push(name);
      if (opts.closeFails) throw new Error(`${name} close failed`);
    },
  };
}

test('a capability that fails to start closes the ones started before it, last first, and the error goes on', async () => {
  const closed: string[] = [];
  let started = 0;
  const err = await startCapabilities([
    async () => (started++, recording('a', closed)),
    async () => (started++, recording('b', closed)),
    async () => {
      throw new Error('c cannot start');
    },
    async () => (started++, recording('d', closed)),
  ]).catch((e: unknown) => e);
  assert.instance(err, Error);
  assert.is((err as Error).message, 'c cannot start');
  assert.equal(closed, ['b', 'a']);
  assert.is(started, 2, 'nothing after the failed one starts');
});

test('closing closes every capability even when one fails to close, then reports that failure', async () => {
  const closed: string[] = [];
  const caps = await startCapabilities([async () => recording('a', closed), async () => recording('b', closed, { closeFails: true }), async () => recording('c', closed)]);
  const err = await closeCapabilities(caps).catch((e: unknown) => e);
  assert.equal(closed, ['c', 'b', 'a']);
  assert.is((err as Error).message, 'b close failed');
});

test('a method claimed by two capabilities is refused', () => {
  const one: Capability = { name: 'one', handlers: { ping: async (p) => ({ sentAt: p.sentAt, agentTime: 1 }) }, streamKinds: {}, close: () => undefined };
  const two: Capability = { ...one, name: 'two' };
  assert.throws(() => mergeHandlers([one, two]), /ping is claimed by two capabilities/);
  assert.equal(Object.keys(mergeHandlers([one])), ['ping']);
});

test('loaded on first use: nothing loads before the first call, one load serves calls and streams, close closes it', async () => {
  let loads = 0;
  const closed: string[] = [];
  const cap = loadedOnFirstUse({
    name: 'lazy',
    methods: ['ping'],
    streamKinds: ['serial'],
    load: async () => {
      loads++;
      return {
        name: 'lazy',
        handlers: { ping: async (p) => ({ sentAt: p.sentAt, agentTime: 99 }) },
        streamKinds: { serial: { open: async (spec) => ({ port: spec.port ?? 'console', path: '/dev/null', baud: spec.baud ?? 115200 }) } },
        close: () => {
          closed.push('lazy');
        },
      };
    },
  });
  assert.equal(Object.keys(cap.handlers), ['ping']);
  assert.equal(Object.keys(cap.streamKinds), ['serial']);
  assert.is(loads, 0);
  const [a, b] = await Promise.all([cap.handlers.ping!({ sentAt: 1 }), cap.handlers.ping!({ sentAt: 2 })]);
  assert.equal([a, b], [{ sentAt: 1, agentTime: 99 }, { sentAt: 2, agentTime: 99 }]);
  // The stream kind never touches the stream here, so no real one is needed.
  const noStream: AgentStream = Object.create(null);
  assert.equal(await cap.streamKinds.serial!.open({ port: 'uart0', baud: 9600 }, noStream), { port: 'uart0', path: '/dev/null', baud: 9600 });
  assert.is(loads, 1);
  await cap.close();
  assert.equal(closed, ['lazy']);
  const after = await cap.handlers.ping!({ sentAt: 3 }).catch((e: unknown) => e);
  assert.match(String(after), /stopping/);
  assert.is(loads, 1);
});

test('loaded on first use: closing one never used loads nothing; a failed load is tried again', async () => {
  let loads = 0;
  const unused = loadedOnFirstUse({ name: 'unused', methods: ['ping'], streamKinds: [], load: async () => (loads++, recording('unused', [])) });
  await unused.close();
  assert.is(loads, 0);
  let attempts = 0;
  const flaky = loadedOnFirstUse({
    name: 'flaky',
    methods: ['ping'],
    streamKinds: [],
    load: async () => {
      if (++attempts === 1) throw new Error('module missing');
      return { name: 'flaky', handlers: { ping: async (p) => ({ sentAt: p.sentAt, agentTime: 5 }) }, streamKinds: {}, close: () => undefined };
    },
  });
  assert.match(String(await flaky.handlers.ping!({ sentAt: 1 }).catch((e: unknown) => e)), /module missing/);
  assert.equal(await flaky.handlers.ping!({ sentAt: 1 }), { sentAt: 1, agentTime: 5 });
});

test('containers on first use declares exactly the methods and stream kinds the loaded capability serves', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eh-cap-'));
  try {
    let runtimes = 0;
    const runtime = new SimulatedContainerRuntime({ clock: systemClock, images: ['busybox'] });
    const lazy = containersOnFirstUse({ runtime: async () => (runtimes++, runtime), stateDir: dir, clock: systemClock, log });
    const real = startContainers({ runtime, stateDir: dir, clock: systemClock, log, watchEvents: false });
    real.close();
    assert.equal([...containerMethods].sort(), Object.keys(real.handlers).sort());
    assert.equal([...containerStreamKindNames].sort(), Object.keys(real.streamKinds).sort());
    assert.equal(Object.keys(lazy.handlers).sort(), Object.keys(real.handlers).sort());
    assert.is(runtimes, 0, 'no engine client before the first container call');
    const engine = await lazy.handlers['containers.engine']!({});
    assert.ok(engine);
    assert.is(runtimes, 1);
    await lazy.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('processes on first use declares exactly the methods the loaded handlers serve, and runs one on first call', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eh-cap-proc-'));
  try {
    const manager = new ProcessManager({ actions: await loadActions(undefined), clock: systemClock, log, ledger: new ProcessLedger(dir, log) });
    assert.equal([...processMethods].sort(), Object.keys(processRpcHandlers(manager, () => 0, { allowArbitrary: false })).sort());
    const cap = await startProcesses({ stateDir: dir, actionsFile: undefined, allowArbitrary: false, clock: systemClock, log });
    assert.equal(Object.keys(cap.handlers).sort(), [...processMethods].sort());
    assert.equal(Object.keys(cap.streamKinds), [...processStreamKindNames]);
    assert.equal(await cap.handlers['processes.list']!({}), []);
    await cap.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function agentDeps(dir: string, counter: { runtimes: number }, telemetryPort = 'off'): Promise<Parameters<typeof runAgent>[0]> {
  const profiles = await loadProfiles(defaultProfileDirs());
  return {
    // No credentials and no server: enrollment fails once every capability has started.
    config: loadAgentConfig(['--profile', 'simulated', '--state-dir', dir, '--hostname', 'cap-test'], { EDGEHOOK_TELEMETRY_PORT: telemetryPort }),
    clock: systemClock,
    log,
    profileExists: (id) => profiles.has(id),
    getProfile: (id) => profiles.get(id),
    logRing: new LogRing(),
    ptyFactory: simulatedPtyFactory(),
    containerRuntime: async () => (counter.runtimes++, new SimulatedContainerRuntime({ clock: systemClock })),
    onFatal: () => undefined,
  };
}

/** Listening sockets and timers this process holds (other tests' may be there already: compared with before). */
const running = (): string[] => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'Timeout');
const grew = (before: string[], after: string[]): string[] => after.filter((r) => after.filter((x) => x === r).length > before.filter((x) => x === r).length);

test('runAgent: when the agent cannot go on after its capabilities started, every one is closed (the telemetry endpoint included)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eh-cap-agent-'));
  try {
    const before = running();
    const counter = { runtimes: 0 };
    // Telemetry's local endpoint listens on a free port: a handle that stays if telemetry is not closed.
    const err = await runAgent(await agentDeps(dir, counter, '0')).catch((e: unknown) => e);
    assert.instance(err, Error);
    assert.match((err as Error).message, /not enrolled yet/);
    assert.is(counter.runtimes, 0, 'the container engine client was never built');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(grew(before, running()), [], 'nothing left running');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('runAgent: a capability that cannot start (telemetry spool taken by a file) fails the start with its error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'eh-cap-agent-'));
  try {
    await writeFile(join(dir, 'telemetry-spool'), 'not a directory');
    const before = running();
    const err = await runAgent(await agentDeps(dir, { runtimes: 0 })).catch((e: unknown) => e);
    assert.instance(err, Error);
    assert.match((err as Error).message, /telemetry-spool|ENOTDIR|EEXIST/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(grew(before, running()), [], 'nothing left running');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
