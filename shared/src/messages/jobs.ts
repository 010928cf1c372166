import { z } from 'zod';
import type { Permission } from '../permissions.js';
import { DeclaredServer } from './containers.js';
import { StreamResult } from './streams.js';

/**
 * Jobs: one operation run on many devices with a rollout (control-plane/src/jobs/, docs/jobs.md).
 * Each kind is declared once here: its spec schema, the permission it needs beside `jobs.run`,
 * and whether the device must be online to run it.
 */
const Argv = z.array(z.string().max(65536)).min(1).max(1024);
const TagName = z.string().min(1).max(64);

export const JobKinds = {
  /** A declared action of the agent's actions file (as `edgehook exec <device> <action>`). */
  action: {
    spec: z.object({ call: z.string().min(1).max(128), params: z.array(z.string().max(65536)).max(256).default([]) }).strict(),
    permission: 'devices.exec',
    online: true,
  },
  /** A raw argv (never a shell string), for roles trusted with arbitrary commands. */
  command: {
    spec: z.object({ argv: Argv, cwd: z.string().max(4096).optional(), env: z.record(z.string(), z.string()).optional() }).strict(),
    permission: 'devices.exec.arbitrary',
    online: true,
  },
  /** The device's record in the store: its tags (the per-device configuration Edgehook keeps today). */
  config: {
    spec: z
      .object({ addTags: z.array(TagName).max(64).default([]), removeTags: z.array(TagName).max(64).default([]) })
      .strict()
      .refine((s) => s.addTags.length + s.removeTags.length > 0, 'a config job adds or removes at least one tag'),
    permission: 'devices.write',
    online: false,
  },
  /** A declared-server change: one server put into, or removed from, each device's declared set. */
  servers: {
    spec: z.union([z.object({ put: DeclaredServer }).strict(), z.object({ remove: z.string().min(1).max(128) }).strict()]),
    permission: 'containers.control',
    online: true,
  },
  /** The agent updates itself (the agent updater: download, verify, restart, roll back on failure). */
  'agent-update': {
    spec: z.object({ version: z.string().min(1).max(64).optional() }).strict(),
    permission: 'devices.write',
    online: true,
  },
} as const satisfies Record<string, { spec: z.ZodType; permission: Permission; online: boolean }>;
export type JobKind = keyof typeof JobKinds;
export const JobKindName = z.enum(['action', 'command', 'config', 'servers', 'agent-update']);

export const JobOperation = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('action'), spec: JobKinds.action.spec }).strict(),
  z.object({ kind: z.literal('command'), spec: JobKinds.command.spec }).strict(),
  z.object({ kind: z.literal('config'), spec: JobKinds.config.spec }).strict(),
  z.object({ kind: z.literal('servers'), spec: JobKinds.servers.spec }).strict(),
  z.object({ kind: z.literal('agent-update'), spec: JobKinds['agent-update'].spec }).strict(),
]);
export type JobOperation = z.infer<typeof JobOperation>;

/** Which devices: every given filter must hold (tags: all of them; names: any of them, by name or id). */
export const JobSelection = z
  .object({
    tags: z.array(TagName).max(32).default([]),
    names: z.array(z.string().min(1).max(253)).max(10_000).default([]),
    /** A query over the device record: its profile, and whether it is online now. */
    query: z.object({ profile: z.string().min(1).max(128).optional(), online: z.boolean().optional() }).strict().default({}),
  })
  .strict()
  .refine((s) => s.tags.length > 0 || s.names.length > 0 || s.query.profile !== undefined || s.query.online !== undefined, 'choose the devices: tags, names or a query');
export type JobSelection = z.infer<typeof JobSelection>;

