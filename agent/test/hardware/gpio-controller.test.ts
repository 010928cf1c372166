import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GpioController } from '../../src/hardware/gpio/gpio.controller.js';
import { SimGpioDriver } from '../../src/hardware/gpio/sim-gpio.driver.js';
import { clock, profile, quietLog, rejection, tick } from './helpers.js';

const t = suite<{ gpio: GpioController; sim: SimGpioDriver }>('gpio controller (simulated board)');

t.before.each(async (ctx) => {
  ctx.sim = new SimGpioDriver();
  ctx.gpio = new GpioController({ profile: await profile('simulated'), driver: ctx.sim, clock, log: quietLog });
  await ctx.gpio.start();
});
t.after.each(async (ctx) => ctx.gpio.close());

t('state lists inputs and outputs with PiKVM fields; the model carries pulse bounds', ({ gpio }) => {
  const s = gpio.state();
  assert.equal(s.outputs['relay'], { online: true, state: false, busy: false });
  assert.equal(s.inputs['door'], { online: true, state: false });
  const m = gpio.model();
  assert.equal(m.scheme.outputs['doorbell']?.pulse, { delay: 0.5, min_delay: 0.1, max_delay: 2 });
  assert.is(m.scheme.outputs['doorbell']?.switch, false);
  assert.equal(m.scheme.inputs['door']?.hw, { driver: 'simulated', pin: '4' });
});

t('switch drives the line; active-low channels invert the physical level', async ({ gpio, sim }) => {
  await gpio.switch('relay', true);
  assert.is(sim.level(17), 1);
  assert.is(gpio.state().outputs['relay']?.state, true);
  // fan is active-low with initial false: physically high at rest.
  await gpio.switch('fan', true);
  assert.is(sim.level(18), 0);
  assert.is(gpio.value('fan'), true);
});

t('inputs follow the wire, active-low included, and notify listeners once per tick', async ({ gpio, sim }) => {
  let calls = 0;
  gpio.onChange(() => calls++);
  sim.drive(4, 1);
  sim.drive(6, 0); // button is active-low with a falling edge: pressed
  await tick();
  assert.is(gpio.value('door'), true);
  assert.is(gpio.value('button'), true);
  assert.is(calls, 1);
});

t('pulse holds the line for the delay, busy meanwhile; a second operation is refused with 409', async ({ gpio, sim }) => {
  const { done } = await gpio.pulse('doorbell', 0.15);
  assert.is(sim.level(12), 1);
  assert.is(gpio.state().outputs['doorbell']?.busy, true);
  const busy = await rejection(gpio.pulse('doorbell', 0.1));
  assert.is(busy.code, 'CONFLICT');
  assert.is(busy.pikvm, 'GpioChannelIsBusyError');
  const { durationMs } = await done;
  assert.ok(durationMs >= 150, `held ${durationMs} ms`);
  assert.is(sim.level(12), 0);
  assert.is(gpio.state().outputs['doorbell']?.busy, false);
});

t('delay 0 means the default; out-of-bounds delays, pulse-only switches, inputs and unknown channels are refused', async ({ gpio }) => {
  const { done } = await gpio.pulse('doorbell', 0);
  assert.ok((await done).durationMs >= 500);
  const low = await rejection(gpio.pulse('doorbell', 0.05));
  assert.is(low.pikvm, 'GpioPulseDelayError');
  assert.match(low.message, /0.1..2/);
  assert.is((await rejection(gpio.pulse('doorbell', 3))).code, 'BAD_REQUEST');
  const sw = await rejection(gpio.switch('doorbell', true));
  assert.is(sw.pikvm, 'GpioSwitchNotSupported');
  assert.match(sw.message, /pulse-only/);
  assert.is((await rejection(gpio.switch('door', true))).pikvm, 'GpioSwitchNotSupported');
  const unknown = await rejection(gpio.switch('nope', true));
  assert.is(unknown.pikvm, 'GpioChannelNotFoundError');
  assert.match(unknown.message, /known: .*relay/);
});

t('a channel whose line cannot be claimed is offline, and says why', async () => {
  const sim = new SimGpioDriver();
  await sim.claim({ line: 17, direction: 'output' }); // someone else holds the relay line
  const gpio = new GpioController({ profile: await profile('simulated'), driver: sim, clock, log: quietLog });
  await gpio.start();
  assert.is(gpio.state().outputs['relay']?.online, false);
  const off = await rejection(gpio.switch('relay', true));
  assert.is(off.pikvm, 'GpioDriverOfflineError');
  assert.match(off.message, /already claimed/);
});

t.run();
