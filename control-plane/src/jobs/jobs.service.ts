import * as z from '@edgehook/shared/zod';
import type { Kysely } from 'kysely';
import { EdgehookError, hasPermission, JobDeviceStatus, JobKinds, JobState, JobOperation, StoredRollout, JobSelection, type JobRollout, type Clock, type CountOrPercent, type JobCounts, type JobCreate, type JobDetail, type JobView, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { isStringArray, newId, parseJsonColumn } from '../db/ids.js';
import { listDevices } from '../devices/devices.repository.js';
import type { FleetEvents } from '../events/fleet-events.js';
import type { Principal } from '../http/context.js';
import { runOperation, type KindDeps } from './job-kinds.js';
import * as repo from './jobs.repository.js';

export interface JobServiceDeps extends KindDeps {
  events: FleetEvents;
  /** This replica's id: the owner of the runs it claims. */
  instanceId: string;
  /** How often every unfinished job is looked at (runs ending and devices connecting also wake it). */
  tickMs?: number;
  /** A claim not renewed for this long is taken over (its replica died). */
  leaseMs?: number;
}

const sizeOf = (v: CountOrPercent, total: number): number => ('count' in v ? v.count : Math.ceil((v.percent * total) / 100));

/** A stored JSON column read back through its schema: what was validated on the way in. */
function stored<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, text: string, what: string): T {
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new EdgehookError('INTERNAL', `stored job ${what} does not parse`);
  return parsed.data;
}

/**
 * Jobs: creation (selection resolved to rows, batches assigned), and the rollout loop every replica
 * runs over the unfinished jobs in the store. Every state change is a conditional UPDATE, so
 * replicas (and a restarted one) cooperate without talking to each other.
 */
export class JobService {
  private timer: NodeJS.Timeout | undefined;
  private stepping = false;
  private again = false;
  private stopped = false;
  private lastRenew = 0;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly announced = new Map<string, { key: string; at: number }>();
  private unsubscribe: (() => void) | undefined;
  private readonly tickMs: number;
  private readonly leaseMs: number;

  constructor(private readonly deps: JobServiceDeps) {
    this.tickMs = deps.tickMs ?? 500;
    this.leaseMs = deps.leaseMs ?? 10_000;
  }

  start(): void {
    this.unsubscribe = this.deps.events.subscribe((e) => {
      if (e.type === 'device.online') this.poke();
    });
    this.timer = setInterval(() => this.poke(), this.tickMs);
    this.poke();
  }

  /** Stops stepping; runs in flight keep their leases until they lapse (another replica takes over). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
  }

  async create(input: JobCreate, principal: Principal): Promise<JobDetail> {
    const kind = JobKinds[input.operation.kind];
    if (!hasPermission(principal.permissions, kind.permission)) throw new EdgehookError('FORBIDDEN', `a ${input.operation.kind} job needs the ${kind.permission} permission`);
    if (input.operation.kind === 'agent-update' && !this.deps.agentUpdater) throw new EdgehookError('BAD_REQUEST', 'agent-update jobs need the agent updater, which this control plane does not have');
    const devices = await this.select(input.select);
    const total = devices.length;
    const size = Math.max(1, Math.min(total, input.rollout.batch ? sizeOf(input.rollout.batch, total) : total));
    const now = this.deps.clock.now();
    const id = newId();
    await repo.insertJob(this.deps.db, {
      id,
      kind: input.operation.kind,
      operation: input.operation,
      selection: input.select,
      rollout: input.rollout,
      createdBy: principal.username,
      now,
      expiresAt: now + input.rollout.expiresInMs,
      batches: Math.ceil(total / size),
      devices: devices.map((d, i) => ({ id: d.id, name: d.name, batch: Math.floor(i / size) })),
    });
    this.deps.log.info('job created', { jobId: id, kind: input.operation.kind, devices: total, batches: Math.ceil(total / size), by: principal.username });
    this.poke();
    return this.detail(id);
  }

  /** The devices a selection names, in name order; a filter that matches nothing is the caller's mistake. */
  private async select(sel: JobSelection): Promise<Array<{ id: string; name: string }>> {
    const all = (await listDevices(this.deps.db)).map((d) => ({ id: d.id, name: d.name, tags: parseJsonColumn(d.tags, [], isStringArray), profile: d.profile, online: d.online === 1 }));
    for (const tag of sel.tags) if (!all.some((d) => d.tags.includes(tag))) throw new EdgehookError('BAD_REQUEST', `no device has the tag "${tag}"`);
    const byRef = new Map<string, (typeof all)[number]>();
    for (const d of all) byRef.set(d.id, d).set(d.name, d);
    for (const n of sel.names) if (!byRef.has(n)) throw new EdgehookError('BAD_REQUEST', `unknown device "${n}"`);
    const named = new Set(sel.names.map((n) => byRef.get(n)?.id));
    const chosen = all.filter(
      (d) =>
        sel.tags.every((t) => d.tags.includes(t)) &&
        (sel.names.length === 0 || named.has(d.id)) &&
        (sel.query.profile === undefined || d.profile === sel.query.profile) &&
        (sel.query.online === undefined || d.online === sel.query.online),
    );
    if (chosen.length === 0) throw new EdgehookError('BAD_REQUEST', 'no device matches the selection');
    return chosen.sort((a, b) => a.name.localeCompare(b.name));
  }

