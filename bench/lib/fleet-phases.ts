/** The two fleet-bench phases that own processes: the control-plane restart and the idle real agent. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './api.js';
import { AGENT_MAIN, memoryOf, sleep, startControlPlaneProcess, startProcess, tcpListenCounters, waitFor, type ControlPlaneProcess } from './proc.js';
import { percentile, summarize, type Summary } from './report.js';
import type { SimHandle } from './sim-handle.js';

export interface RestartResult {
  /** When SIGTERM was sent (traces count ms from here). */
  sigtermAt: string;
  shutdownMs: number;
  shutdownKilled: boolean;
  /** SIGTERM to the new process answering /api/health. */
  downtimeMs: number;
  /** Spawn of the new process to /api/health. */
  startupMs: number;
  /** From SIGTERM, per the simulated agents' own `connected` events. */
  simP99Ms: number;
  simP100Ms: number;
  /** The same, counted from the new control plane being ready. */
  simP99FromReadyMs: number;
  simP100FromReadyMs: number;
  /** From SIGTERM, per GET /api/devices?online=true polled every second. */
  apiP99Ms: number | null;
  apiP100Ms: number | null;
  backByDeadline: number;
  total: number;
  /** Reconnect attempts each agent needed (closes seen after the mark). */
  attempts: Summary;
  retryDelays: Summary;
  timeline: Array<{ tMs: number; simConnected: number; apiOnline: number | null }>;
  /** Kernel counters during the phase: connections dropped because the accept queue was full. */
  tcp: { listenOverflows: number; synCookies: number };
  /** The control plane's warnings/errors after the restart, a few samples of each. */
  controlPlaneWarnings: Record<string, string[]>;
  /** With EDGEHOOK_BENCH_TRACE=1: MQTT event traces of the clients named in those warnings. */
  traces?: Record<string, string[]>;
}

/** SIGTERMs the control plane, starts it again on the same ports and data, and times the fleet's return. */
export async function restartPhase(
  cp: ControlPlaneProcess,
  sim: SimHandle,
  opts: { port: number; mqttPort: number; dataDir: string; adminPassword: string; timeoutMs: number; total: number },
): Promise<{ cp: ControlPlaneProcess; result: RestartResult }> {
  await sim.call({ cmd: 'mark' });
  const tcpBefore = tcpListenCounters();
  const t0 = Date.now();
  const stopped = await cp.stop(15_000);
  const next = await startControlPlaneProcess(opts);
  const readyAt = Date.now();
  const api = new ApiClient(next.url, '', 4);
  await api.login(opts.adminPassword);
  const need99 = Math.ceil(opts.total * 0.99);
  let apiP99: number | null = null;
  let apiP100: number | null = null;
  const timeline: RestartResult['timeline'] = [];
  while (Date.now() - t0 < opts.timeoutMs) {
    const status = await sim.call({ cmd: 'status' });
    const online = await api.onlineCount().catch(() => null);
    const t = Date.now() - t0;
    timeline.push({ tMs: t, simConnected: status.connected, apiOnline: online });
    if (online !== null && online >= need99) apiP99 ??= t;
    if (online !== null && online >= opts.total) apiP100 ??= t;
    if (status.connected >= opts.total && apiP100 !== null) break;
    await sleep(1000);
  }
  api.close();
  const tcpAfter = tcpListenCounters();
  const report = await sim.call({ cmd: 'restart-report' });
  const back = report.upAt.map((u) => (u === null ? Infinity : u - t0)).sort((a, b) => a - b);
  const at = (p: number): number => percentile(back, p);
  const result: RestartResult = {
    sigtermAt: new Date(t0).toISOString(),
    shutdownMs: Math.round(stopped.ms),
    shutdownKilled: stopped.killed,
    downtimeMs: readyAt - t0,
    startupMs: Math.round(next.startupMs),
    simP99Ms: at(99),
    simP100Ms: at(100),
    simP99FromReadyMs: at(99) - (readyAt - t0),
    simP100FromReadyMs: at(100) - (readyAt - t0),
    apiP99Ms: apiP99,
    apiP100Ms: apiP100,
    backByDeadline: back.filter((v) => v <= opts.timeoutMs).length,
    total: opts.total,
    attempts: summarize(report.closesSinceMark),
    retryDelays: summarize(report.retryDelaysMs),
    timeline,
    tcp: { listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows, synCookies: tcpAfter.synCookies - tcpBefore.synCookies },
    controlPlaneWarnings: Object.fromEntries([...next.output.samples].filter(([k]) => /^(warn|error):/.test(k))),
  };
  if (process.env['EDGEHOOK_BENCH_TRACE'] === '1') {
    const ids = Object.values(result.controlPlaneWarnings)
      .flat()
      .map((line) => (JSON.parse(line) as { clientId?: string }).clientId)
      .filter((id): id is string => typeof id === 'string');
    result.traces = await sim.call({ cmd: 'trace', ids });
  }
  return { cp: next, result };
}

export interface IdleAgentResult {
  /** Spawn to the control plane reporting the device online. */
  onlineAfterMs: number;
  rssKb: number;
  hwmKb: number;
  waitedS: number;
  pingOk: boolean;
  logs: Record<string, number>;
}

/** One real agent process (agent/dist/main.js), enrolled fresh, measured after `waitS` idle seconds online. */
export async function idleAgentPhase(api: ApiClient, serverUrl: string, waitS: number): Promise<IdleAgentResult> {
  const token = await api.enrollmentToken(1);
  const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-agent-'));
  const started = performance.now();
  const agent = startProcess('agent', [AGENT_MAIN, '--server', serverUrl, '--enroll', token, '--state-dir', stateDir, '--profile', 'simulated', '--hostname', 'bench-idle-agent', '--log-level', 'warn', '--log-format', 'json']);
  try {
    const deviceId = await waitFor(
      'the idle agent to enroll',
      async () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited with ${agent.child.exitCode}:\n${agent.output.tail.join('\n')}`);
        return (JSON.parse(await readFile(join(stateDir, 'credentials.json'), 'utf8')) as { deviceId: string }).deviceId;
      },
      30_000,
      100,
    );
    await waitFor('the idle agent to be online', async () => ((await api.expect<{ online: boolean }>(200, 'GET', `/api/devices/${deviceId}`)).online ? true : undefined), 30_000, 100);
    const onlineAfterMs = performance.now() - started;
    await sleep(waitS * 1000);
    const mem = memoryOf(agent.pid);
    const ping = await api.call('POST', `/api/devices/${deviceId}/ping`);
    return { onlineAfterMs: Math.round(onlineAfterMs), rssKb: mem.rssKb, hwmKb: mem.hwmKb, waitedS: waitS, pingOk: ping.status === 200, logs: agent.output.summary() };
  } finally {
    await agent.stop(5000);
    await rm(stateDir, { recursive: true, force: true });
  }
}
