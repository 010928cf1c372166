/** The two fleet-bench phases that own processes: the control-plane restart and the idle real agent. */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './api.js';
import { launchAgent, type AgentLaunch } from './installed-agent.js';
import { AGENT_MAIN, freePort, memoryOf, sleep, startControlPlaneProcess, startProcess, tcpListenCounters, waitFor, type ControlPlaneProcess } from './proc.js';
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
  /** Broker log lines "connection refused ... already connected" from the new process. */
  refusedAlreadyConnected: number;
  /** Kernel counters during the phase: connections dropped because the accept queue was full. */
  tcp: { listenOverflows: number; synCookies: number };
  /** The control plane's warnings/errors after the restart, a few samples of each. */
  controlPlaneWarnings: Record<string, string[]>;
  /** Devices whose link is connected but the API says offline when the phase ended (a presence bug), inspected. */
  stuckOffline: { count: number; apiOfflineTotal: number; devices: Record<string, unknown> };
  /** With EDGEHOOK_BENCH_TRACE=1: the clients named in those warnings, inspected (with MQTT event traces). */
  traces?: Record<string, unknown>;
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
  let lastOnline: number | null = null;
  let lastChangeAt = 0;
  while (Date.now() - t0 < opts.timeoutMs) {
    const status = await sim.call({ cmd: 'status' });
    const online = await api.onlineCount().catch(() => null);
    const t = Date.now() - t0;
    timeline.push({ tMs: t, simConnected: status.connected, apiOnline: online });
    if (online !== null && online >= need99) apiP99 ??= t;
    if (online !== null && online >= opts.total) apiP100 ??= t;
    if (online !== lastOnline) [lastOnline, lastChangeAt] = [online, t];
    // Done when all are back, or when every link is up but the API count has been stuck for 15 s.
    if (status.connected >= opts.total && (apiP100 !== null || t - lastChangeAt > 15_000)) break;
    await sleep(1000);
  }
  const offline = await api.expect<Array<{ id: string; lastSeen: string | null }>>(200, 'GET', '/api/devices?online=false').catch(() => []);
  const inspected = await sim.call({ cmd: 'inspect', ids: offline.slice(0, 50).map((d) => d.id) });
  const stuck = Object.fromEntries(offline.filter((d) => (inspected[d.id] as { connected?: boolean } | undefined)?.connected).map((d) => [d.id, { apiLastSeen: d.lastSeen, ...(inspected[d.id] as object) }]));
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
    refusedAlreadyConnected: [...next.output.counts].filter(([k]) => k.includes('already connected')).reduce((n, [, v]) => n + v, 0),
    stuckOffline: { count: Object.keys(stuck).length, apiOfflineTotal: offline.length, devices: stuck },
    tcp: { listenOverflows: tcpAfter.listenOverflows - tcpBefore.listenOverflows, synCookies: tcpAfter.synCookies - tcpBefore.synCookies },
    controlPlaneWarnings: Object.fromEntries([...next.output.samples].filter(([k]) => /^(warn|error):/.test(k))),
  };
  if (process.env['EDGEHOOK_BENCH_TRACE'] === '1') {
    const ids = Object.values(result.controlPlaneWarnings)
      .flat()
      .map((line) => (JSON.parse(line) as { clientId?: string }).clientId)
      .filter((id): id is string => typeof id === 'string');
    result.traces = await sim.call({ cmd: 'inspect', ids });
  }
  return { cp: next, result };
}

export interface IdleAgentResult {
  /** Spawn of the measured process to the control plane reporting the device online. */
  onlineAfterMs: number;
  /** VmRSS `waitS` seconds after online (the figure the target is about). */
  rssKb: number;
  /** VmRSS once per second from online to `settleS`: V8 gives memory back late, so one reading misleads. */
  rssSeriesKb: number[];
  /** Lowest VmRSS in the last 5 s of the series. */
  settledRssKb: number;
  hwmKb: number;
  waitedS: number;
  pingOk: boolean;
  logs: Record<string, number>;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
}

/**
 * One real agent process, enrolled fresh, measured `waitS` s after online and until `settleS`.
 * `agent` picks the program (the repository's agent/dist by default, or a package's bin), its node
 * flags and how it enrolls: `installed` (default) as install.sh does, `self` with `--enroll` in the
 * measured process (bench/lib/installed-agent.ts).
 */
export async function idleAgentPhase(api: ApiClient, serverUrl: string, waitS: number, settleS = waitS, agent_: Partial<AgentLaunch> = {}): Promise<IdleAgentResult & { cpuPct: number }> {
  const token = await api.enrollmentToken(1);
  const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-agent-'));
  const launch: AgentLaunch = { main: AGENT_MAIN, nodeArgs: [], enroll: 'installed', ...agent_, env: { ...agent_.env } };
  // Its local telemetry endpoint on a free port (by env, so an agent without the feature ignores it):
  // the default 7677 may be held by another agent on this machine.
  launch.env['EDGEHOOK_TELEMETRY_PORT'] ??= String(await freePort());
  const { agent, cleanup } = await launchAgent(launch, serverUrl, token, stateDir);
  const started = performance.now();
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
    await waitFor('the idle agent to be online', async () => ((await api.expect<{ online: boolean }>(200, 'GET', `/api/devices/${deviceId}`)).online ? true : undefined), 30_000, 100).catch((err: unknown) => {
      // Why it never came online is in its own output.
      throw new Error(`${err instanceof Error ? err.message : String(err)}; the agent's last output:\n${agent.output.tail.join('\n')}`);
    });
    const onlineAfterMs = performance.now() - started;
    const series: number[] = [];
    let rssKb = NaN;
    let cpuStart: { ticks: number; at: number } | undefined;
    for (let s = 1; s <= Math.max(waitS, settleS); s++) {
      await sleep(1000);
      series.push(memoryOf(agent.pid).rssKb);
      if (s === waitS) {
        rssKb = series.at(-1) ?? NaN;
        // EDGEHOOK_BENCH_SMAPS_DIR: keep the agent's memory map at this sample, to see what each MB is.
        if (process.env['EDGEHOOK_BENCH_SMAPS_DIR']) writeFileSync(join(process.env['EDGEHOOK_BENCH_SMAPS_DIR'], `smaps-${agent.pid}`), readFileSync(`/proc/${agent.pid}/smaps`));
        cpuStart = { ticks: cpuTicks(agent.pid), at: performance.now() };
      }
    }
    // Share of one core between "waitS after online" and the end of the settle period (USER_HZ 100).
    const cpuPct = cpuStart ? ((cpuTicks(agent.pid) - cpuStart.ticks) / 100 / ((performance.now() - cpuStart.at) / 1000)) * 100 : NaN;
    const hwmKb = memoryOf(agent.pid).hwmKb;
    const ping = await api.call('POST', `/api/devices/${deviceId}/ping`);
    return { cpuPct: Math.round(cpuPct * 100) / 100, onlineAfterMs: Math.round(onlineAfterMs), rssKb, rssSeriesKb: series, settledRssKb: Math.min(...series.slice(-5)), hwmKb, waitedS: waitS, pingOk: ping.status === 200, logs: agent.output.summary() };
  } finally {
    await agent.stop(5000);
    await cleanup();
    await rm(stateDir, { recursive: true, force: true });
  }
}
