import type { ContainerStats, EngineState } from '@edgehook/shared';
import type { RawStats } from './container-runtime.js';

export interface StatsContext {
  state: EngineState;
  startedAt: number | null;
  now: number;
  diskBytes: number;
  /** The previous sample, for engines whose `precpu_stats` is empty (one-shot samples). */
  previous?: RawStats;
}

/** Wings' power state for an engine state. */
export function powerOf(state: EngineState): ContainerStats['state'] {
  if (state === 'running' || state === 'paused') return 'running';
  if (state === 'restarting') return 'starting';
  if (state === 'removing') return 'stopping';
  return 'offline';
}

/**
 * Docker stats -> Wings' keys, computed as Wings does (environment/docker/stats.go): CPU as a
 * percentage of one core scaled by the online CPUs, memory without the page cache.
 */
export function toWingsStats(raw: RawStats, ctx: StatsContext): ContainerStats {
  const pre = hasCpuSample(raw.precpu_stats) ? raw.precpu_stats : ctx.previous?.cpu_stats;
  let cpu = 0;
  if (pre && raw.cpu_stats.system_cpu_usage !== undefined && pre.system_cpu_usage !== undefined) {
    const cpuDelta = raw.cpu_stats.cpu_usage.total_usage - pre.cpu_usage.total_usage;
    const systemDelta = raw.cpu_stats.system_cpu_usage - pre.system_cpu_usage;
    const cpus = raw.cpu_stats.online_cpus ?? pre.online_cpus ?? 1;
    if (cpuDelta > 0 && systemDelta > 0) cpu = Math.round((cpuDelta / systemDelta) * cpus * 100 * 1000) / 1000;
  }
  const mem = raw.memory_stats;
  const usage = mem.usage ?? 0;
  // cgroup v2 reports inactive_file, v1 reports cache; Docker's CLI and Wings subtract them.
  const cache = mem.stats?.['inactive_file'] ?? mem.stats?.['total_inactive_file'] ?? mem.stats?.['cache'] ?? 0;
  const memory = usage > cache ? usage - cache : usage;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(raw.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  const running = ctx.state === 'running' || ctx.state === 'paused';
  return {
    memory_bytes: memory,
    memory_limit_bytes: mem.limit ?? 0,
    cpu_absolute: cpu,
    network: { rx_bytes: rx, tx_bytes: tx },
    uptime: running && ctx.startedAt !== null ? Math.max(0, ctx.now - ctx.startedAt) : 0,
    state: powerOf(ctx.state),
    disk_bytes: ctx.diskBytes,
  };
}

function hasCpuSample(s: RawStats['precpu_stats']): boolean {
  return s.cpu_usage.total_usage > 0 && (s.system_cpu_usage ?? 0) > 0;
}
