/**
 * Faults bench: telemetry keeps flowing from a real agent (1 batch/s) while the control plane is
 * killed with SIGKILL, the agent is killed with SIGKILL, and the store's disk fills up (the data
 * dir sits on a small tmpfs that a filler file fills, then frees). At the end every batch the
 * agent made must be stored exactly once. Reported: lost batches (holes in each agent run's
 * sequence range) and duplicated batches (the same collection stored twice), target 0 and 0;
 * recovery times; and a no-fault baseline phase measured in the same run as the reference.
 *
 *   npm run bench -- faults [--fault-cycles 3] [--baseline-s 20]
 *
 * The disk-full cycle needs root (mount -t tmpfs); without it that cycle is skipped and says so.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { AGENT_MAIN, CP_MAIN, freePort, sleep, startProcess, waitFor, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, writeResults, type Row } from './lib/report.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

const ADMIN_PASSWORD = 'bench-admin-password';
const CYCLES = envNumber('EDGEHOOK_BENCH_FAULT_CYCLES', 3);
const BASELINE_S = envNumber('EDGEHOOK_BENCH_BASELINE_S', 20);
const DISK_FULL_S = envNumber('EDGEHOOK_BENCH_DISK_FULL_S', 8);

const root = mkdtempSync(join(tmpdir(), 'edgehook-faults-'));
const dataDir = join(root, 'data');
const stateDir = join(root, 'agent');
let tmpfs = false;
try {
  execFileSync('mkdir', ['-p', dataDir]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', dataDir], { stdio: 'pipe' });
  tmpfs = true;
} catch {
  console.log('note: cannot mount a tmpfs (not root?): the disk-full cycle is skipped');
}

const port = await freePort();
const mqttPort = await freePort();
const url = `http://127.0.0.1:${port}`;
const cpArgs = [CP_MAIN, 'serve', '--port', String(port), '--mqtt-port', String(mqttPort), '--data-dir', dataDir, '--log-format', 'json', '--log-level', 'warn'];
const cpEnv = { EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD };
let cp: RunningProcess | undefined;
let agent: RunningProcess | undefined;
const runStarts: number[] = [];

async function cleanupAll(): Promise<void> {
  await agent?.stop(3000).catch(() => undefined);
  await cp?.stop(3000).catch(() => undefined);
  if (tmpfs) {
    try {
      execFileSync('umount', [dataDir], { stdio: 'pipe' });
    } catch {
      // busy: leave it for the OS
    }
  }
  rmSync(root, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanupAll().finally(() => process.exit(130)));

const healthy = async (): Promise<number | undefined> => {
  const res = await fetch(`${url}/api/health`).catch(() => undefined);
  return res?.status;
};

async function startCp(): Promise<void> {
  cp = startProcess('control-plane', cpArgs, cpEnv);
  await waitFor('control plane up', async () => ((await healthy()) === 200 ? true : undefined), 60_000);
}

function reservedSeq(): number {
  try {
    return Number(JSON.parse(readFileSync(join(stateDir, 'telemetry-seq.json'), 'utf8')).reservedUpTo) || 0;
  } catch {
    return 0;
  }
}

function startAgent(extra: string[]): void {
  runStarts.push(reservedSeq());
  agent = startProcess('agent', [AGENT_MAIN, '--state-dir', stateDir, '--profile', 'simulated', '--hostname', 'faults', '--log-format', 'json', '--telemetry-interval', '1s', '--telemetry-port', 'off', '--telemetry-replay-rate', '50', ...extra]);
}

interface Stored {
  seq: number;
  ts: number;
}
function stored(deviceId: string): Stored[] {
  const db = new Database(join(dataDir, 'edgehook.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('select b.seq as seq, b.ts as ts from telemetry_batches b join telemetry_devices d on d.key = b.device_key where d.device_id = ? order by b.seq').all(deviceId) as Stored[];
  } finally {
    db.close();
  }
}
const storedCount = (id: string): number => {
  try {
    return stored(id).length;
  } catch {
    return -1;
  }
};

const spoolSegments = (): number => {
  try {
    return readdirSync(join(stateDir, 'telemetry-spool')).filter((n) => n.startsWith('seg-')).length;
  } catch {
    return 0;
  }
};

/** Seconds from `since` until a batch newer than `count` is stored. */
async function recovery(deviceId: string, count: number, since: number): Promise<number> {
  await waitFor('telemetry stored again', () => (storedCount(deviceId) > count ? true : undefined), 120_000, 100);
  return (performance.now() - since) / 1000;
}

function fillDisk(): string {
  const path = join(dataDir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  // Whatever a 1 MB write could not take, in small pieces.
  const small = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, small);
  } catch {
    // full to the last block
  }
  closeSync(fd);
  return path;
}

