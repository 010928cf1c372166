import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProfiles } from '../src/registry.js';
import { resolveProfiles } from '../src/resolve.js';
import { cleanup, expectProfileError, profileDir, validProfile } from './helpers.js';

test.after.each(cleanup);

const base = validProfile('base', {
  description: 'base board',
  gpio: {
    chip: 'sim',
    channels: {
      power: { line: 23, direction: 'output', switch: false },
      reset: { line: 27, direction: 'output', switch: false },
      'power-led': { line: 24, direction: 'input' },
      'hdd-led': { line: 22, direction: 'input' },
      relay: { line: 17, direction: 'output', title: 'base relay' },
    },
  },
  hid: { keyboard: 'sim://hidg0', mouse: 'sim://hidg1' },
  serial: [{ name: 'console', path: 'sim://serial0' }, { name: 'aux', path: 'sim://serial1' }],
  thermalZones: [{ name: 'soc', path: 'sim://tz0' }],
});

test('children add and override channels by name; other sections are replaced whole', async () => {
  const dir = await profileDir({
    'base.json': base,
    'child.json': {
      id: 'child',
      extends: 'base',
      name: 'Child',
      gpio: { channels: { relay: { line: 16, direction: 'output', title: 'child relay' }, lamp: { line: 5, direction: 'output' } } },
      serial: [{ name: 'only', path: 'sim://serial9', baud: 9600 }],
      hid: { keyboard: 'sim://kbd' },
    },
  });
  const child = (await loadProfiles([dir])).get('child');
  assert.is(child.name, 'Child');
  assert.is(child.extends, 'base');
  assert.is(child.description, 'base board', 'inherited');
  assert.is(child.gpio.chip, 'sim', 'inherited');
  assert.equal(Object.keys(child.gpio.channels).sort(), ['hdd-led', 'lamp', 'power', 'power-led', 'relay', 'reset']);
  assert.is(child.gpio.channels['relay']?.line, 16);
  assert.is(child.gpio.channels['relay']?.title, 'child relay');
  assert.equal(child.serial.map((s) => s.name), ['only'], 'arrays replaced, not concatenated');
  assert.equal(child.hid, { keyboard: 'sim://kbd', mouseMode: 'absolute' }, 'hid replaced whole, so no inherited mouse');
  assert.equal(child.atx?.power, 'power', 'atx inherited when not given');
  assert.equal(child.thermalZones.map((z) => z.name), ['soc']);
});

test('multi-level extends and a child ATX that uses its own channels', async () => {
  const profiles = resolveProfiles([
    { file: 'base.json', layer: 0, data: base },
    { file: 'mid.json', layer: 0, data: { id: 'mid', extends: 'base', gpio: { channels: { btn: { line: 6, direction: 'input' } } } } },
    {
      file: 'top.json',
      layer: 0,
      data: { id: 'top', extends: 'mid', atx: { power: 'relay', reset: 'reset', powerLed: 'btn', hddLed: 'hdd-led', clickDelays: { long: 8 } } },
    },
  ]);
  const top = profiles.get('top');
  assert.ok(top);
  assert.is(top?.name, 'Test base');
  assert.ok(top?.gpio.channels['btn']);
  assert.equal(top?.atx?.clickDelays, { short: 0.1, long: 8, reset: 0.1 });
});

test('the merged result is validated: a child line clashing with a base channel', async () => {
  const dir = await profileDir({
    'base.json': base,
    'clash.json': { id: 'clash', extends: 'base', gpio: { channels: { lamp: { line: 17, direction: 'output' } } } },
  });
  await expectProfileError(loadProfiles([dir]), [
    join(dir, 'clash.json'),
    "gpio.channels.lamp.line: BCM line 17 is already used by channel 'relay' (after merging base 'base')",
  ]);
});

test('a child that turns an ATX channel into an input is caught', async () => {
  const dir = await profileDir({
    'base.json': base,
    'flip.json': { id: 'flip', extends: 'base', gpio: { channels: { reset: { line: 27, direction: 'input' } } } },
  });
  await expectProfileError(loadProfiles([dir]), [join(dir, 'flip.json'), "atx.reset: channel 'reset' is an input"]);
});

test('unknown extends lists the known ids', async () => {
  const dir = await profileDir({ 'base.json': base, 'orphan.json': { id: 'orphan', extends: 'raspberry-pi-9' } });
  await expectProfileError(loadProfiles([dir]), [join(dir, 'orphan.json'), "extends: unknown profile 'raspberry-pi-9' (known: base, orphan)"]);
});

test('extending a broken base blames the base, not "unknown"', async () => {
  const dir = await profileDir({ 'base.json': '{oops', 'kid.json': { id: 'kid', extends: 'base' } });
  const err = await expectProfileError(loadProfiles([dir]), ['base.json: invalid JSON', "kid.json: extends: base profile 'base' has errors"]);
  assert.is(err.problems.length, 2);
});

test('an extends cycle is reported on every member; dependants are refused', async () => {
  const dir = await profileDir({
    'a.json': { ...validProfile('a'), extends: 'b' },
    'b.json': { ...validProfile('b'), extends: 'c' },
    'c.json': { ...validProfile('c'), extends: 'a' },
    'd.json': { id: 'd', extends: 'c' },
  });
  const err = await expectProfileError(loadProfiles([dir]), [
    `${join(dir, 'a.json')}: extends: extends cycle: a -> b -> c -> a`,
    `${join(dir, 'b.json')}: extends: extends cycle`,
    `${join(dir, 'c.json')}: extends: extends cycle`,
    `${join(dir, 'd.json')}: extends: base profile 'c' is invalid`,
  ]);
  assert.is(err.problems.length, 4);
});

test('a profile extending itself is a cycle', async () => {
  const dir = await profileDir({ 'self.json': { ...validProfile('self'), extends: 'self' } });
  await expectProfileError(loadProfiles([dir]), ['self.json: extends: extends cycle: self -> self']);
});

test.run();
