import { CountOrPercent, JobState, type JobCreateInput, type JobDetail, type JobDeviceView, type JobView } from '@edgehook/shared';
import { JobRoutes } from '@edgehook/shared/rest';
import { durationSeconds, withCommonHelp } from '../args.js';
import type { ApiClient } from '../api-client.js';
import type { CommandContext } from '../context.js';
import { defineCommand } from '../define-command.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { json, printable, renderTable } from '../table.js';

const USAGE = withCommonHelp(`Usage: edgehook job run (--tag T ... | --name a,b | --profile P) [--batch 10%|N] [--pause 5s]
                       [--abort-after N|P%] [--expires 1h] [--timeout 10m] [--detach] [--json]
                       [--raw] -- <action> [params...] | <command> [args...]
       edgehook job run (--tag T | --name a,b) --agent-update [--version V] [rollout flags]
       edgehook job ls [--state running|succeeded|failed|aborted|cancelled] [--json]
       edgehook job show <job> [--json]
       edgehook job cancel <job>

Runs one operation on many devices (docs/jobs.md). By default the operation is a declared action
(devices.exec); --raw runs an arbitrary argv (devices.exec.arbitrary). Needs jobs.run (jobs.read
for ls and show). \`run\` prints each device as it finishes and exits 1 when any device failed.

  --tag T          devices with this tag (repeat: devices with every tag)
  --name a,b       these devices (names or ids)
  --profile P      devices with this firmware profile
  --batch N|P%     devices per batch (default: all at once)
  --pause D        wait between batches (5s, 1m)
  --abort-after N|P%  stop starting devices once this many (or this share) failed
  --expires D      offline devices that have not run it by then are timed out (default 1d)
  --timeout D      one device's run longer than this is cancelled (default 10m)
  --agent-update   update the agents instead (to --version V, or the latest), with rollback
  --detach         print the job and return without following it`);

const POLL_MS = 500;

/** Checked here (exit 2) with the schema the server uses; sent as written. */
function countOrPercent(flag: string, value: string): string {
  if (!CountOrPercent.safeParse(value).success) throw new UsageError(`--${flag} must be a count (10) or a percent from 1% to 100%, got ${JSON.stringify(value)}`, USAGE);
  return value;
}

function runBody(values: Record<string, string | boolean | string[] | undefined>, rest: string[]): JobCreateInput {
  const tags = Array.isArray(values['tag']) ? values['tag'] : [];
  const names = typeof values['name'] === 'string' ? values['name'].split(',').filter((n) => n !== '') : [];
  const profile = typeof values['profile'] === 'string' ? values['profile'] : undefined;
  if (tags.length === 0 && names.length === 0 && profile === undefined) throw new UsageError('choose the devices: --tag, --name or --profile', USAGE);
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const update = values['agent-update'] === true;
  if (update && (rest.length > 0 || values['raw'])) throw new UsageError('--agent-update takes no command', USAGE);
  if (!update && rest.length === 0) throw new UsageError(values['raw'] ? 'missing <command> after --' : 'missing <action> after --', USAGE);
  const [call = '', ...params] = rest;
  const version = str('version');
  const batch = str('batch');
  const abortAfter = str('abort-after');
  const pause = str('pause');
  const expires = str('expires');
  const timeout = str('timeout');
  return {
    operation: update ? { kind: 'agent-update', spec: version !== undefined ? { version } : {} } : values['raw'] ? { kind: 'command', spec: { argv: rest } } : { kind: 'action', spec: { call, params } },
    select: { tags, names, query: profile !== undefined ? { profile } : {} },
    rollout: {
      ...(batch !== undefined ? { batch: countOrPercent('batch', batch) } : {}),
      ...(abortAfter !== undefined ? { abortAfter: countOrPercent('abort-after', abortAfter) } : {}),
      pauseMs: pause !== undefined ? durationSeconds('pause', pause, USAGE) * 1000 : 0,
      expiresInMs: (expires !== undefined ? durationSeconds('expires', expires, USAGE) : 86_400) * 1000,
      timeoutMs: (timeout !== undefined ? durationSeconds('timeout', timeout, USAGE) : 600) * 1000,
    },
  };
}

const deviceRow = (d: JobDeviceView): string[] => [printable(d.name), String(d.batch + 1), d.status, d.exitCode === null ? '-' : String(d.exitCode), printable((d.message ?? d.output?.trim().split('\n').pop() ?? '').slice(0, 80))];
const DEVICE_HEADERS = ['DEVICE', 'BATCH', 'STATUS', 'EXIT', 'DETAIL'];
const progress = (j: JobView): string => `${j.state} · batch ${j.batch + 1}/${j.batches} · ${j.counts.succeeded} ok, ${j.counts.failed + j.counts['timed-out']} failed, ${j.counts.running} running, ${j.counts.waiting} waiting, ${j.counts.queued} queued, ${j.counts.cancelled} cancelled of ${j.counts.total}`;
const failedAny = (j: JobView): boolean => j.counts.failed + j.counts['timed-out'] > 0 || j.state === 'aborted' || j.state === 'cancelled';

