/**
 * Lean agent benchmark (issue 12): the bundled agent package idle on a real control plane, against a
 * reference bundle measured in the same run (e.g. one built from an earlier commit), rounds
 * interleaved so machine load hits both alike. A last run takes MQTT over websocket, so the lazily
 * evaluated websocket transport is shown to connect.
 *
 *   npm run build:agent && EDGEHOOK_BENCH_LEAN_REFERENCE=/path/to/old/bin/edgehook-agent node --import tsx bench/lean-agent.bench.ts
 *   (or: npm run bench -- lean-agent --lean-reference /path/to/old/bin/edgehook-agent)
 *
 * Without a reference it measures the bundle alone; without a built package it says so and skips.
 * Several references, separated by `:` as in PATH, are measured in the same rounds (`reference 1`, ...).
 * EDGEHOOK_BENCH_LEAN_ROUNDS (3), EDGEHOOK_BENCH_IDLE_AGENT_WAIT_S (10), EDGEHOOK_BENCH_IDLE_AGENT_SETTLE_S (15),
 * EDGEHOOK_BENCH_LEAN_NODE_ARGS (the node flags; default those of install.sh's systemd unit),
 * EDGEHOOK_BENCH_LEAN_UNIT_ENV (1; 0 runs without the unit's Environment= lines),
 * EDGEHOOK_BENCH_LEAN_ENROLL (installed,self): `installed` enrolls with a separate `--enroll-only`
 * process and starts the package's launcher from the stored credentials, as install.sh and its unit
 * do; `self` passes `--enroll` to the measured process (the earlier figures), which then also
 * carries the enrollment's HTTP client. EDGEHOOK_BENCH_SMAPS_DIR=DIR keeps each agent's
 * /proc/<pid>/smaps at the measured sample (smaps-<pid>), to see what each MB is.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { idleAgentPhase, type IdleAgentResult } from './lib/fleet-phases.js';
import { unitEnvironment, unitNodeArgs, type EnrollMode } from './lib/installed-agent.js';
import { freePort, REPO_ROOT, startControlPlaneProcess, type ControlPlaneProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, writeResults, type Row } from './lib/report.js';

const ROUNDS = envNumber('EDGEHOOK_BENCH_LEAN_ROUNDS', 3);
const WAIT_S = envNumber('EDGEHOOK_BENCH_IDLE_AGENT_WAIT_S', 10);
const SETTLE_S = envNumber('EDGEHOOK_BENCH_IDLE_AGENT_SETTLE_S', 15);
const REFERENCES = (process.env['EDGEHOOK_BENCH_LEAN_REFERENCE'] ?? '').split(':').filter(Boolean);
const REFERENCE_PROGRAMS = Object.fromEntries(REFERENCES.map((path, i) => [REFERENCES.length === 1 ? 'reference' : `reference ${i + 1}`, path]));
const BUNDLE = join(REPO_ROOT, 'agent/dist-package/edgehook-agent/bin/edgehook-agent');
// As the package's systemd unit runs it; EDGEHOOK_BENCH_LEAN_NODE_ARGS tries other V8 flags.
const NODE_ARGS = process.env['EDGEHOOK_BENCH_LEAN_NODE_ARGS']?.split(/\s+/).filter(Boolean) ?? unitNodeArgs();
// The unit's environment (its glibc malloc tunables); EDGEHOOK_BENCH_LEAN_UNIT_ENV=0 leaves it out.
const UNIT_ENV = process.env['EDGEHOOK_BENCH_LEAN_UNIT_ENV'] === '0' ? {} : unitEnvironment();
const MODES = (process.env['EDGEHOOK_BENCH_LEAN_ENROLL'] ?? 'installed,self').split(',').map((m): EnrollMode => {
  if (m === 'installed' || m === 'self') return m;
  throw new Error(`EDGEHOOK_BENCH_LEAN_ENROLL: ${m} is not installed or self`);
});
const log = (msg: string): void => console.log(`[lean-agent ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) {
    log(`skipped: no agent package at ${BUNDLE} (npm run build:agent builds it)`);
    return;
  }
  for (const ref of REFERENCES) if (!existsSync(ref)) throw new Error(`EDGEHOOK_BENCH_LEAN_REFERENCE: no such file ${ref}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-cp-'));
  let cp: ControlPlaneProcess | undefined;
  const runs: Record<string, Array<IdleAgentResult & { cpuPct: number }>> = {};
  try {
    cp = await startControlPlaneProcess({ port: await freePort(), mqttPort: await freePort(), dataDir, adminPassword: 'bench-admin-password' });
    const api = new ApiClient(cp.url, '', 8);
    await api.login('bench-admin-password');
    log(`node flags ${NODE_ARGS.join(' ')}; unit environment ${JSON.stringify(UNIT_ENV)}; enrollment ${MODES.join(', ')}`);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const enroll of MODES) {
        for (const [program, main] of Object.entries({ ...REFERENCE_PROGRAMS, bundle: BUNDLE })) {
          const name = `${program} (${enroll === 'installed' ? 'as installed' : 'enrolls itself'})`;
          log(`round ${round}/${ROUNDS}: ${name}`);
          const r = await idleAgentPhase(api, cp.url, WAIT_S, SETTLE_S, { main, nodeArgs: NODE_ARGS, enroll, env: UNIT_ENV });
          if (!r.pingOk) throw new Error(`${name}: the idle agent did not answer a ping`);
          (runs[name] ??= []).push(r);
        }
      }
    }
    log('bundle over MQTT-over-websocket (the lazily evaluated ws transport)');
    const ws = await idleAgentPhase(api, cp.url, WAIT_S, WAIT_S, { main: BUNDLE, nodeArgs: NODE_ARGS, enroll: MODES[0] ?? 'installed', env: { ...UNIT_ENV, EDGEHOOK_MQTT_TRANSPORT: 'ws' } });
    if (!ws.pingOk) throw new Error('the bundled agent over websocket did not answer a ping');
    const rows: Row[] = [];
    for (const [name, rs] of Object.entries(runs)) {
      rows.push({ metric: `${name}: RSS ${WAIT_S} s after online (median of ${rs.length})`, value: `${fmt(median(rs.map((r) => r.rssKb)) / 1024)} MB`, target: '<= 50 MB', pass: median(rs.map((r) => r.rssKb)) <= 50 * 1024 });
      rows.push({ metric: `${name}: lowest RSS of the last 5 s (median)`, value: `${fmt(median(rs.map((r) => r.settledRssKb)) / 1024)} MB` });
      rows.push({ metric: `${name}: peak RSS (VmHWM, median)`, value: `${fmt(median(rs.map((r) => r.hwmKb)) / 1024)} MB`, target: '<= 70 MB', pass: median(rs.map((r) => r.hwmKb)) <= 70 * 1024 });
      rows.push({ metric: `${name}: CPU at idle (median)`, value: `${fmt(median(rs.map((r) => r.cpuPct)), 2)}%`, target: '< 0.5%', pass: median(rs.map((r) => r.cpuPct)) < 0.5 });
    }
    rows.push({ metric: 'bundle over websocket: RSS / peak', value: `${fmt(ws.rssKb / 1024)} / ${fmt(ws.hwmKb / 1024)} MB`, target: 'answers a ping', pass: ws.pingOk });
    printTable(`lean agent, ${ROUNDS} rounds interleaved, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`, rows);
    const file = writeResults('lean-agent', { bench: 'lean-agent', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), references: REFERENCE_PROGRAMS, nodeArgs: NODE_ARGS, unitEnv: UNIT_ENV, runs, websocket: ws, rows, loadAverageAtEnd: loadavg() });
    log(`results: ${file}`);
  } finally {
    await cp?.stop(3000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
