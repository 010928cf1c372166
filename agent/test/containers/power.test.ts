// Power serialization over the simulated engine: one action at a time per container, Wings states
// observed in order, refusals when the caller will not wait, engine events for exits on their own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, EdgehookError, systemClock } from '@edgehook/shared';
import { SimulatedContainerRuntime } from '../../src/containers/simulated.runtime.js';
import { PowerManager, powerOfEngine } from '../../src/containers/power.js';
import type { RuntimeCreateSpec } from '../../src/containers/container-runtime.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** The simulated engine, with starts held until the test opens the gate (an action "in progress"). */
class GatedRuntime extends SimulatedContainerRuntime {
  gate: Promise<void> = Promise.resolve();
  open: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  override async start(ref: string): Promise<void> {
    await this.gate;
    return super.start(ref);
  }
}

const spec = (name: string, cmd: string[] = ['cat']): RuntimeCreateSpec => ({
  name,
  image: 'busybox',
  cmd,
  env: {},
  ports: [],
  binds: [],
  restartPolicy: 'no',
  labels: {},
  tty: false,
  openStdin: true,
  stopTimeoutSec: 1,
});

async function setup() {
  const runtime = new GatedRuntime({ clock: systemClock });
  const power = new PowerManager({ runtime, log });
  const changes: string[] = [];
  power.onChange((c) => changes.push(`${c.name}:${c.state}`));
  await runtime.create(spec('web'));
  return { runtime, power, changes };
}

test('engine state maps to Wings power states', () => {
  assert.equal(
    (['created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead'] as const).map(powerOfEngine),
    ['offline', 'running', 'offline', 'starting', 'offline', 'offline', 'offline'],
  );
});

test('a second action waits for the first; states are observed in order', async () => {
  const { runtime, power, changes } = await setup();
  runtime.hold();
  const order: string[] = [];
  const start = power.run('web', 'start').then((c) => order.push(`start:${c.state}`));
  await tick();
  const stop = power.run('web', 'stop').then((c) => order.push(`stop:${c.state}`));
  await tick();
  assert.ok(power.isBusy('web'));
  assert.equal(changes, ['web:starting'], 'the stop has not begun while the start is held');
  assert.is((await runtime.inspect('web')).state, 'created');
  runtime.open();
  await Promise.all([start, stop]);
  assert.equal(order, ['start:running', 'stop:exited']);
  assert.equal(changes, ['web:starting', 'web:running', 'web:stopping', 'web:offline']);
  assert.ok(!power.isBusy('web'));
});

test('an action refused with CONFLICT when the caller will not wait', async () => {
  const { runtime, power } = await setup();
  runtime.hold();
  const start = power.run('web', 'start');
  await tick();
  try {
    await power.run('web', 'stop', { wait: false });
    assert.unreachable('should be refused');
  } catch (err) {
    assert.instance(err, EdgehookError);
    assert.is((err as EdgehookError).code, 'CONFLICT');
  }
  runtime.open();
  assert.is((await start).state, 'running');
  // Nothing in progress: wait:false runs at once.
  assert.is((await power.run('web', 'stop', { wait: false })).state, 'exited');
});

test('restart goes stopping, offline, starting, running; the power state shows the action in progress', async () => {
  const { runtime, power, changes } = await setup();
  await power.run('web', 'start');
  changes.length = 0;
  runtime.hold();
  const restart = power.run('web', 'restart');
  await tick();
  assert.is(power.powerOf(await runtime.inspect('web')), 'starting', 'transient state wins over the engine state');
  runtime.open();
  await restart;
  assert.equal(changes, ['web:stopping', 'web:offline', 'web:starting', 'web:running']);
  assert.is(power.powerOf(await runtime.inspect('web')), 'running');
});

test('different containers do not wait for each other', async () => {
  const { runtime, power } = await setup();
  await runtime.create(spec('db'));
  await power.run('db', 'start');
  runtime.hold();
  const web = power.run('web', 'start');
  await tick();
  assert.is((await power.run('db', 'stop', { wait: false })).state, 'exited');
  runtime.open();
  await web;
});

test('a failed action releases the queue and reports the real state; unknown containers are NOT_FOUND', async () => {
  const { power, changes } = await setup();
  try {
    await power.run('web', 'kill');
    assert.unreachable();
  } catch (err) {
    assert.is((err as EdgehookError).code, 'CONFLICT');
  }
  assert.equal(changes, ['web:stopping', 'web:offline']);
  assert.is((await power.run('web', 'start')).state, 'running');
  try {
    await power.run('nosuch', 'start');
    assert.unreachable();
  } catch (err) {
    assert.is((err as EdgehookError).code, 'NOT_FOUND');
  }
});

test('engine events: a container that exits on its own goes offline', async () => {
  const runtime = new SimulatedContainerRuntime({ clock: systemClock });
  const power = new PowerManager({ runtime, log });
  const changes: string[] = [];
  power.onChange((c) => changes.push(`${c.name}:${c.state}`));
  power.watchEvents();
  await tick();
  await runtime.create(spec('job', ['exit', '3']));
  await power.run('job', 'start');
  for (let i = 0; i < 50 && changes.at(-1) !== 'job:offline'; i++) await tick(10);
  assert.equal(changes, ['job:starting', 'job:running', 'job:offline']);
  assert.is((await runtime.inspect('job')).exitCode, 3);
  power.close();
});

test.run();
