import { AuditPage, AuditResult, type AuditEntry } from '@edgehook/shared';
import { positiveInt, withCommonHelp } from '../args.js';
import { defineCommand } from '../define-command.js';
import { UsageError } from '../errors.js';
import { json, printable, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook audit [--actor NAME] [--action A] [--device ID] [--result ok|denied|error]
                     [--since -24h] [--until T] [--limit N] [--all] [--json] [--server URL]

Operator actions recorded by the control plane, newest first (needs the audit.read permission).

  --actor NAME   only this user (or login name tried)
  --action A     an action (auth.login.failed) or a family (hardware.*)
  --device ID    only actions on this device (its id)
  --result R     ok, denied or error
  --since T      from: relative (-24h, -30m, -7d), or an ISO time (default: no limit)
  --until T      to: relative or ISO time
  --limit N      entries per page (default 50, at most 500)
  --all          follow the pages to the end
  --json         print JSON (one page, or every entry with --all)`);

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** -24h, 24h (ago) or an ISO time -> ISO time. */
function timeArg(flag: string, value: string, now: number): string {
  const rel = /^-?(\d+)([smhdw])$/.exec(value);
  if (rel) return new Date(now - Number(rel[1]) * (UNIT_MS[rel[2] ?? 'h'] ?? 0)).toISOString();
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${flag} must be relative (-24h, -30m) or an ISO time, got ${JSON.stringify(value)}`, USAGE);
  return new Date(t).toISOString();
}

const row = (e: AuditEntry): string[] => [
  e.at.replace('T', ' ').slice(0, 19),
  printable(e.actor ?? '-'),
  printable(e.source ?? '-'),
  printable(e.action),
  printable(e.deviceId ?? '-'),
  printable(e.target ?? '-'),
  `${e.result}${e.status !== null ? ` ${e.status}` : ''}`,
];

export const auditCommand = defineCommand({
  name: 'audit',
  summary: 'show the audit log of operator actions',
  usage: USAGE,
  options: {
    actor: { type: 'string' },
    action: { type: 'string' },
    device: { type: 'string' },
    result: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  check({ values, ctx }) {
    if (values.result !== undefined && !AuditResult.safeParse(values.result).success) throw new UsageError(`--result must be ok, denied or error, got ${JSON.stringify(values.result)}`, USAGE);
    const limit = values.limit === undefined ? 50 : positiveInt('limit', values.limit, USAGE, 500);
    const query: Record<string, string | undefined> = {
      actor: values.actor,
      action: values.action,
      device: values.device,
      result: values.result,
      since: values.since === undefined ? undefined : timeArg('--since', values.since, ctx.now()),
      until: values.until === undefined ? undefined : timeArg('--until', values.until, ctx.now()),
      limit: String(limit),
    };
    return query;
  },
  async run({ values, checked: query, ctx, api }) {
    const entries: AuditEntry[] = [];
    let before: string | undefined;
    let more = false;
    for (;;) {
      const page = await api.json(AuditPage, 'GET', '/api/audit', { query: { ...query, before } });
      entries.push(...page.entries);
      more = page.next !== null;
      if (!values.all || page.next === null) break;
      before = page.next;
    }
    if (values.json) {
      ctx.io.stdout(json(entries) + '\n');
      return 0;
    }
    if (entries.length === 0) {
      ctx.io.stdout('no audit entries match\n');
      return 0;
    }
    ctx.io.stdout(renderTable(['TIME (UTC)', 'ACTOR', 'FROM', 'ACTION', 'DEVICE', 'TARGET', 'RESULT'], entries.map(row)) + '\n');
    if (more) ctx.io.stdout(`(more entries: --all, or narrow with --since/--action)\n`);
    return 0;
  },
});
