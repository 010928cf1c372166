/**
 * Several fleet-sim processes as one (the replicas bench): one process cannot hold 20,000 MQTT
 * clients here, because the VM's hard limit on open files per process is 20,000 (`ulimit -Hn`),
 * and one event loop serving them all adds its own lag to every figure. Agents are split in
 * contiguous slices; answers are merged.
 */
import { SimHandle, type ConnectResult, type RestartReport } from './sim-handle.js';

export interface TelemetryTotals {
  batches: number;
  sent: number;
  resent: number;
  acked: number;
  unacked: number;
  failed: number;
  perDevice: Record<string, number>;
}

export class SimPool {
  private constructor(readonly sims: SimHandle[]) {}

  static async start(processes: number, onProgress: (p: { connected: number; total: number }) => void): Promise<SimPool> {
    const counts: Array<{ connected: number; total: number }> = [];
    const sims = await Promise.all(
      Array.from({ length: Math.max(1, processes) }, (_, i) => {
        counts[i] = { connected: 0, total: 0 };
        return SimHandle.start((p) => {
          counts[i] = p;
          onProgress(counts.reduce((s, c) => ({ connected: s.connected + c.connected, total: s.total + c.total }), { connected: 0, total: 0 }));
        });
      }),
    );
    return new SimPool(sims);
  }

  get pids(): number[] {
    return this.sims.map((s) => s.pid);
  }

  async adopt(agents: Array<{ deviceId: string; password: string; url: string }>): Promise<string[]> {
    const per = Math.ceil(agents.length / this.sims.length);
    const parts = await Promise.all(this.sims.map((s, i) => s.call({ cmd: 'adopt', agents: agents.slice(i * per, (i + 1) * per) }) as Promise<{ deviceIds: string[] }>));
    return parts.flatMap((p) => p.deviceIds);
  }

  /** Every process connects its slice at once, `batch / processes` at a time, so the total pace stays `batch`. */
  async connect(batch: number, batchTimeoutMs: number, totalTimeoutMs: number): Promise<ConnectResult> {
    const each = Math.max(1, Math.round(batch / this.sims.length));
    const parts = await Promise.all(this.sims.map((s) => s.call({ cmd: 'connect', batch: each, batchTimeoutMs, totalTimeoutMs })));
    return { ms: Math.max(...parts.map((p) => p.ms)), connected: parts.reduce((n, p) => n + p.connected, 0), all: parts.every((p) => p.all), slowBatches: parts.reduce((n, p) => n + p.slowBatches, 0) };
  }

  async telemetryStart(everyMs: number): Promise<void> {
    await Promise.all(this.sims.map((s) => s.call({ cmd: 'telemetry-start', everyMs })));
  }

  async mark(): Promise<void> {
    await Promise.all(this.sims.map((s) => s.call({ cmd: 'mark' })));
  }

  async restartReport(): Promise<Pick<RestartReport, 'closesSinceMark' | 'connectedNow' | 'total'>> {
    const parts = await Promise.all(this.sims.map((s) => s.call({ cmd: 'restart-report' })));
    return { closesSinceMark: parts.flatMap((p) => p.closesSinceMark), connectedNow: parts.reduce((n, p) => n + p.connectedNow, 0), total: parts.reduce((n, p) => n + p.total, 0) };
  }

  async telemetryStop(drainMs: number): Promise<TelemetryTotals> {
    const parts = (await Promise.all(this.sims.map((s) => s.call({ cmd: 'telemetry-stop', drainMs })))) as TelemetryTotals[];
    const sum = (k: 'batches' | 'sent' | 'resent' | 'acked' | 'unacked' | 'failed'): number => parts.reduce((n, p) => n + p[k], 0);
    return { batches: sum('batches'), sent: sum('sent'), resent: sum('resent'), acked: sum('acked'), unacked: sum('unacked'), failed: sum('failed'), perDevice: Object.assign({}, ...parts.map((p) => p.perDevice)) };
  }

  async stop(): Promise<void> {
    await Promise.all(this.sims.map((s) => s.stop().catch(() => 0)));
  }
}