const recoveries: Record<string, number[]> = { cpKill: [], agentKill: [], diskFull: [] };
const unhealthyS: number[] = [];
let deviceId = '';
let baselineRate = NaN;
try {
  await startCp();
  const api = new ApiClient(url, '', 4);
  await api.login(ADMIN_PASSWORD);
  startAgent(['--server', url, '--enroll', await api.enrollmentToken(1)]);
  deviceId = await waitFor('enrollment', () => /"deviceId":"([^"]+)"/.exec(agent?.output.tail.join('\n') ?? '')?.[1], 60_000);
  await waitFor('first batches', () => (storedCount(deviceId) >= 3 ? true : undefined), 60_000);

  // Reference: the same flow without faults.
  const b0 = storedCount(deviceId);
  const t0 = performance.now();
  await sleep(BASELINE_S * 1000);
  baselineRate = (storedCount(deviceId) - b0) / ((performance.now() - t0) / 1000);

  for (let i = 0; i < CYCLES; i++) {
    // kill -9 of the control plane at an arbitrary point of its 200 ms write buffer.
    await sleep(1500 + Math.random() * 1000);
    const before = storedCount(deviceId);
    cp?.child.kill('SIGKILL');
    await new Promise((r) => cp?.child.once('exit', r));
    await sleep(1000);
    const restartAt = performance.now();
    await startCp();
    recoveries['cpKill']?.push(await recovery(deviceId, Math.max(before, storedCount(deviceId)), restartAt));

    // kill -9 of the agent, restarted with the same state dir.
    await sleep(1500 + Math.random() * 1000);
    agent?.child.kill('SIGKILL');
    await new Promise((r) => agent?.child.once('exit', r));
    const count = storedCount(deviceId);
    const againAt = performance.now();
    startAgent([]);
    recoveries['agentKill']?.push(await recovery(deviceId, count, againAt));

    if (tmpfs) {
      const filler = fillDisk();
      const fullAt = performance.now();
      await waitFor('store unhealthy', async () => ((await healthy()) === 503 ? true : undefined), 60_000, 100);
      await sleep(DISK_FULL_S * 1000);
      const during = storedCount(deviceId);
      rmSync(filler);
      const freedAt = performance.now();
      await waitFor('store healthy', async () => ((await healthy()) === 200 ? true : undefined), 60_000, 100);
      unhealthyS.push((performance.now() - fullAt) / 1000);
      recoveries['diskFull']?.push(await recovery(deviceId, during, freedAt));
    }
  }
  // Let every re-send land: the agent's outbox empties once all is acknowledged.
  await waitFor('the agent outbox drained', () => (spoolSegments() === 0 ? true : undefined), 120_000, 50);
  await sleep(500);
} catch (err) {
  console.error(err);
  console.error('agent tail:\n' + (agent?.output.tail.slice(-20).join('\n') ?? ''));
  console.error('control plane tail:\n' + (cp?.output.tail.slice(-20).join('\n') ?? ''));
  await cleanupAll();
  process.exit(1);
}

const rows = stored(deviceId);
const seqs = rows.map((r) => r.seq);
// Lost: within each agent run's range, every number from its start up to its newest stored batch.
let lost = 0;
const lostSeqs: number[] = [];
for (let r = 0; r < runStarts.length; r++) {
  const lo = runStarts[r] ?? 0;
  const hi = runStarts[r + 1] ?? Number.MAX_SAFE_INTEGER;
  const mine = seqs.filter((s) => s >= lo && s < hi);
  if (mine.length === 0) continue;
  const have = new Set(mine);
  for (let s = lo; s <= (mine.at(-1) ?? lo); s++) {
    if (have.has(s)) continue;
    lost++;
    if (lostSeqs.length < 20) lostSeqs.push(s);
  }
}
// Duplicated: one collection (its device timestamp) stored under more than one sequence number.
const duplicates = rows.length - new Set(rows.map((r) => r.ts)).size;
const agentLog = agent?.output;
await cleanupAll();

const mean = (v: number[] | undefined): number => (v && v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
const max = (v: number[] | undefined): number => (v && v.length ? Math.max(...v) : NaN);
const table: Row[] = [
  { metric: 'baseline (no faults): batches stored per second', value: fmt(baselineRate, 2), target: '1.00 (1 s interval)' },
  { metric: `faults: control-plane kill -9 x${recoveries['cpKill']?.length}, agent kill -9 x${recoveries['agentKill']?.length}, disk full x${recoveries['diskFull']?.length}`, value: `${rows.length} batches stored` },
  { metric: 'lost batches', value: String(lost), target: '0', pass: lost === 0 },
  { metric: 'duplicated batches', value: String(duplicates), target: '0', pass: duplicates === 0 },
  { metric: 'control-plane restart -> telemetry stored again (mean / max)', value: `${fmt(mean(recoveries['cpKill']), 1)} / ${fmt(max(recoveries['cpKill']), 1)} s` },
  { metric: 'agent restart -> telemetry stored again (mean / max)', value: `${fmt(mean(recoveries['agentKill']), 1)} / ${fmt(max(recoveries['agentKill']), 1)} s` },
  ...(tmpfs
    ? [
        { metric: `disk full (${DISK_FULL_S} s): /api/health 503 for (mean)`, value: `${fmt(mean(unhealthyS), 1)} s` },
        { metric: 'space freed -> telemetry stored again (mean / max)', value: `${fmt(mean(recoveries['diskFull']), 1)} / ${fmt(max(recoveries['diskFull']), 1)} s` },
      ]
    : [{ metric: 'disk-full cycle', value: 'skipped (needs root for a tmpfs)' }]),
];
printTable('faults: telemetry through kill -9 and a full disk', table);
if (lostSeqs.length) console.log(`first lost sequence numbers: ${lostSeqs.join(', ')}`);
const path = writeResults('faults', { machine: machine(), revision: revision(), cycles: CYCLES, baselineRate, stored: rows.length, lost, lostSeqs, duplicates, recoveries, unhealthyS, runStarts, agentWarnings: agentLog?.summary() });
console.log(`results: ${path}`);
process.exit(lost === 0 && duplicates === 0 ? 0 : 1);
