import { StatType, TelemetryBatch, validate, type Sample, type TelemetrySnapshot } from '@edgehook/shared';

const MB = 1024 * 1024;
const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;
/** Label values from the backend, made to fit our label rules (no control characters, 128 at most). */
const label = (s: string): string => s.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 128);

export const ALL_STAT_TYPES: StatType[] = [...StatType.options];

/**
 * A `tele_data` answer as the samples our agent reports (agent/src/telemetry/collectors.ts): the
 * same metric names and units, so one query, chart and alert serves both kinds of device.
 */
export function snapshotSamples(tele: TelemetrySnapshot['tele_data']): Sample[] {
  const out: Sample[] = [];
  const cores = (tele.ttl_cpu_usage ?? []).slice(0, 256);
  cores.forEach((u, i) => out.push({ m: 'cpu.core.usage', v: round(u * 100), l: { core: String(i) } }));
  if (cores.length > 0) out.push({ m: 'cpu.usage', v: round((cores.reduce((a, b) => a + b, 0) / cores.length) * 100) });
  if (tele.ttl_mem_usage) {
    const [used, cache, free] = tele.ttl_mem_usage;
    const total = used + cache + free;
    out.push({ m: 'mem.used', v: used * MB }, { m: 'mem.buff_cache', v: cache * MB }, { m: 'mem.free', v: free * MB }, { m: 'mem.total', v: total * MB });
    if (total > 0) out.push({ m: 'mem.usage', v: round((used / total) * 100) });
  }
  for (const [device, [used, free]] of Object.entries(tele.disk_util ?? {}).slice(0, 64)) {
    const l = { device: label(device) };
    out.push({ m: 'disk.used', v: used, l }, { m: 'disk.free', v: free, l });
    if (used + free > 0) out.push({ m: 'disk.usage', v: round((used / (used + free)) * 100), l });
  }
  if (tele.vpn_status) out.push({ m: 'vpn.up', v: 1, l: { ifname: label(tele.vpn_status.ifname) } });
  if (typeof tele.vpn_status?.last_handshake_s === 'number') out.push({ m: 'vpn.handshake_age', v: tele.vpn_status.last_handshake_s, l: { ifname: label(tele.vpn_status.ifname) } });
  return out;
}

/**
 * Batch sequence numbers per device: the time in ms, kept increasing, so a snapshot is stored
 * once and two in the same millisecond are both kept.
 */
export class SnapshotBatches {
  private readonly last = new Map<string, number>();

  batch(deviceId: string, now: number, tele: TelemetrySnapshot['tele_data']): TelemetryBatch | undefined {
    const seq = Math.max(now, (this.last.get(deviceId) ?? 0) + 1);
    this.last.set(deviceId, seq);
    const checked = validate(TelemetryBatch, { seq, ts: now, samples: snapshotSamples(tele) });
    return checked.ok && checked.value.samples.length > 0 ? checked.value : undefined;
  }

  forget(deviceId: string): void {
    this.last.delete(deviceId);
  }
}
