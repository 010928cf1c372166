import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { EdgehookError, JobOperation, type Clock, type JobKind, type Logger } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import type { RpcClient } from '../devices/rpc.client.js';
import { findDevice, updateDevice } from '../devices/devices.repository.js';
import { isStringArray, parseJsonColumn } from '../db/ids.js';
import { applyDeclaredSet } from '../containers/servers.routes.js';
import { getDeclaredSet, putDeclaredSet } from '../containers/servers.repository.js';
import type { RunOutcome } from './jobs.repository.js';

/** The agent updater (another part builds it): absent, agent-update jobs are refused at creation. */
export interface AgentUpdater {
  update(deviceId: string, opts: { version?: string }): Promise<{ status: 'succeeded' | 'failed' | 'rolled-back'; version: string; message?: string }>;
}

export interface KindDeps {
  db: Kysely<Database>;
  rpc: RpcClient;
  clock: Clock;
  log: Logger;
  agentUpdater?: AgentUpdater | undefined;
}

export interface RunContext {
  jobId: string;
  deviceId: string;
  createdBy: string | null;
  timeoutMs: number;
}

/** How much of a run's output the job keeps per device. */
export const OUTPUT_TAIL = 4096;

/**
 * The RPC request id of one device's run: the same for every send (a restarted replica, another
 * replica taking over a lapsed lease), so the agent's dispatcher answers it from the first run.
 */
export function runRequestId(jobId: string, deviceId: string): string {
  return `job-${createHash('sha256').update(`${jobId}\n${deviceId}`).digest('hex').slice(0, 40)}`;
}

type Spec<K extends JobKind> = Extract<JobOperation, { kind: K }>['spec'];
type Runner<K extends JobKind> = (deps: KindDeps, spec: Spec<K>, ctx: RunContext) => Promise<RunOutcome>;

async function runProcess(deps: KindDeps, spec: Spec<'action'> | Spec<'command'>, ctx: RunContext): Promise<RunOutcome> {
  // The agent cancels the process at timeoutMs; the call allows for the answer to travel back.
  const res = await deps.rpc.call(ctx.deviceId, 'processes.run', { spec, timeoutMs: ctx.timeoutMs, tailBytes: OUTPUT_TAIL }, { timeoutMs: ctx.timeoutMs + 15_000, requestId: runRequestId(ctx.jobId, ctx.deviceId) });
  const exitCode = res.result.exitCode ?? null;
  if (res.timedOut) return { status: 'timed-out', exitCode, output: res.output, message: `still running after ${ctx.timeoutMs} ms: cancelled` };
  if (res.result.status === 'fulfilled') return { status: 'succeeded', exitCode: exitCode ?? 0, output: res.output };
  return { status: 'failed', exitCode, output: res.output, message: res.result.reason };
}

/** One entry per kind; the spec each gets is the one its JobKinds entry validated. */
const runners: { [K in JobKind]: Runner<K> } = {
  action: runProcess,
  command: runProcess,
  async config(deps, spec, ctx) {
    const device = await findDevice(deps.db, ctx.deviceId);
    if (!device) return { status: 'failed', message: 'the device was deleted' };
    const tags = new Set(parseJsonColumn(device.tags, [], isStringArray));
    for (const t of spec.addTags) tags.add(t);
    for (const t of spec.removeTags) tags.delete(t);
    await updateDevice(deps.db, ctx.deviceId, { tags: [...tags].sort() });
    return { status: 'succeeded', message: `tags: ${[...tags].sort().join(', ') || '(none)'}` };
  },
  async servers(deps, spec, ctx) {
    const set = await getDeclaredSet(deps.db, ctx.deviceId);
    const name = 'put' in spec ? spec.put.name : spec.remove;
    const servers = set.servers.filter((s) => s.name !== name);
    if ('put' in spec) servers.push(spec.put);
    const revision = await putDeclaredSet(deps.db, ctx.deviceId, servers, ctx.createdBy ?? 'job', deps.clock.now());
    const result = await applyDeclaredSet(deps, ctx.deviceId, servers, revision);
    const failedStep = result.steps.find((s) => s.error !== undefined);
    return result.ok ? { status: 'succeeded', message: `declared set revision ${revision} applied (${result.steps.length} steps)` } : { status: 'failed', message: failedStep?.error ?? 'the declared set did not apply' };
  },
  async 'agent-update'(deps, spec, ctx) {
    if (!deps.agentUpdater) return { status: 'failed', message: 'this control plane has no agent updater' };
    const res = await deps.agentUpdater.update(ctx.deviceId, spec.version !== undefined ? { version: spec.version } : {});
    const message = res.message ?? (res.status === 'rolled-back' ? `rolled back to ${res.version}` : `version ${res.version}`);
    return { status: res.status === 'succeeded' ? 'succeeded' : 'failed', message };
  },
};

/** Runs one device's share of an operation; errors become the device's outcome, never a crash. */
export async function runOperation(deps: KindDeps, operation: JobOperation, ctx: RunContext): Promise<RunOutcome> {
  try {
    switch (operation.kind) {
      case 'action':
        return await runners.action(deps, operation.spec, ctx);
      case 'command':
        return await runners.command(deps, operation.spec, ctx);
      case 'config':
        return await runners.config(deps, operation.spec, ctx);
      case 'servers':
        return await runners.servers(deps, operation.spec, ctx);
      case 'agent-update':
        return await runners['agent-update'](deps, operation.spec, ctx);
    }
  } catch (err) {
    if (err instanceof EdgehookError) {
      // The request never reached the broker: nothing ran, it is tried again when the device is back.
      if (err.code === 'DEVICE_OFFLINE') return { status: 'waiting', message: err.message };
      if (err.code === 'DEVICE_TIMEOUT') return { status: 'timed-out', message: err.message };
      return { status: 'failed', message: `${err.code}: ${err.message}` };
    }
    deps.log.error('job run failed', { jobId: ctx.jobId, deviceId: ctx.deviceId, err });
    return { status: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}
