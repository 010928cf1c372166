import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, MetricName, RpcMethods, TelemetrySnapshotParams, TraceGroup, type Clock, type LatestEntry } from '@edgehook/shared';
import { DeviceRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { jsonBody } from '../http/validate.js';
import { listDevices } from '../devices/devices.repository.js';
import { routeMounter } from '../http/rest-route.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { labelsMatch, parseSeriesQuery, parseTime, querySeries } from './query.js';
import { renderPrometheus } from './prometheus.routes.js';
import type { TelemetryService } from './telemetry.service.js';

export interface TelemetryRoutesDeps {
  db: Kysely<Database>;
  clock: Clock;
  rpc: RpcClient;
  telemetry: TelemetryService;
}

/** These handlers read their own query (repeated `label=`, relative times) and body. */
const RAW = { raw: { query: true, body: true } };

/** `/api/devices/:id/telemetry...` and `/api/devices/:id/traces...` (mounted under /devices). */
export function deviceTelemetryRoutes(deps: TelemetryRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, clock, telemetry } = deps;
  const { registry } = telemetry;
  const mount = routeMounter(app, '/api/devices', db);

  mount(R.telemetryQuery, async ({ c, device }) => {
    const q = parseSeriesQuery((n) => c.req.query(n), c.req.queries('label') ?? [], clock.now());
    const deviceKey = registry.deviceKey(device.id);
    const all = deviceKey === undefined ? [] : registry.seriesOf(deviceKey).filter((s) => s.metric === q.metric);
    if (all.length === 0) {
      const known = deviceKey === undefined ? [] : [...new Set(registry.seriesOf(deviceKey).map((s) => s.metric))].sort();
      throw new EdgehookError('BAD_REQUEST', `device ${device.name} has not reported the metric ${q.metric}${known.length ? `; it reports: ${known.slice(0, 30).join(', ')}` : ' (it has reported no telemetry yet)'}`);
    }
    const series = all.filter((s) => labelsMatch(s.labels, q.labels));
    const result = await querySeries(telemetry.db, deviceKey ?? 0, series, q);
    return c.json({ device: { id: device.id, name: device.name }, metric: q.metric, from: result.from, to: q.to, step: q.step, agg: q.agg, source: result.source, series: result.series });
  }, RAW);

  mount(R.telemetryMetrics, async ({ c, device }) => {
    const deviceKey = registry.deviceKey(device.id);
    const byMetric = new Map<string, { labels: Array<Record<string, string>>; lastTs: number | null }>();
    for (const s of deviceKey === undefined ? [] : registry.seriesOf(deviceKey)) {
      const m = byMetric.get(s.metric) ?? { labels: [], lastTs: null };
      m.labels.push(s.labels);
      if (s.lastTs !== null && (m.lastTs === null || s.lastTs > m.lastTs)) m.lastTs = s.lastTs;
      byMetric.set(s.metric, m);
    }
    const metrics = [...byMetric].sort((a, b) => a[0].localeCompare(b[0])).map(([metric, m]) => ({ metric, series: m.labels.length, labels: m.labels, lastTs: m.lastTs }));
    return c.json({ device: { id: device.id, name: device.name }, metrics });
  }, RAW);

  // The Quix `telemetry` request, answered by the device now.
  mount(R.telemetrySnapshot, async ({ c, device }) => {
    const params = await jsonBody(c, TelemetrySnapshotParams);
    if (!device.online) throw new EdgehookError('DEVICE_OFFLINE', `device ${device.name} is offline`);
    const result = await deps.rpc.call(device.id, 'telemetry', params, { timeoutMs: 10_000 });
    return c.json(RpcMethods.telemetry.result.parse(result));
  }, RAW);

  // One device's metrics as Prometheus text: a scrape target per device, as each PiKVM is one.
  mount(R.devicePrometheus, async ({ c, device }) => {
    return c.body(renderPrometheus(registry, [device.row], clock.now()), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  }, RAW);

  // Perfkit-style traces: custom series `trace.<group>.<name>` pushed by applications on the device.
  mount(R.traceGroups, async ({ c, device }) => {
    const deviceKey = registry.deviceKey(device.id);
    const groups = new Map<string, { series: Set<string>; lastTs: number | null }>();
    for (const s of deviceKey === undefined ? [] : registry.seriesOf(deviceKey)) {
      const m = /^trace\.([a-z0-9_]+)\.(.+)$/.exec(s.metric);
      if (!m?.[1] || !m[2]) continue;
      const g = groups.get(m[1]) ?? { series: new Set<string>(), lastTs: null };
      g.series.add(m[2]);
      if (s.lastTs !== null && (g.lastTs === null || s.lastTs > g.lastTs)) g.lastTs = s.lastTs;
      groups.set(m[1], g);
    }
    return c.json({ device: { id: device.id, name: device.name }, groups: [...groups].sort((a, b) => a[0].localeCompare(b[0])).map(([group, g]) => ({ group, series: [...g.series].sort(), lastTs: g.lastTs })) });
  }, RAW);

  mount(R.traceGet, async ({ c, device }) => {
    const group = TraceGroup.safeParse(c.req.param('group'));
    if (!group.success) throw new EdgehookError('BAD_REQUEST', `${JSON.stringify(c.req.param('group'))} is not a trace group name`);
    const now = clock.now();
    const from = parseTime('from', c.req.query('from') ?? '-1h', now);
    const to = parseTime('to', c.req.query('to') ?? 'now', now);
    if (from >= to) throw new EdgehookError('BAD_REQUEST', 'from must be before to');
    const limitRaw = c.req.query('limit') ?? '10000';
    const limit = Number(limitRaw);
    if (!/^\d+$/.test(limitRaw) || limit < 1 || limit > 100_000) throw new EdgehookError('BAD_REQUEST', `limit must be a whole number from 1 to 100000, got ${JSON.stringify(limitRaw)}`);
    const deviceKey = registry.deviceKey(device.id);
    const prefix = `trace.${group.data}.`;
    const series = deviceKey === undefined ? [] : registry.seriesOf(deviceKey).filter((s) => s.metric.startsWith(prefix));
    if (series.length === 0) throw new EdgehookError('NOT_FOUND', `device ${device.name} has no trace group ${group.data}`);
    const rows = await telemetry.db
      .selectFrom('telemetry_samples')
      .select(['ts', 'series_key', 'value'])
      .where('device_key', '=', deviceKey ?? 0)
      .where('family', 'in', [...new Set(series.map((s) => s.family))])
      .where('ts', '>=', from)
      .where('ts', '<', to)
      .where('series_key', 'in', series.map((s) => s.key))
      .limit(limit)
      .execute();
    const points = new Map<number, Array<[number, number]>>();
    for (const r of rows) {
      const list = points.get(r.series_key) ?? [];
      list.push([Number(r.ts), r.value]);
      points.set(r.series_key, list);
    }
    return c.json({
      device: { id: device.id, name: device.name },
      group: group.data,
      from,
      to,
      series: series.map((s) => ({ name: s.metric.slice(prefix.length), labels: s.labels, points: points.get(s.key) ?? [] })),
    });
  }, RAW);

  return app;
}

/** `/api/telemetry/latest`: the latest value per device for one metric across the fleet. */
export function fleetTelemetryRoutes(deps: TelemetryRoutesDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { db, telemetry } = deps;

  // Ingest counters of this replica: batches and rows stored, duplicates ignored, rows waiting.
  const mount = routeMounter(app, '/api/telemetry', db);
  mount(R.telemetryStats, () => ({ ...telemetry.ingest.stats, devices: telemetry.registry.deviceKeys().length, metrics: telemetry.registry.metrics().length }));

  // Reads its own query: repeated label= filters and its own wording for bad values.
  mount(R.telemetryLatest, async ({ c }) => {
    const metricRaw = c.req.query('metric');
    if (!metricRaw) throw new EdgehookError('BAD_REQUEST', 'metric is required, e.g. ?metric=cpu.usage');
    const metric = MetricName.safeParse(metricRaw);
    if (!metric.success) throw new EdgehookError('BAD_REQUEST', `metric ${JSON.stringify(metricRaw)} is not a metric name`);
    const sort = c.req.query('sort') ?? 'desc';
    if (sort !== 'asc' && sort !== 'desc') throw new EdgehookError('BAD_REQUEST', 'sort must be asc or desc');
    const limitRaw = c.req.query('limit');
    const limit = limitRaw === undefined ? 100_000 : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1) throw new EdgehookError('BAD_REQUEST', `limit must be a positive whole number, got ${JSON.stringify(limitRaw)}`);
    const wanted: Record<string, string> = {};
    for (const pair of c.req.queries('label') ?? []) {
      const i = pair.indexOf('=');
      if (i < 1) throw new EdgehookError('BAD_REQUEST', `label filters look like label=core=0, got ${JSON.stringify(pair)}`);
      wanted[pair.slice(0, i)] = pair.slice(i + 1);
    }
    const devices = new Map((await listDevices(db, { tag: c.req.query('tag') })).map((d) => [d.id, d]));
    const entries: LatestEntry[] = [];
    for (const s of telemetry.registry.seriesWithMetric(metric.data)) {
      if (s.lastTs === null || s.lastValue === null || !labelsMatch(s.labels, wanted)) continue;
      const deviceId = telemetry.registry.deviceIdOf(s.deviceKey);
      const device = deviceId === undefined ? undefined : devices.get(deviceId);
      if (!device) continue;
      entries.push({ deviceId: device.id, device: device.name, online: device.online === 1, metric: s.metric, labels: s.labels, ts: s.lastTs, value: s.lastValue });
    }
    entries.sort((a, b) => (sort === 'desc' ? b.value - a.value : a.value - b.value));
    return { metric: metric.data, entries: entries.slice(0, limit) };
  }, RAW);

  return app;
}
