/**
 * Telemetry benchmark: a real control plane (own process) ingesting batches that simulated agents
 * (bench/telemetry-sim.ts, a second process, real MQTT) publish; then a 24 h series query, the
 * fleet-wide latest value, and one real agent's CPU at a 10 s collection interval.
 *
 *   node --import tsx bench/telemetry.bench.ts      (or: npm run bench -- telemetry)
 *
 * Sizes: EDGEHOOK_BENCH_TELEMETRY_DEVICES (5000), EDGEHOOK_BENCH_TELEMETRY_LOAD_DEVICES (1000),
 * EDGEHOOK_BENCH_TELEMETRY_SAMPLES (60 per batch), EDGEHOOK_BENCH_TELEMETRY_SECONDS (30),
 * EDGEHOOK_BENCH_TELEMETRY_AGENT_SECONDS (60). EDGEHOOK_BENCH_TELEMETRY_STORE=postgres runs the control plane
 * on a private PostgreSQL cluster (initdb, as the store tests do) instead of SQLite;
 * EDGEHOOK_BENCH_TELEMETRY_SKIP=history,latest,agent leaves phases out (ingest alone).
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allCollectors } from '../agent/src/telemetry/collectors.js';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, REPO_ROOT, sleep, startControlPlaneProcess, startProcess, waitFor, AGENT_MAIN, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';
import type { TelemetrySimCommand } from './telemetry-sim.js';
import { startPostgres } from '../control-plane/test/helpers/stores.js';

const DEVICES = envNumber('EDGEHOOK_BENCH_TELEMETRY_DEVICES', 5000);
const LOAD_DEVICES = envNumber('EDGEHOOK_BENCH_TELEMETRY_LOAD_DEVICES', 1000);
const SAMPLES = envNumber('EDGEHOOK_BENCH_TELEMETRY_SAMPLES', 60);
const LOAD_S = envNumber('EDGEHOOK_BENCH_TELEMETRY_SECONDS', 30);
const AGENT_S = envNumber('EDGEHOOK_BENCH_TELEMETRY_AGENT_SECONDS', 60);
const STORE = process.env['EDGEHOOK_BENCH_TELEMETRY_STORE'] === 'postgres' ? 'postgres' : 'sqlite';
const SKIP = new Set((process.env['EDGEHOOK_BENCH_TELEMETRY_SKIP'] ?? '').split(',').filter(Boolean));
const ADMIN_PASSWORD = 'bench-admin-password';

const log = (msg: string): void => console.log(`[telemetry ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Stats {
  rows: number;
  batches: number;
  duplicates: number;
  pendingRows: number;
  failedFlushes: number;
  devices: number;
}

/** The simulator child, called over IPC. */
function startSim(): Promise<{ call: <T>(m: TelemetrySimCommand) => Promise<T>; pid: number; stop: () => Promise<void> }> {
  const child = fork(join(REPO_ROOT, 'bench/telemetry-sim.ts'), [], { cwd: REPO_ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (raw: unknown) => {
    const m = raw as { id?: number; ok?: boolean; result?: unknown; error?: string };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p || m.id === undefined) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`telemetry sim: ${m.error ?? 'failed'}`));
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: unknown) => {
      if ((m as { event?: string }).event !== 'ready') return;
      resolve({
        pid: child.pid ?? 0,
        call: <T>(m: TelemetrySimCommand) =>
          new Promise<T>((res, rej) => {
            const id = next++;
            pending.set(id, { resolve: (v) => res(v as T), reject: rej });
            child.send({ ...m, id });
          }),
        stop: async () => {
          const id = next++;
          await Promise.race([new Promise((r) => { pending.set(id, { resolve: r, reject: r }); child.send({ cmd: 'stop', id }); }), sleep(20_000)]);
          child.disconnect();
          await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
        },
      });
    });
  });
}

function cpuMeter(pid: number): () => number {
  const [c0, t0] = [cpuSecondsOf(pid), performance.now()];
  return () => Math.round(((cpuSecondsOf(pid) - c0) / ((performance.now() - t0) / 1000)) * 1000) / 10;
}

