import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadServeConfig, serveHelp } from '../../src/config.js';

const DAY = 86_400_000;

test('retention defaults: raw 7 days, 1-minute aggregates 90 days, 1-hour aggregates 730 days', () => {
  assert.equal(loadServeConfig([], {}).telemetryRetention, { rawMs: 7 * DAY, minuteMs: 90 * DAY, hourMs: 730 * DAY });
});

test('retention from flags and environment variables', () => {
  const c = loadServeConfig(['--telemetry-raw-retention', '36h'], { EDGEHOOK_TELEMETRY_1M_RETENTION: '2w', EDGEHOOK_TELEMETRY_1H_RETENTION: '365d' });
  assert.equal(c.telemetryRetention, { rawMs: 36 * 3_600_000, minuteMs: 14 * DAY, hourMs: 365 * DAY });
  assert.match(serveHelp(), /--telemetry-raw-retention .*\[EDGEHOOK_TELEMETRY_RAW_RETENTION\] \(default 7d\)/);
});

test('bad retention values name the flag', () => {
  for (const v of ['7', 'forever', '30m']) {
    try {
      loadServeConfig(['--telemetry-raw-retention', v], {});
      assert.unreachable(v);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, /--telemetry-raw-retention \/ EDGEHOOK_TELEMETRY_RAW_RETENTION/);
    }
  }
});

test.run();
