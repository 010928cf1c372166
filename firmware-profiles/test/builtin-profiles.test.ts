import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { builtinProfilesDir, loadProfiles } from '../src/registry.js';
import { profileFileSchema } from '../src/schema.js';

const dir = builtinProfilesDir();
const expected = ['generic-linux', 'pikvm-v3', 'raspberry-pi-4b', 'raspberry-pi-5', 'raspberry-pi-zero-2w', 'simulated-relative', 'simulated'];

test('every built-in profile loads', async () => {
  const registry = await loadProfiles([dir]);
  assert.equal(registry.list().map((p) => p.id), [...expected].sort());
  for (const id of expected) assert.ok(registry.has(id), id);
});

test('ids are unique and match file names', async () => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  const ids: string[] = [];
  for (const file of files) {
    const parsed = profileFileSchema.parse(JSON.parse(await readFile(join(dir, file), 'utf8')));
    assert.is(`${parsed.id}.json`, file);
    ids.push(parsed.id);
  }
  assert.is(new Set(ids).size, ids.length);
  assert.equal(ids, expected);
});

test('every extends resolves to a loaded profile', async () => {
  const registry = await loadProfiles([dir]);
  const extending = registry.list().filter((p) => p.extends !== undefined);
  assert.ok(extending.length > 0);
  for (const profile of extending) assert.ok(registry.has(profile.extends ?? ''), `${profile.id} extends ${profile.extends}`);
});

test('every ATX reference names a channel of the right direction', async () => {
  const registry = await loadProfiles([dir]);
  for (const profile of registry.list()) {
    if (profile.atx === undefined) continue;
    const { power, reset, powerLed, hddLed } = profile.atx;
    const ch = profile.gpio.channels;
    assert.is(ch[power]?.direction, 'output', `${profile.id} atx.power`);
    assert.is(ch[reset]?.direction, 'output', `${profile.id} atx.reset`);
    assert.is(ch[powerLed]?.direction, 'input', `${profile.id} atx.powerLed`);
    assert.is(ch[hddLed]?.direction, 'input', `${profile.id} atx.hddLed`);
  }
});

test('Pi profiles record their GPIO chip and share the Pi basics', async () => {
  const registry = await loadProfiles([dir]);
  const chips: Record<string, string> = {
    'raspberry-pi-4b': 'pinctrl-bcm2711',
    'raspberry-pi-5': 'pinctrl-rp1',
    'raspberry-pi-zero-2w': 'pinctrl-bcm2835',
    'pikvm-v3': 'pinctrl-bcm2711',
  };
  for (const [id, chip] of Object.entries(chips)) {
    const p = registry.get(id);
    assert.is(p.platform.type, 'rpi');
    assert.is(p.gpio.chip, chip, id);
    assert.is(p.throttling.vcgencmd, true, id);
    assert.is(p.thermalZones[0]?.path, '/sys/class/thermal/thermal_zone0/temp', id);
    assert.equal(p.i2c.map((b) => b.bus), [1], id);
  }
  assert.is(registry.get('raspberry-pi-4b').serial[0]?.path, '/dev/serial0');
});

test('pikvm-v3 inherits from the Pi 4 and wires ATX, HID and its console', async () => {
  const p = (await loadProfiles([dir])).get('pikvm-v3');
  assert.equal(p.atx, {
    power: 'atx-power',
    reset: 'atx-reset',
    powerLed: 'atx-power-led',
    hddLed: 'atx-hdd-led',
    clickDelays: { short: 0.1, long: 5.5, reset: 0.1 },
  });
  assert.is(p.gpio.channels['atx-power']?.line, 23);
  assert.is(p.gpio.channels['atx-reset']?.line, 27);
  assert.is(p.gpio.channels['atx-power-led']?.line, 24);
  assert.is(p.gpio.channels['atx-hdd-led']?.line, 22);
  assert.equal(p.hid, { keyboard: '/dev/hidg0', mouse: '/dev/hidg1', mouseMode: 'absolute' });
  assert.equal(p.serial, [{ name: 'console', path: '/dev/ttyAMA0', baud: 115200, title: 'HAT serial console' }]);
  assert.is(p.thermalZones.length, 1, 'thermal zone inherited from raspberry-pi-4b');
});

test('generic-linux has no wiring; simulated has everything', async () => {
  const registry = await loadProfiles([dir]);
  const generic = registry.get('generic-linux');
  assert.equal(generic.gpio.channels, {});
  assert.is(generic.atx, undefined);
  assert.is(generic.thermalZones.length, 1);

  const sim = registry.get('simulated');
  const channels = Object.values(sim.gpio.channels);
  assert.ok(channels.filter((c) => c.direction === 'input').length >= 2);
  assert.ok(channels.some((c) => c.direction === 'output' && !c.switch));
  assert.ok(sim.atx && sim.hid);
  assert.is(sim.serial.length, 2);
  assert.ok(sim.serial.every((s) => s.path.startsWith('sim://')));
  const sensor = sim.i2c.find((b) => b.bus === 1)?.sensors[0];
  assert.equal(
    sensor && { type: sensor.type, address: sensor.address, metric: sensor.metric },
    { type: 'tmp102', address: 0x48, metric: 'temp.board' },
  );
  assert.is(sim.thermalZones.length, 1);
});

test('get() on an unknown id lists the known ids', async () => {
  const registry = await loadProfiles([dir]);
  try {
    registry.get('raspberry-pi-6');
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, Error);
    const message = err instanceof Error ? err.message : '';
    assert.match(message, "Unknown board profile 'raspberry-pi-6'");
    assert.match(message, 'raspberry-pi-5');
    assert.match(message, 'simulated');
  }
});

test.run();
