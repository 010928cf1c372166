import type { Kysely, Selectable } from 'kysely';
import { JobDeviceStatus, type JobCounts, type JobState } from '@edgehook/shared';
import type { Database, JobDevicesTable, JobsTable } from '../db/database.js';
import { isoTime } from '../db/ids.js';

export type JobRow = Selectable<JobsTable>;
export type JobDeviceRow = Selectable<JobDevicesTable>;

/** Rows per INSERT: well under SQLite's bound-variable limit for 5 columns. */
const INSERT_CHUNK = 500;

export interface NewJob {
  id: string;
  kind: string;
  operation: unknown;
  selection: unknown;
  rollout: unknown;
  createdBy: string | null;
  now: number;
  expiresAt: number;
  batches: number;
  devices: Array<{ id: string; name: string; batch: number }>;
}

export async function insertJob(db: Kysely<Database>, job: NewJob): Promise<void> {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('jobs')
      .values({
        id: job.id,
        kind: job.kind,
        operation: JSON.stringify(job.operation),
        selection: JSON.stringify(job.selection),
        rollout: JSON.stringify(job.rollout),
        state: 'running',
        message: null,
        created_by: job.createdBy,
        created_at: isoTime(job.now),
        expires_at: isoTime(job.expiresAt),
        finished_at: null,
        batch: 0,
        batches: job.batches,
        batch_settled_at: null,
      })
      .execute();
    for (let i = 0; i < job.devices.length; i += INSERT_CHUNK) {
      const chunk = job.devices.slice(i, i + INSERT_CHUNK).map((d) => ({ job_id: job.id, device_id: d.id, device_name: d.name, batch: d.batch, status: 'queued' }));
      await tx.insertInto('job_devices').values(chunk).execute();
    }
  });
}

export async function findJob(db: Kysely<Database>, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listJobs(db: Kysely<Database>, filter: { state?: JobState | undefined; limit: number }): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
  if (filter.state !== undefined) q = q.where('state', '=', filter.state);
  return q.execute();
}

/** Jobs some device of which may still run: every replica steps these. */
export async function unfinishedJobs(db: Kysely<Database>): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('finished_at', 'is', null).orderBy('created_at').execute();
}

export async function jobDevices(db: Kysely<Database>, jobId: string): Promise<JobDeviceRow[]> {
  return db.selectFrom('job_devices').selectAll().where('job_id', '=', jobId).orderBy('batch').orderBy('device_name').execute();
}

export function emptyCounts(): JobCounts {
  return { total: 0, queued: 0, waiting: 0, running: 0, succeeded: 0, failed: 0, 'timed-out': 0, cancelled: 0 };
}

export async function countsFor(db: Kysely<Database>, jobIds: string[]): Promise<Map<string, JobCounts>> {
  const out = new Map<string, JobCounts>(jobIds.map((id) => [id, emptyCounts()]));
  if (jobIds.length === 0) return out;
  const rows = await db.selectFrom('job_devices').select(['job_id', 'status']).select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).where('job_id', 'in', jobIds).groupBy(['job_id', 'status']).execute();
  for (const r of rows) {
    const counts = out.get(r.job_id);
    if (!counts) continue;
    const n = Number(r.n);
    counts.total += n;
    const status = JobDeviceStatus.safeParse(r.status);
    if (status.success) counts[status.data] += n;
  }
  return out;
}

/**
 * Devices that may start now: released batches, not started, or running under a lease that ran
 * out (its replica died). The caller still claims each one.
 */
export async function startable(db: Kysely<Database>, job: JobRow, now: number): Promise<Array<{ device_id: string; status: string; online: number | null }>> {
  return db
    .selectFrom('job_devices')
    .leftJoin('devices', 'devices.id', 'job_devices.device_id')
    .select(['job_devices.device_id', 'job_devices.status', 'devices.online'])
    .where('job_devices.job_id', '=', job.id)
    .where('job_devices.batch', '<=', job.batch)
    .where((eb) => eb.or([eb('job_devices.status', 'in', ['queued', 'waiting']), eb.and([eb('job_devices.status', '=', 'running'), eb('job_devices.lease_until', '<', isoTime(now))])]))
    .execute();
}

/**
 * The claim of one device's run: a conditional UPDATE, so of several replicas (or a restarted one
 * and a lease that ran out) exactly one wins. False: someone else has it, or it is over.
 */
