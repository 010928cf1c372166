import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatMetricTicks, formatMetricValue, metricUnit, siNumber } from '../src/units.js';

test('each built-in metric has its unit', () => {
  assert.is(metricUnit('net.rx_bps'), 'bytes/s');
  assert.is(metricUnit('mem.total'), 'bytes');
  assert.is(metricUnit('agent.telemetry.buffered_bytes'), 'bytes');
  assert.is(metricUnit('cpu.core.usage'), 'percent');
  assert.is(metricUnit('temp.max'), 'celsius');
  assert.is(metricUnit('uptime.seconds'), 'seconds');
  assert.is(metricUnit('load.1'), '');
});

test('SI prefixes, three significant digits, never "0,000"', () => {
  assert.is(siNumber(0), '0');
  assert.is(siNumber(999), '999');
  assert.is(siNumber(1000), '1k');
  assert.is(siNumber(12_345.5), '12.3k');
  assert.is(siNumber(1_234_567), '1.23M');
  assert.is(siNumber(-2_500_000_000), '-2.5G');
  assert.is(siNumber(0.25), '0.25');
  assert.is(formatMetricValue('bytes/s', 12_345.5), '12.3 kB/s');
  assert.is(formatMetricValue('bytes/s', 0), '0 B/s');
  assert.is(formatMetricValue('bytes', 4e9), '4 GB');
  assert.is(formatMetricValue('percent', 45.23), '45.2%');
  assert.is(formatMetricValue('celsius', 48.5), '48.5 °C');
  assert.is(formatMetricValue('seconds', 7200), '2 h');
  assert.is(formatMetricValue('', 150_000), '150k');
});

test('axis ticks share one prefix and enough decimals to differ', () => {
  assert.equal(formatMetricTicks('percent', [99.9, 99.92, 99.94, 99.96]), ['99.90%', '99.92%', '99.94%', '99.96%']);
  assert.equal(formatMetricTicks('bytes/s', [0, 5000, 10_000, 15_000]), ['0 kB/s', '5 kB/s', '10 kB/s', '15 kB/s']);
  assert.equal(formatMetricTicks('bytes/s', [0, 500, 1000, 1500]), ['0.0 kB/s', '0.5 kB/s', '1.0 kB/s', '1.5 kB/s']);
  assert.equal(formatMetricTicks('bytes', [0, 2e9, 4e9]), ['0 GB', '2 GB', '4 GB']);
  assert.equal(formatMetricTicks('', [0, 250_000, 500_000]), ['0k', '250k', '500k']);
  const ticks = formatMetricTicks('celsius', [40, 40.5, 41]);
  assert.is(new Set(ticks).size, ticks.length);
});

test.run();
