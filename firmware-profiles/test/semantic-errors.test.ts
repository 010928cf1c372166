import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadProfiles } from '../src/registry.js';
import { cleanup, expectProfileError, profileDir, validProfile } from './helpers.js';

test.after.each(cleanup);

/** Loads one bad profile from a temp dir and checks the error names the file and the problem. */
async function expectBad(id: string, profile: unknown, fragments: string[]): Promise<string[]> {
  const dir = await profileDir({ [`${id}.json`]: profile });
  const err = await expectProfileError(loadProfiles([dir]), [join(dir, `${id}.json`), ...fragments]);
  return err.problems;
}

test('the helper profile is valid', async () => {
  const dir = await profileDir({ 'ok.json': validProfile('ok') });
  assert.ok((await loadProfiles([dir])).has('ok'));
});

test('ATX reference to an unknown channel', async () => {
  const p = validProfile('bad-atx', { atx: { power: 'pwr', reset: 'reset', powerLed: 'power-led', hddLed: 'hdd-led' } });
  await expectBad('bad-atx', p, ["atx.power: unknown channel 'pwr'", 'known channels: power, reset']);
});

test('ATX reference to a channel of the wrong direction', async () => {
  const p = validProfile('wrong-dir', { atx: { power: 'power', reset: 'power-led', powerLed: 'reset', hddLed: 'hdd-led' } });
  const problems = await expectBad('wrong-dir', p, [
    "atx.reset: channel 'power-led' is an input, but atx.reset needs an output",
    "atx.powerLed: channel 'reset' is an output, but atx.powerLed needs an input",
  ]);
  assert.is(problems.length, 2);
});

test('ATX on a profile without GPIO channels', async () => {
  const p = { ...validProfile('no-gpio'), gpio: { channels: {} } };
  await expectBad('no-gpio', p, ['atx.power: unknown channel', 'this profile has no GPIO channels']);
});

test('a missing ATX line', async () => {
  const p = { ...validProfile('missing-atx'), atx: { power: 'power', reset: 'reset', powerLed: 'power-led' } };
  await expectBad('missing-atx', p, ['atx.hddLed: is required']);
});

test('a BCM line claimed by two channels', async () => {
  const base = validProfile('dup-line');
  const p = { ...base, gpio: { channels: { ...base.gpio?.channels, relay: { line: 23, direction: 'output' } } } };
  await expectBad('dup-line', p, ["gpio.channels.relay.line: BCM line 23 is already used by channel 'power'"]);
});

test('a BCM line out of range', async () => {
  const p = { ...validProfile('big-line'), gpio: { channels: { x: { line: 54, direction: 'input' } } }, atx: undefined };
  await expectBad('big-line', p, ['gpio.channels.x.line:', '<=53']);
});

test('pulse bounds out of order', async () => {
  const p = { ...validProfile('pulse'), gpio: { channels: { bell: { line: 5, direction: 'output', pulse: { delay: 3, min: 1, max: 2 } } } }, atx: undefined };
  await expectBad('pulse', p, ['gpio.channels.bell.pulse: pulse bounds out of order', 'delay (3) <= max (2)']);
});

test('pulse longer than 10 s and zero minimum are refused', async () => {
  const channels = {
    a: { line: 5, direction: 'output', pulse: { delay: 5, min: 1, max: 11 } },
    b: { line: 6, direction: 'output', pulse: { delay: 0.1, min: 0, max: 1 } },
  };
  const problems = await expectBad('pulse-range', { ...validProfile('pulse-range'), gpio: { channels }, atx: undefined }, [
    'gpio.channels.a.pulse: pulse bounds out of order',
    'gpio.channels.b.pulse: pulse bounds out of order',
  ]);
  assert.is(problems.length, 2);
});

test('duplicate serial names', async () => {
  const serial = [
    { name: 'console', path: 'sim://serial0' },
    { name: 'console', path: 'sim://serial1' },
  ];
  await expectBad('dup-serial', validProfile('dup-serial', { serial }), ["serial[1].name: duplicate serial port name 'console' (first at serial[0].name)"]);
});

test('a non-standard baud rate', async () => {
  const p = { ...validProfile('baud'), serial: [{ name: 'c', path: '/dev/ttyS0', baud: 12345 }] };
  await expectBad('baud', p, ['serial[0].baud:', '115200']);
});

test('duplicate I2C sensor addresses on one bus (but fine on different buses)', async () => {
  const sensor = (name: string, address: number) => ({ name, type: 'tmp102' as const, address, metric: `temp.${name}`, unit: '°C' });
  const i2c = [
    { bus: 1, sensors: [sensor('a', 0x48), sensor('b', 0x48)] },
    { bus: 3, sensors: [sensor('c', 0x48)] },
  ];
  const problems = await expectBad('dup-i2c', validProfile('dup-i2c', { i2c }), [
    "i2c[0].sensors[1].address: duplicate address on I2C bus 1 '0x48' (first at i2c[0].sensors[0].address)",
  ]);
  assert.is(problems.length, 1);
});

test('I2C address outside 0x03..0x77 and a raw sensor without decode', async () => {
  const i2c = [{ bus: 1, sensors: [
    { name: 'a', type: 'raw' as const, address: 0x50, metric: 'x.a', unit: 'V' },
    { name: 'b', type: 'lm75' as const, address: 0x78, metric: 'x.b', unit: '°C' },
  ] }];
  await expectBad('i2c-misc', validProfile('i2c-misc', { i2c }), ['i2c[0].sensors[1].address:']);
  const fixed = [{ bus: 1, sensors: [{ name: 'a', type: 'raw' as const, address: 0x50, metric: 'x.a', unit: 'V' }] }];
  await expectBad('i2c-raw', validProfile('i2c-raw', { i2c: fixed }), ["i2c[0].sensors[0].decode: a 'raw' sensor needs decode"]);
});

test('a GPIO channel on the I2C bus 1 pins of a Pi', async () => {
  const p = { ...validProfile('i2c-pins'), platform: { type: 'rpi' }, i2c: [{ bus: 1 }], gpio: { channels: { x: { line: 2, direction: 'input' } } }, atx: undefined };
  await expectBad('i2c-pins', p, ['gpio.channels.x.line: BCM line 2 is I2C bus 1 SDA']);
});

test('vcgencmd on a non-Pi platform', async () => {
  await expectBad('vcgencmd', validProfile('vcgencmd', { throttling: { vcgencmd: true } }), ["throttling.vcgencmd: vcgencmd exists only on Raspberry Pi, but platform.type is 'simulated'"]);
});

test('unknown keys and bad ids are shape errors with field paths', async () => {
  const p = { ...validProfile('typo'), gpio: { channels: { x: { line: 4, direction: 'input', activelow: true } } }, atx: undefined };
  await expectBad('typo', p, ['gpio.channels.x: Unrecognized key: "activelow"']);
  await expectBad('Bad_Id', { ...validProfile('Bad_Id') }, ['id: must be lower-case kebab-case']);
});

test('a profile without a name or platform', async () => {
  const problems = await expectBad('bare', { id: 'bare' }, ['name: is required', 'platform: is required']);
  assert.is(problems.length, 2);
});

test.run();
