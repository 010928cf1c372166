import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerStats } from '@edgehook/shared';
import type { RawStats } from '../../src/containers/container-runtime.js';
import { toWingsStats } from '../../src/containers/stats.js';

// Shaped like Docker on cgroup v1 (memory_stats.stats.cache) and v2 (inactive_file).
const v1: RawStats = {
  read: '2024-01-01T00:00:02Z',
  cpu_stats: { cpu_usage: { total_usage: 2_400_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 4 },
  precpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 16_000_000_000, online_cpus: 4 },
  memory_stats: { usage: 150_000_000, limit: 536_870_912, stats: { cache: 50_000_000, rss: 100_000_000 } },
  networks: { eth0: { rx_bytes: 1000, tx_bytes: 200 }, eth1: { rx_bytes: 24, tx_bytes: 6 } },
};
const v2: RawStats = {
  read: '2024-01-01T00:00:02Z',
  cpu_stats: { cpu_usage: { total_usage: 5_000_000_000 }, system_cpu_usage: 100_000_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 4_000_000_000 }, system_cpu_usage: 98_000_000_000, online_cpus: 2 },
  memory_stats: { usage: 80_000_000, limit: 1_000_000_000, stats: { inactive_file: 30_000_000, anon: 40_000_000 } },
};
const ctx = { state: 'running' as const, startedAt: 1_000, now: 61_000, diskBytes: 4096 };

test('cgroup v1: cpu as Wings computes it, memory minus cache, networks summed, uptime', () => {
  const s = toWingsStats(v1, ctx);
  // (0.4e9 / 4e9) * 4 cpus * 100 = 40 %
  assert.equal(s, { memory_bytes: 100_000_000, memory_limit_bytes: 536_870_912, cpu_absolute: 40, network: { rx_bytes: 1024, tx_bytes: 206 }, uptime: 60_000, state: 'running', disk_bytes: 4096 });
  assert.ok(ContainerStats.safeParse(s).success);
});

test('cgroup v2: memory minus inactive_file; no networks is zero', () => {
  const s = toWingsStats(v2, ctx);
  // (1e9 / 2e9) * 2 * 100 = 100 % (one full core)
  assert.is(s.cpu_absolute, 100);
  assert.is(s.memory_bytes, 50_000_000);
  assert.is(s.memory_limit_bytes, 1_000_000_000);
  assert.equal(s.network, { rx_bytes: 0, tx_bytes: 0 });
});

test('missing deltas give 0 cpu; a previous sample fills an empty precpu', () => {
  const oneShot: RawStats = { ...v2, precpu_stats: { cpu_usage: { total_usage: 0 } } };
  assert.is(toWingsStats(oneShot, ctx).cpu_absolute, 0);
  assert.is(toWingsStats({ ...v2, cpu_stats: { cpu_usage: { total_usage: 5 } } }, ctx).cpu_absolute, 0);
  const previous: RawStats = { ...v2, cpu_stats: v2.precpu_stats };
  assert.is(toWingsStats(oneShot, { ...ctx, previous }).cpu_absolute, 100);
});

test('not running: uptime 0 and offline; no usage is zero memory', () => {
  const s = toWingsStats({ ...v1, memory_stats: {} }, { ...ctx, state: 'exited' });
  assert.is(s.uptime, 0);
  assert.is(s.state, 'offline');
  assert.is(s.memory_bytes, 0);
  assert.is(s.memory_limit_bytes, 0);
});

test.run();
