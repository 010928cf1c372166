/** Forks bench/fleet-sim.ts and calls it over IPC: one request id per command, one answer each. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './proc.js';

export type SimCommand =
  | { cmd: 'enroll'; server: string; token: string; count: number; concurrency: number }
  /** Agents provisioned outside the API (bulk): their saved credentials. */
  | { cmd: 'adopt'; agents: Array<{ deviceId: string; password: string; url: string }> }
  | { cmd: 'connect'; batch: number; batchTimeoutMs: number; totalTimeoutMs: number }
  | { cmd: 'mark' }
  | { cmd: 'restart-report' }
  | { cmd: 'inspect'; ids: string[] }
  | { cmd: 'status' }
  | { cmd: 'loop-reset' }
  | { cmd: 'loop' }
  /** Every agent publishes one telemetry batch every `everyMs` (spread evenly) until `telemetry-stop`. */
  | { cmd: 'telemetry-start'; everyMs: number }
  | { cmd: 'telemetry-stop'; drainMs?: number }
  /** How often the bench action ran per agent for this marker (jobs bench). */
  | { cmd: 'runs'; marker: string }
  | { cmd: 'stop' };

export interface EnrollResult {
  ms: number;
  enrolled: number;
  failures: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
  deviceIds: string[];
}
export interface ConnectResult {
  ms: number;
  connected: number;
  all: boolean;
  slowBatches: number;
}
export interface RestartReport {
  markAt: number;
  connectedNow: number;
  total: number;
  downAt: Array<number | null>;
  upAt: Array<number | null>;
  closesSinceMark: number[];
  retryDelaysMs: number[];
}
export interface SimStatus {
  connected: number;
  total: number;
  rssKb: number;
  logCounts: Record<string, number>;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class SimHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;

  private constructor(readonly child: ChildProcess, onProgress: (p: { connected: number; total: number }) => void) {
    child.on('message', (raw: unknown) => {
      const m = raw as { id?: number; ok?: boolean; result?: unknown; error?: string; event?: string; connected?: number; total?: number };
      if (m.event === 'progress') return onProgress({ connected: m.connected ?? 0, total: m.total ?? 0 });
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`fleet sim: ${m.error ?? 'failed'}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`fleet sim exited (${code ?? signal})`));
      this.pending.clear();
    });
  }

  static async start(onProgress: (p: { connected: number; total: number }) => void = () => undefined): Promise<SimHandle> {
    const child = fork(join(REPO_ROOT, 'bench/fleet-sim.ts'), [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`fleet sim exited before it was ready (${code})`)));
      const onMsg = (m: unknown): void => {
        if ((m as { event?: string }).event !== 'ready') return;
        child.off('message', onMsg);
        child.removeAllListeners('exit');
        resolve();
      };
      child.on('message', onMsg);
    });
    return new SimHandle(child, onProgress);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  call(msg: Extract<SimCommand, { cmd: 'enroll' }>): Promise<EnrollResult>;
  call(msg: Extract<SimCommand, { cmd: 'connect' }>): Promise<ConnectResult>;
  call(msg: Extract<SimCommand, { cmd: 'restart-report' }>): Promise<RestartReport>;
  call(msg: Extract<SimCommand, { cmd: 'status' }>): Promise<SimStatus>;
  call(msg: Extract<SimCommand, { cmd: 'inspect' }>): Promise<Record<string, unknown>>;
  call(msg: Extract<SimCommand, { cmd: 'loop' }>): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }>;
  call(msg: Extract<SimCommand, { cmd: 'runs' }>): Promise<{ ranOnce: number; never: number; duplicated: number; extraRuns: number }>;
  call(msg: SimCommand): Promise<unknown>;
  call(msg: SimCommand): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error('fleet sim is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id });
    });
  }

  /** Closes every link cleanly, then ends the process. */
  async stop(): Promise<number> {
    if (this.exited) return 0;
    let ms = 0;
    try {
      ms = ((await Promise.race([this.call({ cmd: 'stop' }), new Promise((r) => setTimeout(() => r({ ms: NaN }), 60_000))])) as { ms: number }).ms;
    } finally {
      const gone = new Promise((r) => this.child.once('exit', r));
      if (!this.exited) {
        this.child.disconnect();
        setTimeout(() => this.child.kill('SIGKILL'), 5000).unref();
        await gone;
      }
    }
    return ms;
  }
}