/** `10`, `"10"` or `"10%"`: a count or a percent of the selected devices. */
export const CountOrPercent = z.union([z.number(), z.string().max(16)]).transform((v, ctx): { count: number } | { percent: number } => {
  const m = /^(\d{1,6})(%?)$/.exec(String(v));
  const n = Number(m?.[1]);
  if (!m || (m[2] === '' && (n < 1 || n > 100_000))) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a count from 1 to 100000 (10) or a percent (10%)` });
    return z.NEVER;
  }
  if (m[2] === '%' && (n < 1 || n > 100)) {
    ctx.addIssue({ code: 'custom', message: `${String(v)} is not a percent between 1% and 100%` });
    return z.NEVER;
  }
  return m[2] === '%' ? { percent: n } : { count: n };
});
export type CountOrPercent = { count: number } | { percent: number };
/** The parsed form, as stored and as a job view shows it. */
export const CountOrPercentValue = z.union([z.object({ count: z.number().int().min(1) }).strict(), z.object({ percent: z.number().int().min(1).max(100) }).strict()]);

const DAY_MS = 24 * 3600_000;
export const JobRollout = z
  .object({
    /** Devices per batch (default: all at once). */
    batch: CountOrPercent.optional(),
    /** Wait between one batch settling and the next starting. */
    pauseMs: z.number().int().min(0).max(DAY_MS).default(0),
    /** Abort once more than this many (or this percent) of the devices failed (default: never). */
    abortAfter: CountOrPercent.optional(),
    /** Devices that have not run it by then (offline) are timed out; the job ends. */
    expiresInMs: z.number().int().min(1000).max(30 * DAY_MS).default(DAY_MS),
    /** One device's run longer than this is timed out. */
    timeoutMs: z.number().int().min(100).max(DAY_MS).default(10 * 60_000),
  })
  .strict()
  .prefault({});
export type JobRollout = z.infer<typeof JobRollout>;

/** A rollout as stored (after parsing): read back through this. */
export const StoredRollout = z.object({
  batch: CountOrPercentValue.optional(),
  pauseMs: z.number().int(),
  abortAfter: CountOrPercentValue.optional(),
  expiresInMs: z.number().int(),
  timeoutMs: z.number().int(),
});

export const JobCreate = z.object({ operation: JobOperation, select: JobSelection, rollout: JobRollout }).strict();
export type JobCreate = z.infer<typeof JobCreate>;
/** What a client sends (counts and percents as written: `10`, `"10%"`). */
export type JobCreateInput = z.input<typeof JobCreate>;

export const JobState = z.enum(['running', 'succeeded', 'failed', 'aborted', 'cancelled']);
export type JobState = z.infer<typeof JobState>;
export const JobDeviceStatus = z.enum(['queued', 'waiting', 'running', 'succeeded', 'failed', 'timed-out', 'cancelled']);
export type JobDeviceStatus = z.infer<typeof JobDeviceStatus>;
export const TERMINAL_DEVICE_STATUSES: readonly JobDeviceStatus[] = ['succeeded', 'failed', 'timed-out', 'cancelled'];

export const JobCounts = z.object({
  total: z.number().int(),
  queued: z.number().int(),
  waiting: z.number().int(),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  'timed-out': z.number().int(),
  cancelled: z.number().int(),
});
export type JobCounts = z.infer<typeof JobCounts>;

export const JobView = z.object({
  id: z.string(),
  kind: JobKindName,
  operation: JobOperation,
  select: JobSelection,
  rollout: StoredRollout,
  state: JobState,
  message: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  finishedAt: z.string().nullable(),
  batch: z.number().int(),
  batches: z.number().int(),
  counts: JobCounts,
});
export type JobView = z.infer<typeof JobView>;

export const JobDeviceView = z.object({
  deviceId: z.string(),
  name: z.string(),
  batch: z.number().int(),
  status: JobDeviceStatus,
  exitCode: z.number().int().nullable(),
  /** The last few KB of the run's output. */
  output: z.string().nullable(),
  message: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type JobDeviceView = z.infer<typeof JobDeviceView>;

export const JobDetail = JobView.extend({ devices: z.array(JobDeviceView) });
export type JobDetail = z.infer<typeof JobDetail>;

export const JobListQuery = z.object({ state: JobState.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();

/** The agent's answer to `processes.run`: a process run to its end, with its output tail. */
export const ProcessRunParams = z
  .object({
    spec: z.union([JobKinds.action.spec, JobKinds.command.spec]),
    /** The process is cancelled (its whole tree) after this long. */
    timeoutMs: z.number().int().min(100).max(DAY_MS),
    /** How much of the output's end to answer with. */
    tailBytes: z.number().int().min(0).max(64 * 1024).default(4096),
  })
  .strict();
export const ProcessRunResult = z.object({ result: StreamResult, output: z.string(), timedOut: z.boolean() });
export type ProcessRunResult = z.infer<typeof ProcessRunResult>;
