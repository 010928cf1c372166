import { AggFn, EdgehookError, MetricName, type SeriesView } from '@edgehook/shared';
import type { SeriesInfo } from './series.registry.js';
import { HOUR, MINUTE, num, type Bucket, type TelemetryDb } from './telemetry.tables.js';

/** One series is at most this many points: 24 h at 10 s is 8,640. */
export const MAX_POINTS = 11_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR };

/** `10s`, `1m`, `1h`, `500ms`, or plain seconds. */
export function parseDuration(what: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000) : NaN;
  if (!Number.isFinite(ms)) throw new EdgehookError('BAD_REQUEST', `${what} must be a duration like 10s, 1m or 1h, got ${JSON.stringify(value)}`);
  return Math.round(ms);
}

/** `now`, `-1h` (relative to now), epoch milliseconds, or an ISO-8601 time. */
export function parseTime(what: string, value: string, now: number): number {
  const v = value.trim();
  if (v === 'now') return now;
  const rel = /^-(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(v);
  if (rel) return now - Math.round(Number(rel[1]) * (UNIT_MS[rel[2] ?? 's'] ?? 1000));
  if (/^\d{10,16}$/.test(v)) return Number(v);
  const iso = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(iso)) throw new EdgehookError('BAD_REQUEST', `${what} must be now, a relative time like -1h, epoch milliseconds or an ISO-8601 time, got ${JSON.stringify(value)}`);
  return iso;
}

export interface SeriesQuery {
  metric: string;
  from: number;
  to: number;
  step: number;
  agg: AggFn;
  labels: Record<string, string>;
}

/** Validates the query string of `GET /api/devices/:id/telemetry`; every problem is a clear 400. */
export function parseSeriesQuery(q: (name: string) => string | undefined, labelPairs: string[], now: number): SeriesQuery {
  const metricRaw = q('metric');
  if (!metricRaw) throw new EdgehookError('BAD_REQUEST', 'metric is required, e.g. ?metric=cpu.usage (GET .../telemetry/metrics lists them)');
  const metric = MetricName.safeParse(metricRaw);
  if (!metric.success) throw new EdgehookError('BAD_REQUEST', `metric ${JSON.stringify(metricRaw)} is not a metric name (dotted lower-case, e.g. cpu.usage)`);
  const to = parseTime('to', q('to') ?? 'now', now);
  const from = parseTime('from', q('from') ?? '-1h', now);
  if (from >= to) throw new EdgehookError('BAD_REQUEST', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
  const stepRaw = q('step');
  const step = stepRaw === undefined ? Math.max(1000, Math.ceil((to - from) / 300 / 1000) * 1000) : parseDuration('step', stepRaw);
  if (step < 1000) throw new EdgehookError('BAD_REQUEST', `step must be at least 1s, got ${JSON.stringify(stepRaw)}`);
  const points = Math.ceil((to - from) / step);
  if (points > MAX_POINTS) {
    throw new EdgehookError('BAD_REQUEST', `the range holds ${points} steps of ${step / 1000} s; at most ${MAX_POINTS} per query: use a larger step (at least ${Math.ceil((to - from) / MAX_POINTS / 1000)}s) or a shorter range`);
  }
  const aggRaw = q('agg') ?? 'avg';
  const agg = AggFn.safeParse(aggRaw);
  if (!agg.success) throw new EdgehookError('BAD_REQUEST', `agg must be one of ${AggFn.options.join(', ')}, got ${JSON.stringify(aggRaw)}`);
  const labels: Record<string, string> = {};
  for (const pair of labelPairs) {
    const i = pair.indexOf('=');
    if (i < 1) throw new EdgehookError('BAD_REQUEST', `label filters look like label=core=0, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return { metric: metric.data, from, to, step, agg: agg.data, labels };
}

export function labelsMatch(have: Record<string, string>, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** Raw rows for steps under a minute; minute rollups up to an hour; hour rollups beyond. */
export function sourceFor(step: number): 'raw' | '1m' | '1h' {
  if (step < MINUTE || step % MINUTE !== 0) return 'raw';
  if (step < HOUR || step % HOUR !== 0) return '1m';
  return '1h';
}

function finish(b: Bucket | undefined, agg: AggFn): number | null {
  if (!b || b.count === 0) return null;
  switch (agg) {
    case 'avg':
      return b.sum / b.count;
    case 'min':
      return b.min;
    case 'max':
      return b.max;
    case 'last':
      return b.last;
    case 'sum':
      return b.sum;
    case 'count':
      return b.count;
  }
}

/**
 * Aligned series: buckets start at multiples of `step` (from epoch), so two queries with the same
 * step line up; the first bucket is the one holding `from`.
 */
export async function querySeries(db: TelemetryDb, deviceKey: number, series: readonly SeriesInfo[], q: SeriesQuery): Promise<{ source: 'raw' | '1m' | '1h'; from: number; series: SeriesView[] }> {
  const source = sourceFor(q.step);
  const start = Math.floor(q.from / q.step) * q.step;
  const n = Math.ceil((q.to - start) / q.step);
  const keys = series.map((s) => s.key);
  const buckets = new Map<number, Array<Bucket | undefined>>(keys.map((k) => [k, new Array<Bucket | undefined>(n)]));
  const add = (key: number, ts: number, c: number, sum: number, min: number, max: number, last: number): void => {
    const i = Math.floor((ts - start) / q.step);
    const arr = buckets.get(key);
    if (!arr || i < 0 || i >= n) return;
    const b = arr[i];
    if (!b) {
      arr[i] = { count: c, sum, min, max, last, lastTs: ts };
      return;
    }
    b.count += c;
    b.sum += sum;
    if (min < b.min) b.min = min;
    if (max > b.max) b.max = max;
    if (ts >= b.lastTs) {
      b.last = last;
      b.lastTs = ts;
    }
  };
  if (keys.length > 0) {
    if (source === 'raw') {
      const rows = await db
        .selectFrom('telemetry_samples')
        .select(['ts', 'series_key', 'value'])
        .where('device_key', '=', deviceKey)
        .where('family', 'in', [...new Set(series.map((s) => s.family))])
        .where('ts', '>=', start)
        .where('ts', '<', q.to)
        .where('series_key', 'in', keys)
        .execute();
      for (const r of rows) add(r.series_key, num(r.ts), 1, r.value, r.value, r.value, r.value);
    } else {
      const table = source === '1m' ? 'telemetry_rollup_1m' : 'telemetry_rollup_1h';
      const rows = await db.selectFrom(table).selectAll().where('device_key', '=', deviceKey).where('bucket', '>=', start).where('bucket', '<', q.to).where('series_key', 'in', keys).execute();
      for (const r of rows) add(r.series_key, num(r.bucket), r.count, r.sum, r.min, r.max, r.last);
    }
  }
  return {
    source,
    from: start,
    series: series.map((s) => {
      const arr = buckets.get(s.key) ?? [];
      const points: Array<[number, number | null]> = new Array(n);
      for (let i = 0; i < n; i++) points[i] = [start + i * q.step, finish(arr[i], q.agg)];
      return { labels: s.labels, points };
    }),
  };
}
