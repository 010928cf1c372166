import * as z from '../zod.js';
import { transformIssue } from '../zod.js';
import type { Permission } from '../permissions.js';
import { DeclaredServer } from './containers.js';
import { StreamResult } from './streams.js';

/**
 * Jobs: one operation run on many devices with a rollout (control-plane/src/jobs/, docs/jobs.md).
 * Each kind is declared once here: its spec schema, the permission it needs beside `jobs.run`,
 * and whether the device must be online to run it.
 */
const Argv = z.array(z.string().check(z.maxLength(65536))).check(z.minLength(1), z.maxLength(1024));
const TagName = z.string().check(z.minLength(1), z.maxLength(64));

export const JobKinds = {
  /** A declared action of the agent's actions file (as `edgehook exec <device> <action>`). */
  action: {
    spec: z.strictObject({ call: z.string().check(z.minLength(1), z.maxLength(128)), params: z._default(z.array(z.string().check(z.maxLength(65536))).check(z.maxLength(256)), []) }),
    permission: 'devices.exec',
    online: true,
  },
  /** A raw argv (never a shell string), for roles trusted with arbitrary commands. */
  command: {
    spec: z.strictObject({ argv: Argv, cwd: z.optional(z.string().check(z.maxLength(4096))), env: z.optional(z.record(z.string(), z.string())) }),
    permission: 'devices.exec.arbitrary',
    online: true,
  },
  /** The device's record in the store: its tags (the per-device configuration Edgehook keeps today). */
  config: {
    spec: z.strictObject({ addTags: z._default(z.array(TagName).check(z.maxLength(64)), []), removeTags: z._default(z.array(TagName).check(z.maxLength(64)), []) }).check(z.refine((s) => s.addTags.length + s.removeTags.length > 0, 'a config job adds or removes at least one tag')),
    permission: 'devices.write',
    online: false,
  },
  /** A declared-server change: one server put into, or removed from, each device's declared set. */
  servers: {
    spec: z.union([z.strictObject({ put: DeclaredServer }), z.strictObject({ remove: z.string().check(z.minLength(1), z.maxLength(128)) })]),
    permission: 'containers.control',
    online: true,
  },
  /** The agent updates itself (the agent updater: download, verify, restart, roll back on failure). */
  'agent-update': {
    spec: z.strictObject({ version: z.optional(z.string().check(z.minLength(1), z.maxLength(64))) }),
    permission: 'devices.write',
    online: true,
  },
} as const satisfies Record<string, { spec: z.ZodMiniType; permission: Permission; online: boolean }>;
export type JobKind = keyof typeof JobKinds;
export const JobKindName = z.enum(['action', 'command', 'config', 'servers', 'agent-update']);

export const JobOperation = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('action'), spec: JobKinds.action.spec }),
  z.strictObject({ kind: z.literal('command'), spec: JobKinds.command.spec }),
  z.strictObject({ kind: z.literal('config'), spec: JobKinds.config.spec }),
  z.strictObject({ kind: z.literal('servers'), spec: JobKinds.servers.spec }),
  z.strictObject({ kind: z.literal('agent-update'), spec: JobKinds['agent-update'].spec }),
]);
export type JobOperation = z.infer<typeof JobOperation>;

/** Which devices: every given filter must hold (tags: all of them; names: any of them, by name or id). */
export const JobSelection = z.strictObject({
    tags: z._default(z.array(TagName).check(z.maxLength(32)), []),
    names: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(253))).check(z.maxLength(10_000)), []),
    /** A query over the device record: its profile, and whether it is online now. */
    query: z._default(z.strictObject({ profile: z.optional(z.string().check(z.minLength(1), z.maxLength(128))), online: z.optional(z.boolean()) }), {}),
  }).check(z.refine((s) => s.tags.length > 0 || s.names.length > 0 || s.query.profile !== undefined || s.query.online !== undefined, 'choose the devices: tags, names or a query'));
export type JobSelection = z.infer<typeof JobSelection>;

/** `10`, `"10"` or `"10%"`: a count or a percent of the selected devices. */
export const CountOrPercent = z.pipe(z.union([z.number(), z.string().check(z.maxLength(16))]), z.transform((v, ctx): { count: number } | { percent: number } => {
  const m = /^(\d{1,6})(%?)$/.exec(String(v));
  const n = Number(m?.[1]);
  if (!m || (m[2] === '' && (n < 1 || n > 100_000))) {
    transformIssue(ctx, `${JSON.stringify(v)} is not a count from 1 to 100000 (10) or a percent (10%)`);
    return z.NEVER;
  }
  if (m[2] === '%' && (n < 1 || n > 100)) {
    transformIssue(ctx, `${String(v)} is not a percent between 1% and 100%`);
    return z.NEVER;
  }
  return m[2] === '%' ? { percent: n } : { count: n };
}));
export type CountOrPercent = { count: number } | { percent: number };
/** The parsed form, as stored and as a job view shows it. */
export const CountOrPercentValue = z.union([z.strictObject({ count: z.number().check(z.int(), z.gte(1)) }), z.strictObject({ percent: z.number().check(z.int(), z.gte(1), z.lte(100)) })]);

