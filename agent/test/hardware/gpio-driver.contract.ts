import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import type { GpioDriver, Level } from '../../src/hardware/gpio/gpio.driver.js';

/** A driver plus a way to set an input's physical level from outside (a loopback wire, or the simulator). */
export interface GpioRig {
  driver: GpioDriver;
  setInput(line: number, level: Level): Promise<void>;
}

/** Every GPIO driver passes this suite (aedes-persistence style: one suite, many implementations). */
export function gpioDriverContract(t: Test, make: () => Promise<GpioRig>): void {
  t('outputs start at their initial level and read back what was written', async () => {
    const { driver } = await make();
    await driver.claim({ line: 17, direction: 'output', initial: 1 });
    assert.is(await driver.read(17), 1);
    await driver.write(17, 0);
    assert.is(await driver.read(17), 0);
    await driver.close();
  });

  t('inputs report edges to watchers, per the requested edge', async () => {
    const rig = await make();
    await rig.driver.claim({ line: 4, direction: 'input', edge: 'both' });
    await rig.driver.claim({ line: 5, direction: 'input', edge: 'rising' });
    const seen4: Level[] = [];
    const seen5: Level[] = [];
    rig.driver.watch(4, (l) => seen4.push(l));
    const off = rig.driver.watch(5, (l) => seen5.push(l));
    await rig.setInput(4, 1);
    await rig.setInput(5, 1);
    await rig.setInput(4, 0);
    await rig.setInput(5, 0);
    assert.equal(seen4, [1, 0]);
    assert.equal(seen5, [1]);
    assert.is(await rig.driver.read(4), 0);
    off();
    await rig.setInput(5, 1);
    assert.equal(seen5, [1]);
    await rig.driver.close();
  });

  t('a line cannot be used before it is claimed, nor claimed twice', async () => {
    const { driver } = await make();
    let failed = false;
    await driver.read(9).catch(() => (failed = true));
    assert.ok(failed, 'read of an unclaimed line must fail');
    await driver.claim({ line: 9, direction: 'input' });
    failed = false;
    await driver.claim({ line: 9, direction: 'input' }).catch(() => (failed = true));
    assert.ok(failed, 'a second claim must fail');
    await driver.close();
  });
}
