import { LatestResult } from '@edgehook/shared';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { json, relativeTime, renderTable } from '../table.js';
import { formatValue, labelText, metricName } from './telemetry-format.js';

const USAGE = withCommonHelp(`Usage: edgehook top [--metric cpu] [--tag T] [--limit 10] [--asc] [--json] [--server URL]

The fleet's latest value of one metric, one row per device (and series), highest first:
"the ten hottest devices" is edgehook top --metric temp.

Options:
  --metric M       metric name or alias: cpu, mem, disk, temp, load, uptime (default cpu)
  --tag T          only devices with this tag
  --label k=v      only series with this label (repeatable)
  --limit N        at most N rows (default 20)
  --asc            lowest first
  --json           the API's answer as JSON`);

export const topCommand = defineCommand({
  name: 'top',
  summary: "the fleet's latest values of a metric, sorted",
  usage: USAGE,
  options: { metric: { type: 'string' }, tag: { type: 'string' }, label: { type: 'string', multiple: true }, limit: { type: 'string' }, asc: { type: 'boolean' }, json: { type: 'boolean' } },
  check: ({ values }) => ({ limit: values.limit === undefined ? 20 : positiveInt('limit', values.limit, USAGE, 100_000), metric: metricName(values.metric ?? 'cpu') }),
  async run({ values, checked: { limit, metric }, ctx, api }) {
    const search = new URLSearchParams({ metric, sort: values.asc ? 'asc' : 'desc', limit: String(limit) });
    if (values.tag !== undefined) search.set('tag', values.tag);
    for (const l of values.label ?? []) search.append('label', l);
    const result = await api.json(LatestResult, 'GET', `/api/telemetry/latest?${search.toString()}`);
    if (values.json) {
      ctx.io.stdout(json(result));
      return 0;
    }
    if (result.entries.length === 0) {
      ctx.io.stdout(`No device has reported ${metric}${values.tag ? ` (tag ${values.tag})` : ''}.\n`);
      return 0;
    }
    const withLabels = result.entries.some((e) => Object.keys(e.labels).length > 0);
    const now = ctx.now();
    ctx.io.stdout(
      renderTable(
        ['DEVICE', 'STATUS', ...(withLabels ? ['SERIES'] : []), metric.toUpperCase(), 'AGE'],
        result.entries.map((e) => [e.device, e.online ? 'online' : 'offline', ...(withLabels ? [labelText(e.labels)] : []), formatValue(metric, e.value), relativeTime(new Date(e.ts).toISOString(), now)]),
      ) + '\n',
    );
    return 0;
  },
});
