import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { Clock } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { routeMounter } from '../http/rest-route.js';
import { DeviceRoutes } from '@edgehook/shared/rest';
import { listDevices } from '../devices/devices.repository.js';
import { promFamily } from './prometheus-names.js';
import type { SeriesRegistry } from './series.registry.js';

/** Values not refreshed for this long are left out, so Prometheus marks them stale. */
const STALE_MS = 10 * 60_000;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Record<string, string>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(v)}"`)
    .join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/**
 * Prometheus text exposition (format 0.0.4) of every device's latest values, with device labels.
 * PiKVM serves the same path with Basic auth; our request auth accepts Basic too.
 * `?device=` and `?tag=` narrow it (one scrape job per device, or per site).
 */
export function renderPrometheus(registry: SeriesRegistry, devices: Array<{ id: string; name: string; online: number; tags: string }>, now: number): string {
  const byId = new Map(devices.map((d) => [d.id, d]));
  const lines: string[] = ['# HELP edgehook_device_online 1 when the device is connected to the control plane.', '# TYPE edgehook_device_online gauge'];
  for (const d of devices) lines.push(`edgehook_device_online${labelText({ device: d.name, device_id: d.id })} ${d.online === 1 ? 1 : 0}`);
  // Two metrics could sanitize to one family name: each family is written once, rows together.
  const families = new Map<string, { type: string; help: string; rows: string[] }>();
  for (const metric of registry.metrics().sort()) {
    const family = promFamily(metric);
    if (family.name === 'edgehook_device_online') continue; // ours, above; a custom series may not shadow it
    const rows = families.get(family.name)?.rows ?? [];
    for (const s of registry.seriesWithMetric(metric)) {
      if (s.lastTs === null || s.lastValue === null || now - s.lastTs > STALE_MS) continue;
      const deviceId = registry.deviceIdOf(s.deviceKey);
      const d = deviceId === undefined ? undefined : byId.get(deviceId);
      if (!d) continue;
      // Series labels cannot override the device labels.
      const { device: _device, device_id: _deviceId, ...own } = s.labels;
      rows.push(`${family.name}${labelText({ device: d.name, device_id: d.id, ...own })} ${formatValue(s.lastValue)}`);
    }
    if (rows.length > 0 && !families.has(family.name)) families.set(family.name, { type: family.type, help: family.help, rows });
  }
  for (const [name, f] of families) lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`, ...f.rows);
  return lines.join('\n') + '\n';
}

export function prometheusRoutes(deps: { db: Kysely<Database>; clock: Clock; registry: SeriesRegistry }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  routeMounter(app, '/api/export/prometheus', deps.db)(DeviceRoutes.fleetPrometheus, async ({ c, query }) => {
    const ref = query.device;
    let devices = await listDevices(deps.db, { tag: query.tag });
    if (ref !== undefined) devices = devices.filter((d) => d.id === ref || d.name === ref);
    const body = renderPrometheus(deps.registry, devices, deps.clock.now());
    return c.body(body, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  return app;
}
