import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, isoTime } from '../src/runtime.js';

test('isoTime says what Date.prototype.toISOString says', () => {
  const edges = [0, -1, 1, 946_684_799_999, 951_782_400_000, 1_709_164_800_000, 253_402_300_799_999, -62_167_219_200_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(1969, 11, 31, 23, 59, 59, 1)];
  let seed = 7;
  const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const samples = [...edges, ...Array.from({ length: 5000 }, () => Math.floor((random() - 0.5) * 2 * 253_402_300_799_999))];
  for (const ms of samples) assert.is(isoTime(ms), new Date(ms).toISOString(), String(ms));
});

test('isoTime leaves the years outside 0-9999 to the builtin (and it throws for NaN, as toISOString does)', () => {
  assert.is(isoTime(253_402_300_800_000), '+010000-01-01T00:00:00.000Z');
  assert.is(isoTime(-62_167_219_200_001), '-000001-12-31T23:59:59.999Z');
  assert.throws(() => isoTime(Number.NaN), (err: unknown) => err instanceof RangeError);
});

test('the logger stamps lines without Date.prototype.toISOString (which pages in ICU time zones)', () => {
  const original = Object.getOwnPropertyDescriptor(Date.prototype, 'toISOString');
  const lines: string[] = [];
  Object.defineProperty(Date.prototype, 'toISOString', { configurable: true, writable: true, value: () => assert.unreachable('toISOString called') });
  try {
    createLogger({ level: 'info', format: 'json', write: (l) => lines.push(l) }).info('hello', { n: 1 });
    createLogger({ level: 'info', format: 'pretty', write: (l) => lines.push(l) }).warn('there');
  } finally {
    if (original) Object.defineProperty(Date.prototype, 'toISOString', original);
  }
  const parsed: unknown = JSON.parse(lines[0] ?? '');
  assert.ok(typeof parsed === 'object' && parsed !== null && 'ts' in parsed && typeof parsed.ts === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(parsed.ts));
  assert.match(lines[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN  there$/);
});

test.run();
