/**
 * Open-loop ping load: requests are scheduled by the clock (not sent when the previous one
 * returns), so a slow server cannot slow the load down and hide its own latency.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ApiClient } from './api.js';
import { summarize, type Summary } from './report.js';

export interface PingResult {
  sent: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Scheduled send time to response, ms (includes any lag of this process in sending). */
  http: Summary;
  /** Actual send to response, ms. */
  httpService: Summary;
  /** The control plane's own `rttMs` (RPC publish to response, measured inside the server). */
  server: Summary;
  /** Achieved rate, requests/s. */
  rate: number;
  /** Event-loop delay of the pinger process itself (p99, ms): its own distortion. */
  pingerLoopDelayP99Ms: number;
}

export async function runPingLoad(api: ApiClient, deviceIds: string[], opts: { rate: number; durationMs: number; timeoutMs?: number }): Promise<PingResult> {
  const pick = (): string => deviceIds[Math.floor(Math.random() * deviceIds.length)] ?? '';
  return runOpenLoop(api, opts, () => ({ method: 'POST', path: `/api/devices/${pick()}/ping`, expectRtt: true }));
}

/**
 * The same open loop for any request: used to split the ping's latency into layers
 * (GET /api/health = HTTP stack only; GET /api/devices/:id = + auth and a device lookup).
 */
export async function runOpenLoop(
  api: ApiClient,
  opts: { rate: number; durationMs: number; timeoutMs?: number },
  next: () => { method: string; path: string; expectRtt?: boolean },
): Promise<PingResult> {
  const interval = 1000 / opts.rate;
  const total = Math.round((opts.durationMs / 1000) * opts.rate);
  const http: number[] = [];
  const service: number[] = [];
  const server: number[] = [];
  const errorKinds: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const fail = (kind: string): void => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  const one = async (scheduledAt: number): Promise<void> => {
    const req = next();
    const sentAt = performance.now();
    try {
      const res = await api.call<{ rttMs?: number; error?: { code?: string } }>(req.method, req.path, undefined, { timeoutMs: opts.timeoutMs ?? 10_000 });
      const done = performance.now();
      if (res.status !== 200 || (req.expectRtt && typeof res.body?.rttMs !== 'number')) {
        fail(`HTTP ${res.status} ${res.body?.error?.code ?? ''}`.trim());
        return;
      }
      http.push(done - scheduledAt);
      service.push(done - sentAt);
      if (typeof res.body?.rttMs === 'number') server.push(res.body.rttMs);
    } catch (err) {
      fail(err instanceof Error ? err.message.slice(0, 80) : String(err));
    }
  };

  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      // Send everything that is due (catches up after a late timer instead of dropping load).
      while (sent < total && start + sent * interval <= now) {
        const p = one(start + sent * interval);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        sent++;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  const elapsedS = (performance.now() - start) / 1000;
  await Promise.all([...inFlight]);
  loop.disable();
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    sent,
    ok: http.length,
    errors,
    errorKinds,
    http: summarize(http),
    httpService: summarize(service),
    server: summarize(server),
    rate: Math.round((sent / elapsedS) * 10) / 10,
    pingerLoopDelayP99Ms: Math.round((loop.percentile(99) / 1e6 - 10) * 100) / 100, // minus the 10 ms sampling interval
  };
}
