import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProfileError } from '../src/errors.js';
import { builtinProfilesDir, loadProfiles } from '../src/registry.js';
import { cleanup, expectProfileError, profileDir, validProfile } from './helpers.js';

test.after.each(cleanup);

const builtin = builtinProfilesDir();

test('malformed JSON names the file', async () => {
  const dir = await profileDir({ 'broken.json': '{ "id": "broken", ' });
  await expectProfileError(loadProfiles([dir]), [join(dir, 'broken.json'), 'invalid JSON']);
});

test('an operator directory adds a new profile next to the built-ins', async () => {
  const ops = await profileDir({ 'lab-bench.json': { id: 'lab-bench', extends: 'pikvm-v3', name: 'Lab bench KVM' } });
  const registry = await loadProfiles([builtin, ops]);
  assert.ok(registry.has('raspberry-pi-4b'));
  const bench = registry.get('lab-bench');
  assert.is(bench.name, 'Lab bench KVM');
  assert.is(bench.atx?.power, 'atx-power');
  assert.equal(registry.dirs, [builtin, ops]);
});

test('an operator directory may not silently redefine a built-in', async () => {
  const ops = await profileDir({ 'simulated.json': { ...validProfile('simulated'), name: 'Mine' } });
  await expectProfileError(loadProfiles([builtin, ops]), [
    join(ops, 'simulated.json'),
    `profile 'simulated' is already defined by ${join(builtin, 'simulated.json')}`,
    '"override": true',
  ]);
});

test('"override": true replaces a built-in, and children extend the replacement', async () => {
  const ops = await profileDir({
    'raspberry-pi-4b.json': {
      id: 'raspberry-pi-4b',
      override: true,
      name: 'Pi 4 with a case fan sensor',
      platform: { type: 'rpi' },
      gpio: { chip: 'pinctrl-bcm2711', channels: { fan: { line: 18, direction: 'output' } } },
    },
  });
  const registry = await loadProfiles([builtin, ops]);
  assert.is(registry.get('raspberry-pi-4b').name, 'Pi 4 with a case fan sensor');
  const kvm = registry.get('pikvm-v3');
  assert.ok(kvm.gpio.channels['fan'], 'pikvm-v3 now builds on the override');
  assert.ok(kvm.gpio.channels['atx-power']);
});

test('the file name must match the id', async () => {
  const dir = await profileDir({ 'board.json': validProfile('other-board') });
  await expectProfileError(loadProfiles([dir]), [join(dir, 'board.json'), "id: id 'other-board' does not match the file name"]);
});

test('problems from every file are reported together', async () => {
  const dir = await profileDir({
    'a.json': '[not json',
    'b.json': { ...validProfile('b'), serial: [{ name: 's', path: '/dev/ttyS0' }, { name: 's', path: '/dev/ttyS1' }] },
    'c.json': { id: 'c', name: 'C', platform: { type: 'martian' } },
    'ok.json': validProfile('ok'),
  });
  const err = await expectProfileError(loadProfiles([dir]), ['3 problems', 'a.json', 'b.json', 'c.json']);
  assert.is(err.problems.length, 3);
  assert.ok(err.problems.every((p) => !p.includes('ok.json')));
  assert.is(err.code, 'BAD_REQUEST');
});

test('a missing operator directory is skipped; non-JSON files are ignored', async () => {
  const dir = await profileDir({ 'README.md': '# notes', 'ok.json': validProfile('ok') });
  const registry = await loadProfiles([dir, join(dir, 'does-not-exist')]);
  assert.equal(registry.list().map((p) => p.id), ['ok']);
});

test('get() throws a NOT_FOUND ProfileError naming the searched directories', async () => {
  const dir = await profileDir({ 'ok.json': validProfile('ok') });
  const registry = await loadProfiles([dir]);
  assert.not.ok(registry.has('nope'));
  try {
    registry.get('nope');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, ProfileError);
    if (!(err instanceof ProfileError)) return;
    assert.is(err.code, 'NOT_FOUND');
    assert.match(err.message, "Unknown board profile 'nope': known profiles: ok");
    assert.match(err.message, dir);
  }
});

test('defaults are filled in when loading', async () => {
  const dir = await profileDir({
    'd.json': {
      id: 'd',
      name: 'D',
      platform: { type: 'generic' },
      gpio: { channels: { out: { line: 5, direction: 'output' }, in: { line: 6, direction: 'input' } } },
      serial: [{ name: 'c', path: '/dev/ttyUSB0' }],
      thermalZones: [{ name: 'z', path: '/sys/class/thermal/thermal_zone0/temp' }],
    },
  });
  const d = (await loadProfiles([dir])).get('d');
  assert.equal(d.gpio.channels['out'], { line: 5, direction: 'output', activeLow: false, switch: true, pulse: { delay: 0.1, min: 0.1, max: 0.1 } });
  assert.equal(d.gpio.channels['in'], { line: 6, direction: 'input', activeLow: false });
  assert.is(d.serial[0]?.baud, 115200);
  assert.is(d.thermalZones[0]?.scale, 0.001);
  assert.equal(d.throttling, { vcgencmd: false });
  assert.equal(d.i2c, []);
  assert.is(d.description, '');
});

test.run();
