import { parseFlags } from '@edgehook/shared/argv';
import { LatestResult } from '@edgehook/shared';
import { openSession } from '../api-client.js';
import { COMMON_OPTIONS, positiveInt, withUsage } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../errors.js';
import { json, relativeTime, renderTable } from '../table.js';
import { formatValue, labelText, metricName } from './telemetry-format.js';

const USAGE = `Usage: edgehook top [--metric cpu] [--tag T] [--limit 10] [--asc] [--json] [--server URL]

The fleet's latest value of one metric, one row per device (and series), highest first:
"the ten hottest devices" is edgehook top --metric temp.

Options:
  --metric M       metric name or alias: cpu, mem, disk, temp, load, uptime (default cpu)
  --tag T          only devices with this tag
  --label k=v      only series with this label (repeatable)
  --limit N        at most N rows (default 20)
  --asc            lowest first
  --json           the API's answer as JSON
  --server URL     the control plane (default: the one you logged in to) [EDGEHOOK_SERVER]
  -h, --help       show this help`;

export const topCommand: Command = {
  name: 'top',
  summary: "the fleet's latest values of a metric, sorted",
  usage: USAGE,
  async run(argv, ctx) {
    const parsed = withUsage(USAGE, () =>
      parseFlags({
        args: argv,
        options: { ...COMMON_OPTIONS, metric: { type: 'string' }, tag: { type: 'string' }, label: { type: 'string', multiple: true }, limit: { type: 'string' }, asc: { type: 'boolean' }, json: { type: 'boolean' } },
        strict: true,
        allowPositionals: true,
      }),
    );
    const { values } = parsed;
    if (values.help) {
      ctx.io.stdout(USAGE + '\n');
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`, USAGE);
    const limit = values.limit === undefined ? 20 : positiveInt('limit', values.limit, USAGE, 100_000);
    const metric = metricName(values.metric ?? 'cpu');
    const api = await openSession(ctx, values.server);
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
};