  async cancel(id: string, by: string): Promise<JobDetail> {
    const job = await repo.findJob(this.deps.db, id);
    if (!job) throw new EdgehookError('NOT_FOUND', `job ${id} not found`);
    if (job.state !== 'running') throw new EdgehookError('CONFLICT', `job ${id} is already ${job.state}`);
    if (await repo.stopJob(this.deps.db, id, 'cancelled', `cancelled by ${by}`)) await repo.moveRows(this.deps.db, id, ['queued', 'waiting'], 'cancelled', `job cancelled by ${by}`, this.deps.clock.now());
    this.poke();
    return this.detail(id);
  }

  async list(filter: { state?: JobState | undefined; limit: number }): Promise<JobView[]> {
    const rows = await repo.listJobs(this.deps.db, filter);
    const counts = await repo.countsFor(this.deps.db, rows.map((r) => r.id));
    return rows.map((r) => this.view(r, counts.get(r.id) ?? repo.emptyCounts()));
  }

  async detail(id: string): Promise<JobDetail> {
    const job = await repo.findJob(this.deps.db, id);
    if (!job) throw new EdgehookError('NOT_FOUND', `job ${id} not found`);
    const counts = (await repo.countsFor(this.deps.db, [id])).get(id) ?? repo.emptyCounts();
    const devices = await repo.jobDevices(this.deps.db, id);
    return {
      ...this.view(job, counts),
      devices: devices.map((d) => ({ deviceId: d.device_id, name: d.device_name, batch: d.batch, status: z.catch(JobDeviceStatus, 'failed').parse(d.status), exitCode: d.exit_code, output: d.output, message: d.message, startedAt: d.started_at, finishedAt: d.finished_at })),
    };
  }

  private view(r: repo.JobRow, counts: JobCounts): JobView {
    const state = z.catch(JobState, 'running').parse(r.state);
    const operation = stored(JobOperation, r.operation, 'operation');
    return { id: r.id, kind: operation.kind, operation, select: stored(JobSelection, r.selection, 'selection'), rollout: stored(StoredRollout, r.rollout, 'rollout'), state, message: r.message, createdBy: r.created_by, createdAt: r.created_at, expiresAt: r.expires_at, finishedAt: r.finished_at, batch: r.batch, batches: r.batches, counts };
  }

