import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError, loadAgentConfig } from '../../src/config.js';

test('telemetry defaults: 10 s, 64 MB buffer for 7 days, 20 batches/s replay, local port 7677', () => {
  const c = loadAgentConfig([], {});
  assert.equal(c.telemetry, { intervalMs: 10_000, collectors: {}, bufferBytes: 64 * 1024 * 1024, bufferMaxAgeMs: 7 * 86_400_000, replayPerSecond: 20, localPort: 7677 });
});

test('telemetry flags and environment variables', () => {
  const c = loadAgentConfig(['--telemetry-interval', '5s', '--telemetry-collectors', 'disk=60s,wireguard=off', '--telemetry-port', 'off'], { EDGEHOOK_TELEMETRY_BUFFER_MB: '8', EDGEHOOK_TELEMETRY_BUFFER_MAX_AGE: '2d' });
  assert.equal(c.telemetry, { intervalMs: 5000, collectors: { disk: 60_000, wireguard: 'off' }, bufferBytes: 8 * 1024 * 1024, bufferMaxAgeMs: 2 * 86_400_000, replayPerSecond: 20, localPort: null });
});

test('bad telemetry values are refused with the flag named', () => {
  for (const [flag, value, message] of [
    ['--telemetry-interval', '0s', /telemetry-interval.*from 1s to 1h/],
    ['--telemetry-interval', 'often', /telemetry-interval/],
    ['--telemetry-collectors', 'gpu=5s', /collector of cpu, memory/],
    ['--telemetry-collectors', 'disk=fast', /interval for disk/],
    ['--telemetry-buffer-max-age', '10s', /at least 1m/],
    ['--telemetry-port', '70000', /telemetry-port/],
  ] as const) {
    try {
      loadAgentConfig([flag, value], {});
      assert.unreachable(`${flag} ${value} accepted`);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.match((err as Error).message, message);
    }
  }
});

test.run();
