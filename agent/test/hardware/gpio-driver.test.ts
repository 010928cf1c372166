import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimGpioDriver } from '../../src/hardware/gpio/sim-gpio.driver.js';
import { SysfsGpioDriver, sysfsBase } from '../../src/hardware/gpio/sysfs-gpio.driver.js';
import { gpioDriverContract } from './gpio-driver.contract.js';

const sim = suite('gpio driver contract: simulated');
gpioDriverContract(sim, async () => {
  const driver = new SimGpioDriver();
  return { driver, setInput: async (line, level) => driver.drive(line, level) };
});
sim.run();

// The sysfs (onoff) driver cannot run the contract here: this machine has no /sys/class/gpio
// and no wired lines. What can be checked without a Pi is below: the BCM -> sysfs mapping
// against sysfs trees as Pi kernels lay them out, and a clean refusal without GPIO.

const mapping = suite('sysfs numbering');

async function fakeSysfs(chips: [string, string, number][]): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edgehook-sysfs-'));
  for (const [dir, label, base] of chips) {
    await mkdir(join(root, dir));
    await writeFile(join(root, dir, 'label'), label + '\n');
    await writeFile(join(root, dir, 'base'), `${base}\n`);
  }
  return root;
}

mapping('the base comes from the chip with the profile label (Pi 4 on kernel 6.6: 512)', async () => {
  const root = await fakeSysfs([['gpiochip512', 'pinctrl-bcm2711', 512], ['gpiochip570', 'raspberrypi-exp-gpio', 570]]);
  assert.is(await sysfsBase('pinctrl-bcm2711', root), 512);
});

mapping('Pi 5: the RP1 chip, not the first one', async () => {
  const root = await fakeSysfs([['gpiochip512', 'gpio-brcmstb@107d508500', 512], ['gpiochip571', 'pinctrl-rp1', 571]]);
  assert.is(await sysfsBase('pinctrl-rp1', root), 571);
  assert.is(await sysfsBase(undefined, root), 571, 'without a label the known Pi chips are tried');
});

mapping('old kernels keep base 0; a missing chip is a clear error', async () => {
  const root = await fakeSysfs([['gpiochip0', 'pinctrl-bcm2835', 0]]);
  assert.is(await sysfsBase('pinctrl-bcm2835', root), 0);
  try {
    await sysfsBase('pinctrl-rp1', root);
    assert.unreachable();
  } catch (err) {
    assert.match(String(err), /no GPIO chip labelled pinctrl-rp1.*found: pinctrl-bcm2835@0/);
  }
  try {
    await sysfsBase('x', join(root, 'missing'));
    assert.unreachable();
  } catch (err) {
    assert.match(String(err), /no sysfs GPIO/);
  }
});

mapping('on a machine without GPIO the real driver refuses to claim, it does not crash', async () => {
  const root = await fakeSysfs([['gpiochip0', 'pinctrl-bcm2835', 0]]);
  const driver = new SysfsGpioDriver({ chip: 'pinctrl-bcm2835', root });
  let error = '';
  await driver.claim({ line: 17, direction: 'output' }).catch((err: unknown) => (error = String(err)));
  // onoff's own check (Gpio.accessible) fails here: no /sys/class/gpio/export on this machine.
  assert.match(error, /not accessible|EACCES|ENOENT|EPERM/);
});

mapping.run();
