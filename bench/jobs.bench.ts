/**
 * Jobs benchmark: one job (a declared action) on N simulated agents (bench/fleet-sim.ts answers
 * `processes.run`), against a real control plane in its own process. Reports the time until every
 * device is done, the control plane's RSS and CPU meanwhile, and lost or duplicated runs (counted
 * by the simulator per device). Reference, same run: the same action sent to every device without
 * the job layer (POST /api/devices/:id/pow/new, one RPC each, 64 in flight).
 *
 *   npm run bench -- jobs --agents 5000
 *
 * Sizes: EDGEHOOK_BENCH_AGENTS (5000), EDGEHOOK_BENCH_CONNECT_BATCH (200), EDGEHOOK_BENCH_ENROLL_CONCURRENCY (50).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, memoryOf, sleep, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, writeResults, type Row } from './lib/report.js';
import { SimHandle } from './lib/sim-handle.js';

const N = envNumber('EDGEHOOK_BENCH_AGENTS', 5000);
const BATCH = envNumber('EDGEHOOK_BENCH_CONNECT_BATCH', 200);
const ENROLL_CONCURRENCY = envNumber('EDGEHOOK_BENCH_ENROLL_CONCURRENCY', 50);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[jobs ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** CPU of a process over a window, as % of one core. */
function cpuMeter(pid: number): () => number {
  const [c0, t0] = [cpuSecondsOf(pid), performance.now()];
  return () => Math.round(((cpuSecondsOf(pid) - c0) / ((performance.now() - t0) / 1000)) * 1000) / 10;
}

/** Max RSS while `work` runs, sampled every 250 ms. */
async function withRss<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; maxRssKb: number }> {
  let maxRssKb = memoryOf(pid).rssKb;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      maxRssKb = Math.max(maxRssKb, memoryOf(pid).rssKb);
      await sleep(250);
    }
  })();
  try {
    return { value: await work(), maxRssKb };
  } finally {
    done = true;
    await sampler;
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-jobs-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  let sim: SimHandle | undefined;
  const results: Record<string, unknown> = { bench: 'jobs', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), config: { agents: N } };
  try {
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    const api = new ApiClient(cp.url, '', 64);
    await api.login(ADMIN_PASSWORD);
    const token = await api.enrollmentToken(N);
    sim = await SimHandle.start();
    log(`enrolling ${N} simulated agents`);
    const enrolled = await sim.call({ cmd: 'enroll', server: cp.url, token, count: N, concurrency: ENROLL_CONCURRENCY });
    if (enrolled.enrolled !== N) throw new Error(`only ${enrolled.enrolled} of ${N} enrolled: ${JSON.stringify(enrolled.failures)}`);
    await sim.call({ cmd: 'connect', batch: BATCH, batchTimeoutMs: 30_000, totalTimeoutMs: 120_000 });
    await waitFor('every device online per the API', async () => ((await api.onlineCount()) === N ? true : undefined), 180_000, 500);
    log(`all ${N} online; RSS ${fmt(memoryOf(cp.pid).rssKb / 1024)} MB`);
    const rssIdleKb = memoryOf(cp.pid).rssKb;

    // Reference: the same action on every device, one REST call (one RPC) each, no job layer.
    log('reference: the action on every device through POST /pow/new, 64 in flight');
    const refCpu = cpuMeter(cp.pid);
    const ids = enrolled.deviceIds;
    let next = 0;
    let refErrors = 0;
    const refStart = performance.now();
    const ref = await withRss(cp.pid, () =>
      Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < ids.length) {
            const id = ids[next++] ?? '';
            const res = await api.call('POST', `/api/devices/${id}/pow/new`, { call: 'bench', params: ['ref'] }).catch(() => ({ status: 0 }));
            if (res.status !== 200) refErrors++;
          }
        }),
      ),
    );
    const refMs = performance.now() - refStart;
    const refCpuPct = refCpu();
    const refRuns = await sim.call({ cmd: 'runs', marker: 'ref' });
    log(`reference: ${fmt(refMs / 1000, 2)} s, ${refErrors} errors, CPU ${refCpuPct}%`);
    await sleep(2000);

    log('job: the action on every device (one batch), polling GET /api/jobs for the counts');
    const jobCpu = cpuMeter(cp.pid);
    const jobStart = performance.now();
    const job = await withRss(cp.pid, async () => {
      const created = await api.expect<{ id: string }>(201, 'POST', '/api/jobs', { operation: { kind: 'action', spec: { call: 'bench', params: ['job'] } }, select: { query: { profile: 'simulated' } } });
      const createdMs = performance.now() - jobStart;
      for (;;) {
        const [j] = await api.expect<Array<{ id: string; finishedAt: string | null; state: string; counts: Record<string, number> }>>(200, 'GET', '/api/jobs?limit=1');
        if (j?.id === created.id && j.finishedAt !== null) return { ...j, createdMs };
        await sleep(250);
      }
    });
    const jobMs = performance.now() - jobStart;
    const jobCpuPct = jobCpu();
    const jobRuns = await sim.call({ cmd: 'runs', marker: 'job' });
    log(`job: ${job.value.state} in ${fmt(jobMs / 1000, 2)} s (created in ${fmt(job.value.createdMs, 0)} ms), CPU ${jobCpuPct}%`);

    results['reference'] = { ms: Math.round(refMs), errors: refErrors, cpuPct: refCpuPct, maxRssKb: ref.maxRssKb, runs: refRuns };
    results['job'] = { ms: Math.round(jobMs), createMs: Math.round(job.value.createdMs), state: job.value.state, counts: job.value.counts, cpuPct: jobCpuPct, maxRssKb: job.maxRssKb, runs: jobRuns };
    results['rssIdleKb'] = rssIdleKb;
    const mb = (kb: number): string => fmt(kb / 1024, 1, ' MB');
    const rows: Row[] = [
      { metric: 'devices', value: String(N) },
      { metric: 'job: time to all done', value: fmt(jobMs / 1000, 2, ' s') },
      { metric: `job: create (selection + ${N} rows)`, value: fmt(job.value.createdMs, 0, ' ms') },
      { metric: 'job: devices succeeded', value: String(job.value.counts['succeeded']) },
      { metric: 'job: runs lost / duplicated', value: `${jobRuns.never} / ${jobRuns.duplicated}` },
      { metric: 'job: control plane CPU (% of a core)', value: fmt(jobCpuPct, 1, ' %') },
      { metric: 'job: control plane max RSS', value: mb(job.maxRssKb) },
      { metric: `control plane RSS, ${N} connected, idle`, value: mb(rssIdleKb) },
      { metric: 'reference: REST /pow/new per device, 64 in flight', value: fmt(refMs / 1000, 2, ' s') },
      { metric: 'reference: errors / lost / duplicated', value: `${refErrors} / ${refRuns.never} / ${refRuns.duplicated}` },
      { metric: 'reference: control plane CPU / max RSS', value: `${fmt(refCpuPct, 1, ' %')} / ${mb(ref.maxRssKb)}` },
      { metric: 'job time / reference time', value: fmt(jobMs / refMs, 2, 'x') },
    ];
    printTable(`jobs: one action on ${N} simulated agents`, rows);
    log(`results: ${writeResults('jobs', results)}`);
    if (jobRuns.never > 0 || jobRuns.duplicated > 0 || job.value.state !== 'succeeded') process.exitCode = 1;
  } finally {
    await sim?.stop().catch(() => undefined);
    await cp?.stop(5000).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
