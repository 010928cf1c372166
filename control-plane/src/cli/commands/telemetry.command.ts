import { MetricList, TelemetryQueryResult } from '@edgehook/shared';
import { withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { json, printable, renderTable } from '../table.js';
import { csvCell, formatValue, labelText, metricName, sparkline } from './telemetry-format.js';

const USAGE = withCommonHelp(`Usage: edgehook telemetry <device> [<metric>] [--since -1h] [--until now] [--step 1m] [--agg avg]
                          [--label key=value] [--json | --csv] [--server URL]

Shows one metric of one device over time: a table and a sparkline per series. Without <metric>,
lists the metrics the device reports. <device> is a device id or name; <metric> a name such as
cpu.usage (aliases: cpu, mem, disk, temp, load, uptime).

Options:
  --since T        start: relative (-1h, -30m, -7d), epoch ms or ISO time (default -1h)
  --until T        end (default now)
  --step D         bucket width, e.g. 10s, 1m, 1h (default: about 60 rows)
  --agg F          avg, min, max, last, sum or count per bucket (default avg)
  --label k=v      only series with this label (repeatable), e.g. --label core=0
  --json           the API's answer as JSON
  --csv            time,labels,value rows for scripts`);

/** A step that gives about 60 rows, rounded to a friendly width. */
function defaultStep(since: string): string | undefined {
  const m = /^-(\d+)([smhdw])$/.exec(since);
  if (!m) return undefined;
  const ms = Number(m[1]) * ({ s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] ?? 'h'] ?? 36e5);
  const widths = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
  const seconds = widths.find((w) => (ms / 1000) / w <= 60) ?? 86400;
  return `${seconds}s`;
}

/** The server's time forms, checked here so the error names the flag (the API's says from/to). */
function timeArg(flag: string, value: string): string {
  const v = value.trim();
  if (v === 'now' || /^-\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(v) || /^\d{10,16}$/.test(v) || (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(Date.parse(v)))) return v;
  const hint = /^\d+(\.\d+)?(ms|s|m|h|d|w)$/.test(v) ? ` (did you mean -${v}, ${v} ago?)` : '';
  throw new UsageError(`--${flag} must be now, a relative time like -1h, epoch milliseconds or an ISO-8601 time, got ${JSON.stringify(value)}${hint}`, USAGE);
}

export const telemetryCommand = defineCommand({
  name: 'telemetry',
  summary: "show a device's metric over time",
  usage: USAGE,
  options: { since: { type: 'string' }, until: { type: 'string' }, step: { type: 'string' }, agg: { type: 'string' }, label: { type: 'string', multiple: true }, json: { type: 'boolean' }, csv: { type: 'boolean' } },
  positionals: ['device', 'metric?'],
  check({ values }) {
    if (values.json && values.csv) throw new UsageError('give --json or --csv, not both', USAGE);
  },
  async run({ values, args: { device: ref, metric: metricArg }, ctx, api }) {
    const device = encodeURIComponent(ref);

    if (metricArg === undefined) {
      const list = await api.json(MetricList, 'GET', `/api/devices/${device}/telemetry/metrics`);
      if (values.json) ctx.io.stdout(json(list));
      else if (list.metrics.length === 0) ctx.io.stdout(`${printable(list.device.name)} has reported no telemetry yet.\n`);
      else ctx.io.stdout(renderTable(['METRIC', 'SERIES', 'LAST'], list.metrics.map((m) => [m.metric, String(m.series), m.lastTs === null ? '-' : new Date(m.lastTs).toISOString()])) + '\n');
      return 0;
    }

    const metric = metricName(metricArg);
    const since = timeArg('since', values.since ?? '-1h');
    const until = timeArg('until', values.until ?? 'now');
    const step = values.step ?? defaultStep(since);
    const query: Record<string, string | undefined> = { metric, from: since, to: until, step, agg: values.agg ?? 'avg' };
    const search = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    for (const l of values.label ?? []) search.append('label', l);
    const result = await api.json(TelemetryQueryResult, 'GET', `/api/devices/${device}/telemetry?${search.toString()}`);
    if (values.json) {
      ctx.io.stdout(json(result));
      return 0;
    }
    if (values.csv) {
      const lines = ['time,labels,value'];
      for (const s of result.series) for (const [ts, v] of s.points) lines.push([new Date(ts).toISOString(), csvCell(labelText(s.labels)), v === null ? '' : String(v)].join(','));
      ctx.io.stdout(lines.join('\n') + '\n');
      return 0;
    }
    const title = `${printable(result.device.name)} ${result.metric} (${result.agg} per ${result.step / 1000}s, ${result.source})`;
    const headers = ['TIME', ...result.series.map((s) => (result.series.length === 1 && Object.keys(s.labels).length === 0 ? 'VALUE' : labelText(s.labels).toUpperCase()))];
    const rows = (result.series[0]?.points ?? []).map(([ts], i) => [new Date(ts).toISOString().replace('T', ' ').slice(0, 19), ...result.series.map((s) => formatValue(result.metric, s.points[i]?.[1] ?? null))]);
    const sparks = result.series.map((s) => {
      const known = s.points.map((p) => p[1]).filter((v): v is number => v !== null);
      const stats = known.length ? `min ${formatValue(result.metric, Math.min(...known))}  max ${formatValue(result.metric, Math.max(...known))}  last ${formatValue(result.metric, known.at(-1) ?? null)}` : 'no data';
      return `${labelText(s.labels).padEnd(12)} ${sparkline(s.points.map((p) => p[1]))}  ${stats}`;
    });
    ctx.io.stdout(`${title}\n${renderTable(headers, rows)}\n\n${sparks.join('\n')}\n`);
    return 0;
  },
});