const DAY_MS = 24 * 3600_000;
export const JobRollout = z.prefault(z.strictObject({
    /** Devices per batch (default: all at once). */
    batch: z.optional(CountOrPercent),
    /** Wait between one batch settling and the next starting. */
    pauseMs: z._default(z.number().check(z.int(), z.gte(0), z.lte(DAY_MS)), 0),
    /** Abort once more than this many (or this percent) of the devices failed (default: never). */
    abortAfter: z.optional(CountOrPercent),
    /** Devices that have not run it by then (offline) are timed out; the job ends. */
    expiresInMs: z._default(z.number().check(z.int(), z.gte(1000), z.lte(30 * DAY_MS)), DAY_MS),
    /** One device's run longer than this is timed out. */
    timeoutMs: z._default(z.number().check(z.int(), z.gte(100), z.lte(DAY_MS)), 10 * 60_000),
  }), {});
export type JobRollout = z.infer<typeof JobRollout>;

/** A rollout as stored (after parsing): read back through this. */
export const StoredRollout = z.object({
  batch: z.optional(CountOrPercentValue),
  pauseMs: z.number().check(z.int()),
  abortAfter: z.optional(CountOrPercentValue),
  expiresInMs: z.number().check(z.int()),
  timeoutMs: z.number().check(z.int()),
});

export const JobCreate = z.strictObject({ operation: JobOperation, select: JobSelection, rollout: JobRollout });
export type JobCreate = z.infer<typeof JobCreate>;
/** What a client sends (counts and percents as written: `10`, `"10%"`). */
export type JobCreateInput = z.input<typeof JobCreate>;

export const JobState = z.enum(['running', 'succeeded', 'failed', 'aborted', 'cancelled']);
export type JobState = z.infer<typeof JobState>;
export const JobDeviceStatus = z.enum(['queued', 'waiting', 'running', 'succeeded', 'failed', 'timed-out', 'cancelled']);
export type JobDeviceStatus = z.infer<typeof JobDeviceStatus>;
export const TERMINAL_DEVICE_STATUSES: readonly JobDeviceStatus[] = ['succeeded', 'failed', 'timed-out', 'cancelled'];

export const JobCounts = z.object({
  total: z.number().check(z.int()),
  queued: z.number().check(z.int()),
  waiting: z.number().check(z.int()),
  running: z.number().check(z.int()),
  succeeded: z.number().check(z.int()),
  failed: z.number().check(z.int()),
  'timed-out': z.number().check(z.int()),
  cancelled: z.number().check(z.int()),
});
export type JobCounts = z.infer<typeof JobCounts>;

export const JobView = z.object({
  id: z.string(),
  kind: JobKindName,
  operation: JobOperation,
  select: JobSelection,
  rollout: StoredRollout,
  state: JobState,
  message: z.nullable(z.string()),
  createdBy: z.nullable(z.string()),
  createdAt: z.string(),
  expiresAt: z.string(),
  finishedAt: z.nullable(z.string()),
  batch: z.number().check(z.int()),
  batches: z.number().check(z.int()),
  counts: JobCounts,
});
export type JobView = z.infer<typeof JobView>;

export const JobDeviceView = z.object({
  deviceId: z.string(),
  name: z.string(),
  batch: z.number().check(z.int()),
  status: JobDeviceStatus,
  exitCode: z.nullable(z.number().check(z.int())),
  /** The last few KB of the run's output. */
  output: z.nullable(z.string()),
  message: z.nullable(z.string()),
  startedAt: z.nullable(z.string()),
  finishedAt: z.nullable(z.string()),
});
export type JobDeviceView = z.infer<typeof JobDeviceView>;

export const JobDetail = z.extend(JobView, { devices: z.array(JobDeviceView) });
export type JobDetail = z.infer<typeof JobDetail>;

export const JobListQuery = z.strictObject({ state: z.optional(JobState), limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50) });

/** The agent's answer to `processes.run`: a process run to its end, with its output tail. */
export const ProcessRunParams = z.strictObject({
    spec: z.union([JobKinds.action.spec, JobKinds.command.spec]),
    /** The process is cancelled (its whole tree) after this long. */
    timeoutMs: z.number().check(z.int(), z.gte(100), z.lte(DAY_MS)),
    /** How much of the output's end to answer with. */
    tailBytes: z._default(z.number().check(z.int(), z.gte(0), z.lte(64 * 1024)), 4096),
  });
export const ProcessRunResult = z.object({ result: StreamResult, output: z.string(), timedOut: z.boolean() });
export type ProcessRunResult = z.infer<typeof ProcessRunResult>;