  /** Runs a step soon; steps never overlap (one more follows if asked for during one). */
  poke(): void {
    if (this.stopped) return;
    if (this.stepping) {
      this.again = true;
      return;
    }
    this.stepping = true;
    void this.stepAll()
      .catch((err: unknown) => this.deps.log.warn('job step failed', { err }))
      .finally(() => {
        this.stepping = false;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.poke());
        }
      });
  }

  private async stepAll(): Promise<void> {
    const now = this.deps.clock.now();
    if (this.inflight.size > 0 && now - this.lastRenew > this.leaseMs / 4) {
      this.lastRenew = now;
      await repo.renewLeases(this.deps.db, this.deps.instanceId, now + this.leaseMs);
    }
    for (const job of await repo.unfinishedJobs(this.deps.db)) {
      // One job's trouble (a row that no longer parses) must not stall the others.
      await this.step(job, now).catch((err: unknown) => this.deps.log.warn('job step failed', { jobId: job.id, err }));
    }
  }

  private async step(job: repo.JobRow, now: number): Promise<void> {
    const { db } = this.deps;
    const rollout = stored(StoredRollout, job.rollout, 'rollout');
    const operation = stored(JobOperation, job.operation, 'operation');
    if (now >= Date.parse(job.expires_at)) await repo.moveRows(db, job.id, ['queued', 'waiting'], 'timed-out', 'the job expired before the device ran it', now);
    let counts = (await repo.countsFor(db, [job.id])).get(job.id) ?? repo.emptyCounts();
    const failures = counts.failed + counts['timed-out'];
    if (job.state === 'running' && rollout.abortAfter && failures >= sizeOf(rollout.abortAfter, counts.total)) {
      if (await repo.stopJob(db, job.id, 'aborted', `aborted after ${failures} failed devices`)) {
        await repo.moveRows(db, job.id, ['queued', 'waiting'], 'cancelled', `job aborted after ${failures} failed devices`, now);
        this.deps.log.warn('job aborted', { jobId: job.id, failures });
      }
      return this.announce(job.id, now);
    }
    if (job.state === 'running') {
      // The next batch starts once every released device has finished or is waiting (offline), after the pause.
      if (job.batch < job.batches - 1 && (await repo.unsettledCount(db, job)) === 0) {
        if (job.batch_settled_at === null) await repo.markBatchSettled(db, job.id, job.batch, now);
        else if (now >= Date.parse(job.batch_settled_at) + rollout.pauseMs && (await repo.releaseBatch(db, job.id, job.batch))) job = { ...job, batch: job.batch + 1, batch_settled_at: null };
      }
      const offline: string[] = [];
      const gone: string[] = [];
      const needsOnline = JobKinds[operation.kind].online;
      for (const row of await repo.startable(db, job, now)) {
        const key = `${job.id}/${row.device_id}`;
        if (this.inflight.has(key)) continue;
        if (row.online === null) {
          gone.push(row.device_id);
          continue;
        }
        if (needsOnline && row.online !== 1) {
          if (row.status === 'queued') offline.push(row.device_id);
          continue;
        }
        if (!(await repo.claimRun(db, job.id, row.device_id, this.deps.instanceId, now, this.leaseMs))) continue;
        this.launch(job, operation, rollout, row.device_id, key);
      }
      await repo.moveRows(db, job.id, ['queued'], 'waiting', 'the device is offline: it runs when it connects', now, offline);
      await repo.moveRows(db, job.id, ['queued', 'waiting'], 'cancelled', 'the device was deleted', now, gone);
    }
    counts = (await repo.countsFor(db, [job.id])).get(job.id) ?? repo.emptyCounts();
    if (counts.queued + counts.waiting + counts.running === 0) {
      const state: JobState = counts.failed + counts['timed-out'] > 0 ? 'failed' : counts.cancelled > 0 ? 'cancelled' : 'succeeded';
      if (await repo.finishJob(db, job.id, state, now)) this.deps.log.info('job finished', { jobId: job.id, counts });
    }
    await this.announce(job.id, now);
  }

  private launch(job: repo.JobRow, operation: JobOperation, rollout: JobRollout, deviceId: string, key: string): void {
    const run = (async () => {
      const outcome = await runOperation(this.deps, operation, { jobId: job.id, deviceId, createdBy: job.created_by, timeoutMs: rollout.timeoutMs });
      // Shutting down: the calls were cut, not answered. The claim lapses and the next replica asks
      // again with the same request id, which the agent answers from its first run.
      if (this.stopped) return;
      await repo.finishRun(this.deps.db, job.id, deviceId, this.deps.instanceId, outcome, this.deps.clock.now());
    })()
      .catch((err: unknown) => this.deps.log.warn('job run not recorded', { jobId: job.id, deviceId, err }))
      .finally(() => {
        this.inflight.delete(key);
        this.poke();
      });
    this.inflight.set(key, run);
  }

  /** Progress on /api/events: when the counts changed, at most every 250 ms per job (always the last). */
  private async announce(jobId: string, now: number): Promise<void> {
    const job = await repo.findJob(this.deps.db, jobId);
    if (!job) return;
    const counts = (await repo.countsFor(this.deps.db, [jobId])).get(jobId) ?? repo.emptyCounts();
    const state = this.view(job, counts).state;
    const key = `${state}:${JSON.stringify(counts)}`;
    const last = this.announced.get(jobId);
    if (last?.key === key) return;
    if (last && now - last.at < 250 && job.finished_at === null) return;
    this.announced.set(jobId, { key, at: now });
    if (job.finished_at !== null) setTimeout(() => this.announced.delete(jobId), 60_000).unref();
    await this.deps.events.announce({ type: 'job.updated', jobId, ts: now, state, counts });
  }
}
