/**
 * Cross-field rules a schema cannot express. Runs on the merged profile, so a child that
 * extends a base is checked as the board the agent will actually drive.
 */
import { formatPath } from './errors.js';
import type { Profile } from './schema.js';

export interface Issue {
  path: PropertyKey[];
  message: string;
}

export const PULSE_MAX_SECONDS = 10;

/** I2C bus 1 is on BCM 2 (SDA) and 3 (SCL) on every 40-pin Pi; a GPIO channel there would fight it. */
const RPI_I2C1_LINES: ReadonlyMap<number, string> = new Map([[2, 'SDA'], [3, 'SCL']]);

const ATX_ROLES = [
  { field: 'power', direction: 'output' },
  { field: 'reset', direction: 'output' },
  { field: 'powerLed', direction: 'input' },
  { field: 'hddLed', direction: 'input' },
] as const;

export function checkProfile(profile: Profile): Issue[] {
  return [...checkGpio(profile), ...checkAtx(profile), ...checkSerial(profile), ...checkI2c(profile), ...checkMisc(profile)];
}

function checkGpio(profile: Profile): Issue[] {
  const issues: Issue[] = [];
  const lineOwner = new Map<number, string>();
  const i2c1 = profile.platform.type === 'rpi' && profile.i2c.some((b) => b.bus === 1);
  for (const [name, ch] of Object.entries(profile.gpio.channels)) {
    const at = ['gpio', 'channels', name];
    const owner = lineOwner.get(ch.line);
    if (owner !== undefined) {
      issues.push({ path: [...at, 'line'], message: `BCM line ${ch.line} is already used by channel '${owner}'` });
    } else {
      lineOwner.set(ch.line, name);
    }
    const i2cPin = RPI_I2C1_LINES.get(ch.line);
    if (i2c1 && i2cPin !== undefined) {
      issues.push({ path: [...at, 'line'], message: `BCM line ${ch.line} is I2C bus 1 ${i2cPin}, which this profile also uses` });
    }
    if (ch.direction === 'output') {
      const { min, delay, max } = ch.pulse;
      if (!(min > 0 && min <= delay && delay <= max && max <= PULSE_MAX_SECONDS)) {
        issues.push({
          path: [...at, 'pulse'],
          message: `pulse bounds out of order: need 0 < min (${min}) <= delay (${delay}) <= max (${max}) <= ${PULSE_MAX_SECONDS}`,
        });
      }
    }
  }
  return issues;
}

function checkAtx(profile: Profile): Issue[] {
  const atx = profile.atx;
  if (atx === undefined) return [];
  const issues: Issue[] = [];
  const channels = profile.gpio.channels;
  const known = Object.keys(channels);
  const usedBy = new Map<string, string>();
  for (const { field, direction } of ATX_ROLES) {
    const name = atx[field];
    const path = ['atx', field];
    const ch = channels[name];
    if (ch === undefined) {
      const list = known.length > 0 ? `known channels: ${known.join(', ')}` : 'this profile has no GPIO channels';
      issues.push({ path, message: `unknown channel '${name}' (${list})` });
      continue;
    }
    if (ch.direction !== direction) {
      issues.push({ path, message: `channel '${name}' is an ${ch.direction}, but atx.${field} needs an ${direction}` });
    }
    const other = usedBy.get(name);
    if (other !== undefined) issues.push({ path, message: `channel '${name}' is already used by atx.${other}` });
    else usedBy.set(name, field);
  }
  return issues;
}

function checkSerial(profile: Profile): Issue[] {
  return [
    ...duplicates(profile.serial, (p) => p.name, (i) => ['serial', i, 'name'], 'serial port name'),
    ...duplicates(profile.serial, (p) => p.path, (i) => ['serial', i, 'path'], 'serial device path'),
  ];
}

function checkI2c(profile: Profile): Issue[] {
  const issues = duplicates(profile.i2c, (b) => String(b.bus), (i) => ['i2c', i, 'bus'], 'I2C bus');
  const sensors = profile.i2c.flatMap((bus, b) => bus.sensors.map((sensor, s) => ({ sensor, path: ['i2c', b, 'sensors', s] })));
  profile.i2c.forEach((bus, b) => {
    issues.push(
      ...duplicates(bus.sensors, (s) => hex(s.address), (s) => ['i2c', b, 'sensors', s, 'address'], `address on I2C bus ${bus.bus}`),
    );
  });
  issues.push(...duplicates(sensors, (x) => x.sensor.name, (i) => [...(sensors[i]?.path ?? []), 'name'], 'I2C sensor name'));
  issues.push(...duplicates(sensors, (x) => x.sensor.metric, (i) => [...(sensors[i]?.path ?? []), 'metric'], 'telemetry metric'));
  for (const { sensor, path } of sensors) {
    if (sensor.type === 'raw' && sensor.decode === undefined) {
      issues.push({ path: [...path, 'decode'], message: "a 'raw' sensor needs decode (register, bytes, scale, offset, signed)" });
    }
  }
  return issues;
}

function checkMisc(profile: Profile): Issue[] {
  const issues = duplicates(profile.thermalZones, (z) => z.name, (i) => ['thermalZones', i, 'name'], 'thermal zone name');
  if (profile.throttling.vcgencmd && profile.platform.type !== 'rpi') {
    issues.push({ path: ['throttling', 'vcgencmd'], message: `vcgencmd exists only on Raspberry Pi, but platform.type is '${profile.platform.type}'` });
  }
  return issues;
}

/** One issue per item whose key repeats an earlier item's key. */
function duplicates<T>(items: readonly T[], key: (item: T) => string, path: (index: number) => PropertyKey[], what: string): Issue[] {
  const firstAt = new Map<string, number>();
  const issues: Issue[] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = firstAt.get(k);
    if (first === undefined) firstAt.set(k, i);
    else issues.push({ path: path(i), message: `duplicate ${what} '${k}' (first at ${formatPath(path(first))})` });
  });
  return issues;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
