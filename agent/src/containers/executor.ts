import { EdgehookError, type ApplyResult, type Clock, type DeclaredServer, type Logger, type PlanStep } from '@edgehook/shared';
import type { HostAccessPolicy } from './host-access.js';
import type { ContainerRuntime, PullListener } from './container-runtime.js';
import { throttledPull } from './pull-progress.js';
import type { FilesService } from './files.service.js';
import { planServers, specHash, toCreateSpec } from './planner.js';
import type { PowerManager } from './power.js';

/**
 * Applies the declared set: plans against what the engine has now, then runs the steps one by one
 * through the power serializer. A failed step only skips the later steps of the same server.
 * Applies run one at a time; while one runs, later requests coalesce: only the latest set is
 * applied next and every waiting caller gets that apply's result.
 */
export class ServersExecutor {
  private active: Promise<ApplyResult> | undefined;
  private next: { servers: DeclaredServer[]; result: Promise<ApplyResult> } | undefined;

  constructor(private readonly deps: { runtime: ContainerRuntime; power: PowerManager; files: FilesService; clock: Clock; log: Logger; hostAccess?: HostAccessPolicy | undefined; onPull?: PullListener | undefined }) {}

  async plan(servers: DeclaredServer[]): Promise<PlanStep[]> {
    return planServers(await this.deps.runtime.list({ all: true }), servers, specHash);
  }

  apply(servers: DeclaredServer[]): Promise<ApplyResult> {
    if (!this.active && !this.next) return this.begin(servers);
    if (this.next) {
      // Latest wins: the queued apply takes this set instead.
      this.next.servers = servers;
      return this.next.result;
    }
    const queued = { servers, result: Promise.resolve<ApplyResult>({ steps: [], ok: true }) };
    queued.result = (this.active ?? Promise.resolve()).then(
      () => this.afterActive(queued),
      () => this.afterActive(queued),
    );
    this.next = queued;
    return queued.result;
  }

  private afterActive(queued: { servers: DeclaredServer[] }): Promise<ApplyResult> {
    this.next = undefined;
    return this.begin(queued.servers);
  }

  private begin(servers: DeclaredServer[]): Promise<ApplyResult> {
    const run: Promise<ApplyResult> = this.applyNow(servers).finally(() => {
      if (this.active === run) this.active = undefined;
    });
    this.active = run;
    return run;
  }

  private async applyNow(servers: DeclaredServer[]): Promise<ApplyResult> {
    const steps = await this.plan(servers);
    const byName = new Map(servers.map((s) => [s.name, s]));
    const failed = new Set<string>();
    const outcomes: ApplyResult['steps'] = [];
    for (const step of steps) {
      const started = this.deps.clock.monotonic();
      if (failed.has(step.server) && step.action !== 'remove') {
        outcomes.push({ step, ok: false, error: 'skipped: an earlier step for this server failed', ms: 0 });
        continue;
      }
      try {
        await this.run(step, byName.get(step.server));
        outcomes.push({ step, ok: true, ms: this.deps.clock.monotonic() - started });
      } catch (err) {
        failed.add(step.server);
        const message = err instanceof Error ? err.message : String(err);
        this.deps.log.warn('server step failed', { step, err: message });
        outcomes.push({ step, ok: false, error: message, ms: this.deps.clock.monotonic() - started });
      }
    }
    return { steps: outcomes, ok: outcomes.every((o) => o.ok) };
  }

  private async run(step: PlanStep, spec: DeclaredServer | undefined): Promise<void> {
    const { runtime, power, files } = this.deps;
    const need = (): DeclaredServer => {
      if (!spec) throw new EdgehookError('INTERNAL', `no declared spec for ${step.server}`);
      return spec;
    };
    switch (step.action) {
      case 'remove':
        return power.exclusive(step.server, async () => {
          await runtime.remove(step.containerId, { force: true });
          await power.refresh(step.server);
        });
      case 'create':
      case 'recreate': {
        const s = need();
        const dataDir = await files.ensureDataDir(s.name);
        const create = toCreateSpec(s, { dataDir, declared: true, hostAccess: this.deps.hostAccess });
        const { onPull } = this.deps;
        // A pull inside the step reports as it goes (throttled), tagged with the server it is for.
        const report = onPull ? throttledPull((p) => onPull({ ...p, server: s.name }), this.deps.clock) : undefined;
        return power.exclusive(s.name, async () => {
          if (step.action === 'recreate') await runtime.remove(s.name, { force: true });
          await runtime.create(create, report ? { onPull: report } : {});
        });
      }
      case 'start':
        await power.run(step.server, 'start');
        return;
      case 'stop':
        await power.run(step.server, 'stop', { timeoutSec: spec?.stopTimeoutSec ?? 10 });
        return;
    }
  }
}
