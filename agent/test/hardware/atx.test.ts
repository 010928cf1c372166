import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AtxController } from '../../src/hardware/atx/atx.controller.js';
import { SimulatedPc } from '../../src/hardware/atx/simulated-pc.js';
import { GpioController } from '../../src/hardware/gpio/gpio.controller.js';
import { SimGpioDriver } from '../../src/hardware/gpio/sim-gpio.driver.js';
import { clock, profile, quietLog, rejection, tick } from './helpers.js';

interface Ctx {
  gpio: GpioController;
  atx: AtxController;
  pc: SimulatedPc;
  changes: { power: boolean; hdd: boolean; busy: boolean }[];
}
const t = suite<Ctx>('atx over the simulated PC');

t.before.each(async (ctx) => {
  const p = await profile('simulated');
  const sim = new SimGpioDriver();
  if (!p.atx) throw new Error('simulated profile lacks atx');
  ctx.pc = new SimulatedPc(sim, { ...p, atx: p.atx });
  ctx.gpio = new GpioController({ profile: p, driver: sim, clock, log: quietLog });
  await ctx.gpio.start();
  ctx.atx = new AtxController(ctx.gpio, p.atx);
  ctx.changes = [];
  ctx.atx.onChange(() => {
    const s = ctx.atx.state();
    ctx.changes.push({ power: s.leds.power, hdd: s.leds.hdd, busy: s.busy });
  });
});
t.after.each(async (ctx) => {
  ctx.pc.close();
  await ctx.gpio.close();
});

t('starts off; a short click powers on (LED on the press edge) and the HDD LED blinks while booting', async ({ atx, changes }) => {
  assert.equal(atx.state(), { enabled: true, busy: false, acts: { power: false, reset: false }, leds: { power: false, hdd: false } });
  const { done } = await atx.click('power');
  await tick();
  assert.is(atx.state().leds.power, true, 'power LED follows the press');
  assert.is(atx.state().busy, true);
  await done;
  await tick(400);
  assert.is(atx.state().busy, false);
  assert.ok(changes.some((c) => c.hdd), 'HDD LED blinked');
  assert.is(atx.state().leds.hdd, false, 'HDD LED settles off');
});

t('power on when already on does nothing; off is a short press; a busy ATX refuses', async ({ atx }) => {
  await (await atx.power('on'))?.done;
  assert.is(atx.state().leds.power, true);
  assert.is(await atx.power('on'), undefined, 'nothing to do');
  const off = await atx.power('off');
  const busy = await rejection(atx.click('reset'));
  assert.is(busy.code, 'CONFLICT');
  assert.is(busy.pikvm, 'AtxIsBusyError');
  await off?.done;
  await tick();
  assert.is(atx.state().leds.power, false, 'short press shuts down on release');
  assert.is(await atx.power('off'), undefined, 'already off');
  assert.is(await atx.power('reset_hard'), undefined, 'no reset when off');
});

t('a long press forces off while held (off_hard)', async ({ atx, pc }) => {
  await (await atx.power('on'))?.done;
  const started = Date.now();
  const op = await atx.power('off_hard');
  while (pc.powered && Date.now() - started < 3000) await tick(10);
  assert.is(pc.powered, false);
  assert.ok(Date.now() - started < 1500, 'forced off before the button was released');
  assert.is(atx.state().busy, true, 'still holding the button');
  await op?.done;
  assert.is(atx.state().leds.power, false);
});

t('reset keeps power on and blinks the HDD LED', async ({ atx, changes }) => {
  await (await atx.power('on'))?.done;
  await tick(400);
  changes.length = 0;
  await (await atx.power('reset_hard'))?.done;
  await tick(400);
  assert.is(atx.state().leds.power, true);
  assert.ok(changes.filter((c) => c.hdd).length >= 2, 'HDD LED blinked');
});

t('a board without ATX wiring reports disabled and refuses', async () => {
  const p = await profile('generic-linux');
  const gpio = new GpioController({ profile: p, driver: new SimGpioDriver(), clock, log: quietLog });
  await gpio.start();
  const atx = new AtxController(gpio, p.atx);
  assert.is(atx.state().enabled, false);
  assert.is((await rejection(atx.click('power'))).pikvm, 'AtxDisabledError');
});

t.run();