/** Follows a job to its end: a line per device as it finishes, a progress line when the counts move. */
async function follow(api: ApiClient, ctx: CommandContext, first: JobDetail, quiet: boolean): Promise<JobDetail> {
  const seen = new Map<string, string>();
  let job = first;
  let lastProgress = '';
  if (!quiet) ctx.io.stdout(`job ${job.id}: ${job.counts.total} devices in ${job.batches} batch${job.batches === 1 ? '' : 'es'}\n`);
  for (;;) {
    if (!quiet) {
      const changed = job.devices.filter((d) => seen.get(d.deviceId) !== d.status && d.status !== 'queued');
      for (const d of changed) seen.set(d.deviceId, d.status);
      if (changed.length > 0) ctx.io.stdout(renderTable(DEVICE_HEADERS, changed.map(deviceRow)).split('\n').slice(seen.size === changed.length ? 0 : 1).join('\n') + '\n');
      const line = progress(job);
      if (line !== lastProgress) ctx.io.stderr(`${line}\n`);
      lastProgress = line;
    }
    if (job.finishedAt !== null) return job;
    await ctx.sleep(POLL_MS);
    job = await api.route(JobRoutes.jobGet, { params: { id: job.id } });
  }
}

/** The server's 400 (an unknown tag, an empty selection) is a usage error like the local checks. */
async function asUsage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400) throw new CliError(err.message, 2);
    throw err;
  }
}

export const jobCommand = defineCommand({
  name: 'job',
  summary: 'run an operation on many devices; list, show and cancel jobs',
  usage: USAGE,
  options: {
    tag: { type: 'string', multiple: true },
    name: { type: 'string' },
    profile: { type: 'string' },
    batch: { type: 'string' },
    pause: { type: 'string' },
    'abort-after': { type: 'string' },
    expires: { type: 'string' },
    timeout: { type: 'string' },
    raw: { type: 'boolean' },
    'agent-update': { type: 'boolean' },
    version: { type: 'string' },
    detach: { type: 'boolean' },
    state: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: ['sub', 'rest...'],
  check({ values, args: { sub, rest } }) {
    if (sub === 'run') return { sub, body: runBody(values, rest) } as const;
    if (sub === 'ls') {
      if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, USAGE);
      const state = values.state === undefined ? undefined : JobState.safeParse(values.state);
      if (state && !state.success) throw new UsageError(`--state must be one of ${JobState.options.join(', ')}, got ${JSON.stringify(values.state)}`, USAGE);
      return { sub, state: state?.data } as const;
    }
    if (sub === 'show' || sub === 'cancel') {
      if (rest.length !== 1 || !rest[0]) throw new UsageError(rest.length === 0 ? 'missing <job>' : `unexpected argument ${JSON.stringify(rest[1])}`, USAGE);
      return { sub, id: rest[0] } as const;
    }
    throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: run, ls, show or cancel`, USAGE);
  },
  async run({ values, checked, ctx, api }) {
    if (checked.sub === 'ls') {
      const jobs = await api.route(JobRoutes.jobList, { params: {}, query: checked.state ? { state: checked.state } : {} });
      if (values.json) ctx.io.stdout(json(jobs));
      else if (jobs.length === 0) ctx.io.stdout('No jobs.\n');
      else ctx.io.stdout(renderTable(['ID', 'KIND', 'STATE', 'DONE', 'FAILED', 'CREATED', 'BY'], jobs.map((j) => [j.id, j.kind, j.state, `${j.counts.succeeded + j.counts.failed + j.counts['timed-out'] + j.counts.cancelled}/${j.counts.total}`, String(j.counts.failed + j.counts['timed-out']), j.createdAt.replace('T', ' ').slice(0, 19), printable(j.createdBy ?? '-')])) + '\n');
      return 0;
    }
    if (checked.sub === 'show' || checked.sub === 'cancel') {
      const job = checked.sub === 'show' ? await api.route(JobRoutes.jobGet, { params: { id: checked.id } }) : await api.route(JobRoutes.jobCancel, { params: { id: checked.id } });
      if (values.json) ctx.io.stdout(json(job));
      else ctx.io.stdout(`${progress(job)}\n${renderTable(DEVICE_HEADERS, job.devices.map(deviceRow))}\n`);
      return 0;
    }
    const created = await asUsage(api.route(JobRoutes.jobCreate, { params: {}, body: checked.body }));
    if (values.detach) {
      ctx.io.stdout(values.json ? json(created) : `${created.id}\n`);
      return 0;
    }
    const done = await follow(api, ctx, created, values.json === true);
    if (values.json) ctx.io.stdout(json(done));
    else ctx.io.stdout(`${progress(done)}\n`);
    return failedAny(done) ? 1 : 0;
  },
});