async function timed(n: number, fn: () => Promise<void>): Promise<ReturnType<typeof summarize>> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return summarize(ms);
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-tel-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  let sim: Awaited<ReturnType<typeof startSim>> | undefined;
  let agent: RunningProcess | undefined;
  let pg: { url: string; stop(): Promise<void> } | undefined;
  const results: Record<string, unknown> = { bench: 'telemetry', startedAt: new Date().toISOString(), machine: machine(), config: { devices: DEVICES, loadDevices: LOAD_DEVICES, samplesPerBatch: SAMPLES, loadSeconds: LOAD_S, agentSeconds: AGENT_S, store: STORE, skip: [...SKIP] } };
  const onSignal = (): void => void Promise.allSettled([sim?.stop(), cp?.stop(2000), agent?.stop(2000)]).then(() => pg?.stop()).then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (STORE === 'postgres') {
      // Default durability (fsync on, synchronous_commit on): the figure is for a real server.
      const started = await startPostgres({ durable: true });
      if ('missing' in started) throw new Error(started.missing);
      pg = started;
    }
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD, ...(pg ? { env: { EDGEHOOK_DATABASE: pg.url } } : {}) });
    const api = new ApiClient(cp.url, '', 16);
    await api.login(ADMIN_PASSWORD);
    const stats = async (): Promise<Stats> => api.expect<Stats>(200, 'GET', '/api/telemetry/stats');
    sim = await startSim();
    log(`enrolling ${DEVICES} simulated devices`);
    const enrolled = await sim.call<{ ms: number; enrolled: number; failures: number; ids: string[] }>({ cmd: 'enroll', server: cp.url, token: await api.enrollmentToken(DEVICES + 10), count: DEVICES, concurrency: 50 });
    if (enrolled.enrolled !== DEVICES) throw new Error(`only ${enrolled.enrolled} enrolled`);
    const ids = enrolled.ids;
    const probeIndex = LOAD_DEVICES;
    const historyIndex = LOAD_DEVICES + 1;
    await sim.call({ cmd: 'connect', from: 0, to: LOAD_DEVICES + 2, concurrency: 100 });

    // 1. Ingest: LOAD_DEVICES publish one batch of SAMPLES a second each; probes measure write-to-query latency.
    log(`ingest: ${LOAD_DEVICES} devices x ${SAMPLES} samples/s for ${LOAD_S} s (offered ${LOAD_DEVICES * SAMPLES} rows/s)`);
    const before = await stats();
    const cpCpu = cpuMeter(cp.pid);
    const cpSecondsBefore = cpuSecondsOf(cp.pid);
    const simCpu = cpuMeter(sim.pid);
    const loadStart = performance.now();
    const load = sim.call<{ ms: number; sent: number; rows: number; errors: number; offeredRowsPerSecond: number }>({ cmd: 'load', from: 0, to: LOAD_DEVICES, samples: SAMPLES, perSecond: 1, durationMs: LOAD_S * 1000 });
    const probes: number[] = [];
    let probeTimeouts = 0;
    const rates: number[] = [];
    let last = before;
    let lastAt = performance.now();
    let loadDone = false;
    void load.finally(() => (loadDone = true));
    for (let k = 0; !loadDone; k++) {
      await sleep(1000);
      const s = await stats();
      const now = performance.now();
      rates.push((s.rows - last.rows) / ((now - lastAt) / 1000));
      [last, lastAt] = [s, now];
      if (k % 3 === 1 && !loadDone) {
        const metric = `bench.probe_${k}`;
        // From before the publish to the first answer that shows it.
        const t0 = performance.now();
        const { sentAt } = await sim.call<{ sentAt: number }>({ cmd: 'marker', index: probeIndex, metric });
        // A probe that is not queryable within 30 s is counted (a backlog), not the end of the run.
        const queryable = await waitFor(
          `probe ${metric} queryable`,
          async () => {
            const r = await api.call<{ series?: Array<{ points: Array<[number, number | null]> }> }>('GET', `/api/devices/${ids[probeIndex]}/telemetry?metric=${metric}&from=${sentAt - 5000}&to=${sentAt + 5000}&step=10s&agg=count`);
            return r.status === 200 && r.body.series?.[0]?.points.some((p) => p[1] !== null) ? true : undefined;
          },
          30_000,
          20,
        ).then(() => true, () => false);
        if (queryable) probes.push(performance.now() - t0);
        else probeTimeouts++;
      }
    }
    const loadResult = await load;
    const cpuDuringLoad = { controlPlanePct: cpCpu(), simPct: simCpu() };
    const drained = await waitFor('ingest drained', async () => {
      const s = await stats();
      return s.pendingRows === 0 && s.rows >= before.rows + loadResult.rows ? s : undefined;
    }, 60_000, 100);
    const drainedAt = performance.now();
    const cpSecondsAfter = cpuSecondsOf(cp.pid);
    const storedRows = drained.rows - before.rows;
    const sustained = storedRows / ((drainedAt - loadStart) / 1000);
    const cpuPerRowUs = ((cpSecondsAfter - cpSecondsBefore) / storedRows) * 1e6;
    const steady = summarize(rates.slice(2));
    results['ingest'] = { load: loadResult, storedRows, sustainedRowsPerSecond: sustained, cpuPerRowUs, perSecond: rates, probesMs: probes, probeTimeouts, cpuDuringLoad, duplicates: drained.duplicates - before.duplicates, failedFlushes: drained.failedFlushes };
    log(`ingest: ${storedRows} rows stored, ${fmt(sustained, 0)} rows/s sustained (incl. drain); probe p50 ${fmt(summarize(probes).p50, 0)} ms`);

    // 2. One series of 24 h at 10 s: one device's history, published through MQTT like a replay.
    const phaseRows: Row[] = [];
    if (!SKIP.has('history')) {
      log('history: 24 h at 10 s for one device (8,640 batches of 40 samples)');
      const hist = await sim.call<{ batches: number; ms: number; lastTs: number }>({ cmd: 'history', index: historyIndex, hours: 24, stepMs: 10_000, samples: 40, inFlight: 200 });
      await waitFor('history stored', async () => ((await stats()).pendingRows === 0 ? true : undefined), 120_000, 200);
      const seriesPath = `/api/devices/${ids[historyIndex]}/telemetry?metric=cpu.usage&from=-24h&to=now&step=10s&agg=avg`;
      const check = await api.expect<{ series: Array<{ points: Array<[number, number | null]> }> }>(200, 'GET', seriesPath);
      const points = check.series[0]?.points ?? [];
      const filled = points.filter((p) => p[1] !== null).length;
      const seriesQuery = await timed(30, async () => {
        await api.expect(200, 'GET', seriesPath);
      });
      results['series24h'] = { publish: hist, points: points.length, filled, http: seriesQuery };
      log(`24 h series: ${points.length} points (${filled} with data), p50 ${fmt(seriesQuery.p50, 1)} ms`);
      phaseRows.push({ metric: `24 h series at 10 s (${points.length} points, ${filled} filled) p50 / p99`, value: `${fmt(seriesQuery.p50, 1)} / ${fmt(seriesQuery.p99, 1)} ms`, target: '<= 20 ms', pass: seriesQuery.p50 <= 20 });
    }

    // 3. Fleet-wide latest value: every device reports once.
    if (!SKIP.has('latest')) {
      log(`latest: the other ${DEVICES - LOAD_DEVICES - 2} devices report once`);
      await sim.call({ cmd: 'once', from: LOAD_DEVICES + 2, to: DEVICES, concurrency: 50 });
      await waitFor('every device stored', async () => {
        const s = await stats();
        return s.devices >= DEVICES && s.pendingRows === 0 ? true : undefined;
      }, 120_000, 200);
      const latestCount = (await api.expect<{ entries: unknown[] }>(200, 'GET', '/api/telemetry/latest?metric=temp.max')).entries.length;
      const top10 = await timed(30, async () => {
        await api.expect(200, 'GET', '/api/telemetry/latest?metric=temp.max&sort=desc&limit=10');
      });
      const all = await timed(10, async () => {
        await api.expect(200, 'GET', '/api/telemetry/latest?metric=temp.max');
      });
      const prom = await timed(5, async () => {
        await api.call('GET', '/api/export/prometheus/metrics');
      });
      results['latest'] = { devices: latestCount, top10, all, prometheus: prom };
      log(`latest over ${latestCount} devices: top-10 p50 ${fmt(top10.p50, 1)} ms, all p50 ${fmt(all.p50, 1)} ms`);
      phaseRows.push(
        { metric: `fleet latest, ${latestCount} devices, top 10 p50 / p99`, value: `${fmt(top10.p50, 1)} / ${fmt(top10.p99, 1)} ms`, target: '<= 100 ms', pass: top10.p50 <= 100 && latestCount >= DEVICES },
        { metric: `fleet latest, all ${latestCount} entries p50 / p99`, value: `${fmt(all.p50, 1)} / ${fmt(all.p99, 1)} ms`, target: '<= 100 ms', pass: all.p50 <= 100 },
        { metric: 'Prometheus export (whole fleet) p50', value: `${fmt(prom.p50, 1)} ms` },
      );
    }
    await sim.stop();
    sim = undefined;

    // 4. A real agent's CPU at a 10 s interval, and the collectors' own time per tick in this process.
    if (!SKIP.has('agent')) {
      const collectors = Object.values(allCollectors({ root: '/', thermalZones: [], vcgencmd: true }));
      const tick = async (): Promise<void> => {
        await Promise.all(collectors.map((c) => c.collect(Date.now())));
      };
      await tick();
      const collectTick = await timed(50, tick);
      const cpuPerTickPct = (collectTick.mean / 10_000) * 100;
      log(`agent: collectors take ${fmt(collectTick.p50, 2)} ms per tick; measuring a real agent for ${AGENT_S} s`);
      const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-agent-'));
      agent = startProcess('agent', [AGENT_MAIN, '--server', cp.url, '--enroll', await api.enrollmentToken(1), '--state-dir', stateDir, '--profile', 'generic-linux', '--hostname', 'bench-agent', '--telemetry-interval', '10s', '--telemetry-port', 'off', '--log-format', 'json', '--log-level', 'warn']);
      await sleep(8000); // enrollment, connect, first tick
      const agentCpu = cpuMeter(agent.pid);
      await sleep(AGENT_S * 1000);
      const agentPct = agentCpu();
      await agent.stop(5000);
      agent = undefined;
      await rm(stateDir, { recursive: true, force: true });
      results['agent'] = { collectTickMs: collectTick, collectorCpuPct: cpuPerTickPct, processCpuPct: agentPct, seconds: AGENT_S };
      phaseRows.push(
        { metric: 'agent collectors, one tick (all collectors) p50 / max', value: `${fmt(collectTick.p50, 2)} / ${fmt(collectTick.max, 2)} ms` },
        { metric: 'agent collection CPU at 10 s (tick time / interval)', value: `${fmt(cpuPerTickPct, 3)}% of a core`, target: '< 1%', pass: cpuPerTickPct < 1 },
        { metric: `real agent process CPU at 10 s over ${AGENT_S} s (everything)`, value: `${fmt(agentPct, 2)}% of a core`, target: '< 1%', pass: agentPct < 1 },
      );
    }

    const probe = summarize(probes);
    const rows: Row[] = [
      { metric: `ingest offered (${LOAD_DEVICES} devices x ${SAMPLES} samples/s, MQTT QoS 1)`, value: `${fmt(loadResult.offeredRowsPerSecond, 0)} rows/s` },
      { metric: `ingest sustained into ${STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'} (stored rows / time incl. drain)`, value: `${fmt(sustained, 0)} rows/s`, target: STORE === 'postgres' ? '>= 50000 rows/s' : '>= 100000 rows/s', pass: sustained >= (STORE === 'postgres' ? 50_000 : 100_000) },
      { metric: 'ingest per-second stored rate p50 / min', value: `${fmt(steady.p50, 0)} / ${fmt(Math.min(...rates.slice(2)), 0)} rows/s` },
      { metric: 'publish -> queryable (probe batches) p50 / max, not within 30 s', value: `${fmt(probe.p50, 0)} / ${fmt(probe.max, 0)} ms, ${probeTimeouts}`, target: '<= 2000 ms', pass: probe.max <= 2000 && probeTimeouts === 0 },
      { metric: 'control-plane / simulator CPU during ingest', value: `${cpuDuringLoad.controlPlanePct}% / ${cpuDuringLoad.simPct}%` },
      // Load-independent: what one stored row costs the control plane (broker, bus, ingest, store).
      { metric: 'control-plane CPU per stored row (load and drain)', value: `${fmt(cpuPerRowUs, 2)} µs (${fmt(1e6 / cpuPerRowUs, 0)} rows/s per core)` },
      { metric: 'publish errors / duplicates / failed flushes', value: `${loadResult.errors} / ${drained.duplicates - before.duplicates} / ${drained.failedFlushes}` },
      ...phaseRows,
    ];
    results['rows'] = rows;
    printTable(`Telemetry (${STORE}, devices=${DEVICES}, load=${LOAD_DEVICES}x${SAMPLES}/s for ${LOAD_S} s)`, rows);
    console.log(`\nresults: ${writeResults(`telemetry-${STORE}-${DEVICES}`, results)}`);
  } finally {
    await sim?.stop().catch(() => undefined);
    await agent?.stop(2000).catch(() => undefined);
    if (cp) await cp.stop(30_000); // room for a --cpu-prof to be written
    await pg?.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`telemetry bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
