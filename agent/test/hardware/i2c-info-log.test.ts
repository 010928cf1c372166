import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { I2cBusDriver } from '../../src/hardware/i2c/i2c-bus.driver.js';
import { readSensors } from '../../src/hardware/i2c/i2c.service.js';
import { encodeLm75, encodeTmp102, readPlan } from '../../src/hardware/i2c/sensor-decode.js';
import { SimI2cDriver } from '../../src/hardware/i2c/sim-i2c.driver.js';
import { parseThrottled, systemInfo } from '../../src/hardware/info/system-info.js';
import { LogRing } from '../../src/hardware/log/log-ring.js';
import { profile } from './helpers.js';

const t = suite('i2c, info, log');
const sensor = (over: Record<string, unknown>) => ({ name: 's', type: 'tmp102' as const, address: 0x48, metric: 'temp.x', unit: 'C', ...over });

t('TMP102 and LM75 decoding, negative values included; raw decode with scale and offset', () => {
  const tmp = readPlan(sensor({}));
  const lm = readPlan(sensor({ type: 'lm75' }));
  if ('unsupported' in tmp || 'unsupported' in lm) throw new Error('expected decoders');
  assert.is(tmp.decode(Buffer.from([0x19, 0x00])), 25);
  assert.is(tmp.decode(Buffer.from([0xe7, 0x00])), -25);
  assert.is(tmp.decode(encodeTmp102(36.5)), 36.5);
  assert.is(lm.decode(encodeLm75(-10.5)), -10.5);
  const raw = readPlan(sensor({ type: 'raw', decode: { register: 5, bytes: 2, scale: 0.01, offset: -40, signed: false } }));
  if ('unsupported' in raw) throw new Error('expected raw');
  assert.is(raw.register, 5);
  assert.is(Math.round(raw.decode(Buffer.from([0x1f, 0x40])) * 100) / 100, 40);
  assert.ok('unsupported' in readPlan(sensor({ type: 'bme280' })));
});

t('the simulated board reads its declared TMP102; a real bus that does not exist reports per sensor', async () => {
  const p = await profile('simulated');
  const [reading] = await readSensors(p, new SimI2cDriver(p.i2c));
  assert.is(reading?.metric, 'temp.board');
  assert.ok(reading?.value !== null && Math.abs((reading?.value ?? 0) - 36.5) <= 0.6);
  const missing = await readSensors({ ...p, i2c: [{ bus: 250, sensors: p.i2c[0]?.sensors ?? [] }] }, new I2cBusDriver());
  assert.is(missing[0]?.value, null);
  assert.match(missing[0]?.error ?? '', /i2c-250|ENOENT/);
});

t('vcgencmd throttling flags as kvmd parses them', () => {
  assert.equal(parseThrottled('throttled=0x50005\n'), {
    raw_flags: 0x50005,
    parsed_flags: { undervoltage: { now: true, past: true }, freq_capped: { now: false, past: false }, throttled: { now: true, past: true } },
  });
  assert.is(parseThrottled('garbage'), null);
});

t('info has the PiKVM categories; fields selects them; vcgencmd runs only where the profile says', async () => {
  const sim = await systemInfo({ profile: await profile('simulated'), hostname: 'h1', agentVersion: '9.9' });
  assert.equal(Object.keys(sim).sort(), ['extras', 'hw', 'meta', 'system']);
  assert.is(sim.hw?.platform.type, 'simulated');
  assert.is(typeof sim.hw?.health.temp['soc'], 'number');
  // A kvmd release number clients parse ("4.197"), and Edgehook's own version beside it.
  assert.match(sim.system?.kvmd.version ?? '', /^4\.\d+$/);
  assert.is(sim.system?.edgehook.agent, '9.9');
  assert.is(sim.meta?.server.host, 'h1');
  const calls: string[] = [];
  const pi = await systemInfo({ profile: await profile('raspberry-pi-4b'), hostname: 'h', agentVersion: '1', run: async (cmd, args) => (calls.push(`${cmd} ${args.join(' ')}`), 'throttled=0x0') }, ['hw']);
  assert.equal(Object.keys(pi), ['hw']);
  assert.equal(calls, ['vcgencmd get_throttled']);
  assert.is(pi.hw?.health.throttling?.raw_flags, 0);
});

t('the log ring keeps the newest lines; seek, afterSeq and limit select them', () => {
  let now = 1_000_000;
  const ring = new LogRing(3, () => now);
  for (const l of ['a', 'b', 'c', 'd']) {
    ring.push(l);
    now += 10_000;
  }
  assert.equal(ring.query({}).lines.map((l) => l.line), ['b', 'c', 'd']);
  assert.equal(ring.query({ seekSec: 15 }).lines.map((l) => l.line), ['d']);
  assert.equal(ring.query({ afterSeq: 3 }).lines.map((l) => l.line), ['d']);
  assert.equal(ring.query({ limit: 1 }).lines.map((l) => l.line), ['d']);
  assert.is(ring.lastSeq, 4);
});

t.run();