export async function claimRun(db: Kysely<Database>, jobId: string, deviceId: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
  const res = await db
    .updateTable('job_devices')
    .set({ status: 'running', owner, lease_until: isoTime(now + leaseMs), started_at: isoTime(now) })
    .where('job_id', '=', jobId)
    .where('device_id', '=', deviceId)
    .where((eb) => eb.or([eb('status', 'in', ['queued', 'waiting']), eb.and([eb('status', '=', 'running'), eb('lease_until', '<', isoTime(now))])]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Keeps this replica's claims alive. */
export async function renewLeases(db: Kysely<Database>, owner: string, until: number): Promise<void> {
  await db.updateTable('job_devices').set({ lease_until: isoTime(until) }).where('owner', '=', owner).where('status', '=', 'running').execute();
}

export interface RunOutcome {
  status: Extract<JobDeviceStatus, 'succeeded' | 'failed' | 'timed-out' | 'waiting'>;
  exitCode?: number | null | undefined;
  output?: string | undefined;
  message?: string | undefined;
}

/** Records a run's end, only by the replica that holds its claim. */
export async function finishRun(db: Kysely<Database>, jobId: string, deviceId: string, owner: string, outcome: RunOutcome, now: number): Promise<boolean> {
  const back = outcome.status === 'waiting';
  const res = await db
    .updateTable('job_devices')
    .set({
      status: outcome.status,
      owner: back ? null : owner,
      lease_until: null,
      exit_code: outcome.exitCode ?? null,
      output: outcome.output ?? null,
      message: outcome.message ?? null,
      finished_at: back ? null : isoTime(now),
      ...(back ? { started_at: null } : {}),
    })
    .where('job_id', '=', jobId)
    .where('device_id', '=', deviceId)
    .where('status', '=', 'running')
    .where('owner', '=', owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Moves rows in `from` to a final (or waiting) status: cancel, abort, expiry, offline marks. */
export async function moveRows(db: Kysely<Database>, jobId: string, from: JobDeviceStatus[], to: JobDeviceStatus, message: string | null, now: number, deviceIds?: string[]): Promise<number> {
  if (deviceIds?.length === 0) return 0;
  let q = db
    .updateTable('job_devices')
    .set({ status: to, message, ...(to === 'waiting' ? {} : { finished_at: isoTime(now) }) })
    .where('job_id', '=', jobId)
    .where('status', 'in', from);
  if (deviceIds) q = q.where('device_id', 'in', deviceIds);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Rows of released batches still queued or running: the current batch has not settled while any remain. */
export async function unsettledCount(db: Kysely<Database>, job: JobRow): Promise<number> {
  const row = await db
    .selectFrom('job_devices')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('job_id', '=', job.id)
    .where('batch', '<=', job.batch)
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function markBatchSettled(db: Kysely<Database>, jobId: string, batch: number, now: number): Promise<void> {
  await db.updateTable('jobs').set({ batch_settled_at: isoTime(now) }).where('id', '=', jobId).where('batch', '=', batch).where('batch_settled_at', 'is', null).execute();
}

/** Releases the next batch; conditional on the current one, so replicas release it once. */
export async function releaseBatch(db: Kysely<Database>, jobId: string, from: number): Promise<boolean> {
  const res = await db.updateTable('jobs').set({ batch: from + 1, batch_settled_at: null }).where('id', '=', jobId).where('batch', '=', from).where('state', '=', 'running').executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Ends the rollout (cancel, abort): devices not started will not be; running ones finish. */
export async function stopJob(db: Kysely<Database>, jobId: string, state: Extract<JobState, 'cancelled' | 'aborted'>, message: string): Promise<boolean> {
  const res = await db.updateTable('jobs').set({ state, message }).where('id', '=', jobId).where('state', '=', 'running').executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** The last device is done: the job is over (a stopped job keeps its state). */
export async function finishJob(db: Kysely<Database>, jobId: string, state: JobState, now: number): Promise<boolean> {
  const res = await db
    .updateTable('jobs')
    .set((eb) => ({ state: eb.case().when('state', '=', 'running').then(state).else(eb.ref('state')).end(), finished_at: isoTime(now) }))
    .where('id', '=', jobId)
    .where('finished_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
