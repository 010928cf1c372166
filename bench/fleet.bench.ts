/**
 * Fleet benchmark: one real control plane (its own process, so its RSS is its own) holding N
 * simulated agents (bench/fleet-sim.ts, a second process running the agent's link code), pinged
 * open-loop from this third process; then a control-plane restart and one idle real agent.
 *
 *   node --import tsx bench/fleet.bench.ts      (or: npm run bench -- fleet --agents 500)
 *
 * Sizes: EDGEHOOK_BENCH_AGENTS (5000), EDGEHOOK_BENCH_PING_SECONDS (30), EDGEHOOK_BENCH_PING_RATE (100),
 * EDGEHOOK_BENCH_RESTART_TIMEOUT_S (180), EDGEHOOK_BENCH_CONNECT_BATCH (200), EDGEHOOK_BENCH_ENROLL_CONCURRENCY (50),
 * EDGEHOOK_BENCH_IDLE_AGENT_WAIT_S (10), EDGEHOOK_BENCH_IDLE_AGENT_SETTLE_S (30), EDGEHOOK_BENCH_RESTARTS (1); EDGEHOOK_BENCH_SKIP=restart,idle-agent skips phases.
 * EDGEHOOK_BENCH_TRACE=1 records each simulated client's MQTT events after a restart (for diagnosis).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { unitEnvironment, unitNodeArgs } from './lib/installed-agent.js';
import { idleAgentPhase, restartPhase, type IdleAgentResult, type RestartResult } from './lib/fleet-phases.js';
import { runOpenLoop, runPingLoad, type PingResult } from './lib/pinger.js';
import { cpuSecondsOf, freePort, memoryOf, REPO_ROOT, sleep, startControlPlaneProcess, startProcess, waitFor, type ControlPlaneProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, writeResults, type Row } from './lib/report.js';
import { SimHandle } from './lib/sim-handle.js';

const N = envNumber('EDGEHOOK_BENCH_AGENTS', 5000);
const PING_S = envNumber('EDGEHOOK_BENCH_PING_SECONDS', 30);
const PING_RATE = envNumber('EDGEHOOK_BENCH_PING_RATE', 100);
const RESTART_TIMEOUT_S = envNumber('EDGEHOOK_BENCH_RESTART_TIMEOUT_S', 180);
const BATCH = envNumber('EDGEHOOK_BENCH_CONNECT_BATCH', 200);
const ENROLL_CONCURRENCY = envNumber('EDGEHOOK_BENCH_ENROLL_CONCURRENCY', 50);
const IDLE_WAIT_S = envNumber('EDGEHOOK_BENCH_IDLE_AGENT_WAIT_S', 10);
const RESTARTS = envNumber('EDGEHOOK_BENCH_RESTARTS', 1);
const IDLE_SETTLE_S = envNumber('EDGEHOOK_BENCH_IDLE_AGENT_SETTLE_S', 30);
/** The HTTP floor's server: the ping's answer (body and headers) from node:http, nothing else. */
const BARE_HEADERS = {
  'content-type': 'application/json',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};
const BARE_SERVER = (port: number): string =>
  `const h = ${JSON.stringify(BARE_HEADERS)}; require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, h); s.end('{"rttMs":1.234}'); }); }).on('connection', (c) => c.setNoDelay(true)).listen(${port}, '127.0.0.1')`;
const SKIP = new Set((process.env['EDGEHOOK_BENCH_SKIP'] ?? '').split(',').filter(Boolean));
const ADMIN_PASSWORD = 'bench-admin-password';
const MB = 1024; // KB

const log = (msg: string): void => console.log(`[fleet ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** RSS sampled every 500 ms for `ms`: GC makes single readings noisy, so tables use the max (worst case). */
async function sampleRss(pid: number, ms: number): Promise<{ maxKb: number; medianKb: number; samplesKb: number[] }> {
  const samplesKb: number[] = [];
  for (let t = 0; t < ms; t += 500) {
    samplesKb.push(memoryOf(pid).rssKb);
    await sleep(500);
  }
  const sorted = [...samplesKb].sort((a, b) => a - b);
  return { maxKb: sorted.at(-1) ?? NaN, medianKb: sorted[Math.floor(sorted.length / 2)] ?? NaN, samplesKb };
}

/** CPU use of a process over a window, as % of one core. */
function cpuMeter(pid: number): () => number {
  const [c0, t0] = [cpuSecondsOf(pid), performance.now()];
  return () => Math.round(((cpuSecondsOf(pid) - c0) / ((performance.now() - t0) / 1000)) * 1000) / 10;
}

async function main(): Promise<void> {
  // `--broker mosquitto --replicas 2`: several replicas on Mosquitto and PostgreSQL (bench/fleet-replicas.ts).
  if (process.env['EDGEHOOK_BENCH_BROKER'] === 'mosquitto') return (await import('./fleet-replicas.js')).runReplicasBench();
  if (process.env['EDGEHOOK_BENCH_BROKER'] !== undefined && process.env['EDGEHOOK_BENCH_BROKER'] !== 'embedded') throw new Error('--broker is embedded (default) or mosquitto');
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-cp-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  const cpOpts = { port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD };
  let cp: ControlPlaneProcess | undefined;
  let sim: SimHandle | undefined;
  let api: ApiClient | undefined;
  const results: Record<string, unknown> = { bench: 'fleet', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), config: { agents: N, pingSeconds: PING_S, pingRate: PING_RATE, connectBatch: BATCH, enrollConcurrency: ENROLL_CONCURRENCY, restartTimeoutS: RESTART_TIMEOUT_S, restarts: RESTARTS, skip: [...SKIP] } };
  const onSignal = (): void => {
    void Promise.allSettled([sim?.stop(), cp?.stop(2000)]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`control plane: http :${port}, mqtt :${mqttPort}, data ${dataDir}`);
    cp = await startControlPlaneProcess(cpOpts);
    api = new ApiClient(cp.url, '', 64);
    await api.login(ADMIN_PASSWORD);
    const token = await api.enrollmentToken(N);
    const baseline = await sampleRss(cp.pid, 3000);
    const rssBaseline = baseline.maxKb;
    log(`control plane up in ${Math.round(cp.startupMs)} ms, RSS ${fmt(rssBaseline / MB)} MB`);

    sim = await SimHandle.start((p) => {
      if (p.connected % 1000 < BATCH || p.connected === p.total) log(`  connected ${p.connected}/${p.total}`);
    });
    log(`enrolling ${N} agents (${ENROLL_CONCURRENCY} in flight)`);
    const enrolled = await sim.call({ cmd: 'enroll', server: cp.url, token, count: N, concurrency: ENROLL_CONCURRENCY });
    const { deviceIds, ...enrollSummary } = enrolled;
    results['enroll'] = enrollSummary;
    log(`enrolled ${enrolled.enrolled} in ${fmt(enrolled.ms / 1000)} s (${fmt(enrolled.enrolled / (enrolled.ms / 1000), 0)}/s)`);
    if (enrolled.enrolled !== N) throw new Error(`only ${enrolled.enrolled} of ${N} enrolled: ${JSON.stringify(enrolled.failures)}`);
    const enrolledMem = await sampleRss(cp.pid, 3000);
    const rssEnrolled = enrolledMem.maxKb;

    log(`connecting in batches of ${BATCH}`);
    const connectStart = performance.now();
    const connected = await sim.call({ cmd: 'connect', batch: BATCH, batchTimeoutMs: 30_000, totalTimeoutMs: 60_000 });
    const allOnline = await waitFor('every device online per the API', async () => ((await api?.onlineCount()) === N ? performance.now() : undefined), 120_000, 500);
    results['connect'] = { ...connected, allOnlineViaApiMs: Math.round(allOnline - connectStart) };
    log(`all ${N} connected in ${fmt(connected.ms / 1000)} s; all online per API after ${fmt((allOnline - connectStart) / 1000)} s`);
    const idleCpu = cpuMeter(cp.pid);
    const connectedMem = await sampleRss(cp.pid, 5000);
    const cpIdleCpuPct = idleCpu(); // keepalive traffic of N idle agents, nothing else
    const rssConnected = connectedMem.maxKb;
    const simConnected = await sim.call({ cmd: 'status' });

    log(`pinging: ${PING_RATE}/s for ${PING_S} s (plus 2 s warm-up and 2 x 5 s of plain requests for the layers)`);
    await runPingLoad(api, deviceIds, { rate: PING_RATE, durationMs: 2000 });
    const first = deviceIds[0] ?? '';
    // The floor: node's http client against a bare node:http server in its own process, same machine
    // and load, sent what a ping sends (POST, the bearer token, the path) and answering what a ping
    // answers (JSON with the control plane's security headers), with no work in between.
    const barePort = await freePort();
    const bare = startProcess('bare-http', ['-e', BARE_SERVER(barePort)]);
    const bareApi = new ApiClient(`http://127.0.0.1:${barePort}`, api.token, 64);
    await waitFor('the bare http server', async () => ((await bareApi.call('GET', '/')).status === 200 ? true : undefined), 5000, 50);
    const layers = {
      bareNodeHttp: await runOpenLoop(bareApi, { rate: PING_RATE, durationMs: 5000 }, () => ({ method: 'POST', path: `/api/devices/${first}/ping` })),
      health: await runOpenLoop(api, { rate: PING_RATE, durationMs: 5000 }, () => ({ method: 'GET', path: '/api/health' })),
      getDevice: await runOpenLoop(api, { rate: PING_RATE, durationMs: 5000 }, () => ({ method: 'GET', path: `/api/devices/${first}` })),
    };
    bareApi.close();
    await bare.stop(2000);
    await sim.call({ cmd: 'loop-reset' });
    const [cpCpu, simCpu] = [cpuMeter(cp.pid), cpuMeter(sim.pid)];
    const ping: PingResult = await runPingLoad(api, deviceIds, { rate: PING_RATE, durationMs: PING_S * 1000 });
    const cpuDuringPing = { controlPlanePct: cpCpu(), simPct: simCpu(), simLoopDelay: await sim.call({ cmd: 'loop' }) };
    const memAfterPing = memoryOf(cp.pid);
    results['ping'] = { ...ping, cpuDuringPing, cpIdleCpuPct, layers };
    log(`ping: http p50 ${ping.http.p50} ms, p99 ${ping.http.p99} ms, errors ${ping.errors}; cp CPU ${cpuDuringPing.controlPlanePct}%`);
    results['memory'] = { baseline, enrolled: enrolledMem, connected: connectedMem, rssAfterPingKb: memAfterPing.rssKb, hwmKb: memAfterPing.hwmKb, simRssKb: simConnected.rssKb };

    const restarts: RestartResult[] = [];
    let postRestartPing: PingResult | undefined;
    for (let i = 1; i <= (SKIP.has('restart') ? 0 : RESTARTS); i++) {
      log(`restart #${i}: SIGTERM the control plane, start it on the same data dir and ports; waiting up to ${RESTART_TIMEOUT_S} s`);
      api.close();
      const r = await restartPhase(cp, sim, { ...cpOpts, timeoutMs: RESTART_TIMEOUT_S * 1000, total: N });
      cp = r.cp;
      restarts.push(r.result);
      log(`restart #${i}: 99% back ${fmt(r.result.simP99Ms / 1000)} s, 100% ${fmt(r.result.simP100Ms / 1000)} s after SIGTERM (new cp ready at ${fmt(r.result.downtimeMs / 1000)} s)`);
      api = new ApiClient(cp.url, '', 64);
      await api.login(ADMIN_PASSWORD);
      postRestartPing = await runPingLoad(api, deviceIds, { rate: PING_RATE, durationMs: 5000 });
    }
    if (restarts.length > 0) {
      results['restarts'] = restarts;
      results['postRestartPing'] = postRestartPing;
      results['memory'] = { ...(results['memory'] as object), rssAfterRestartKb: memoryOf(cp.pid).rssKb };
    }
    results['simLogs'] = (await sim.call({ cmd: 'status' })).logCounts;
    results['simStopMs'] = await sim.stop();
    sim = undefined;

    let idle: (IdleAgentResult & { cpuPct: number }) | undefined;
    let lean: (IdleAgentResult & { cpuPct: number }) | undefined;
    if (!SKIP.has('idle-agent')) {
      log(`idle real agent: waiting ${IDLE_WAIT_S} s after it is online`);
      idle = await idleAgentPhase(api, cp.url, IDLE_WAIT_S, IDLE_SETTLE_S);
      results['idleAgent'] = idle;
      // The lean package (npm run build:agent) as install.sh runs it, when built.
      const bundle = join(REPO_ROOT, 'agent/dist-package/edgehook-agent/bin/edgehook-agent');
      if (existsSync(bundle)) {
        log('idle bundled agent (the lean package, as its systemd unit runs it)');
        lean = await idleAgentPhase(api, cp.url, IDLE_WAIT_S, IDLE_SETTLE_S, { main: bundle, nodeArgs: unitNodeArgs(), env: unitEnvironment() });
        results['idleBundledAgent'] = lean;
      }
    }
    results['controlPlaneLogs'] = cp.output.summary();

    const rssTargetKb = 200 * MB + 40 * N;
    // Baseline per the brief: after enrollment, before any agent connects (the connections' cost);
    // the figure from the idle process also counts what enrolling N devices left in the heap.
    const perAgentKb = (rssConnected - rssEnrolled) / N;
    const perAgentFromIdleKb = (rssConnected - rssBaseline) / N;
    const rows: Row[] = [
      { metric: `agents enrolled (${ENROLL_CONCURRENCY} in flight)`, value: `${enrolled.enrolled} in ${fmt(enrolled.ms / 1000)} s` },
      { metric: `agents connected (batches of ${BATCH})`, value: `${connected.connected} in ${fmt(connected.ms / 1000)} s`, target: `${N}`, pass: connected.connected === N },
      { metric: `ping HTTP p50 @ ${ping.rate}/s`, value: fmt(ping.http.p50, 2, ' ms'), target: '<= 2 ms', pass: ping.http.p50 <= 2 },
      { metric: 'ping HTTP p90', value: fmt(ping.http.p90, 2, ' ms') },
      { metric: 'ping HTTP p99', value: fmt(ping.http.p99, 2, ' ms'), target: '<= 20 ms', pass: ping.http.p99 <= 20 },
      { metric: 'ping HTTP max', value: fmt(ping.http.max, 2, ' ms') },
      { metric: 'ping server rttMs p50 / p99 / max', value: `${fmt(ping.server.p50, 2)} / ${fmt(ping.server.p99, 2)} / ${fmt(ping.server.max, 2)} ms` },
      { metric: 'ping errors', value: `${ping.errors} of ${ping.sent}`, target: '0', pass: ping.errors === 0 },
      { metric: 'same rate, bare node:http server p50 / p99', value: `${fmt(layers.bareNodeHttp.http.p50, 2)} / ${fmt(layers.bareNodeHttp.http.p99, 2)} ms` },
      { metric: 'same rate, GET /api/health p50 / p99', value: `${fmt(layers.health.http.p50, 2)} / ${fmt(layers.health.http.p99, 2)} ms` },
      { metric: 'same rate, GET /api/devices/:id p50 / p99', value: `${fmt(layers.getDevice.http.p50, 2)} / ${fmt(layers.getDevice.http.p99, 2)} ms` },
      { metric: 'control-plane CPU: idle fleet / during pings', value: `${cpIdleCpuPct}% / ${cpuDuringPing.controlPlanePct}%` },
      { metric: 'sim CPU during pings', value: `${cpuDuringPing.simPct}%` },
      { metric: 'event-loop delay p99 during pings: sim / pinger', value: `${fmt(cpuDuringPing.simLoopDelay.p99Ms, 1)} / ${fmt(ping.pingerLoopDelayP99Ms, 1)} ms` },
      { metric: 'control-plane RSS idle (0 agents; max of samples)', value: fmt(rssBaseline / MB, 1, ' MB') },
      { metric: `control-plane RSS, ${N} enrolled, 0 connected`, value: fmt(rssEnrolled / MB, 1, ' MB') },
      { metric: `control-plane RSS, ${N} connected`, value: fmt(rssConnected / MB, 1, ' MB'), target: `<= ${fmt(rssTargetKb / MB, 0, ' MB')}`, pass: rssConnected <= rssTargetKb },
      { metric: 'control-plane RSS per agent (connected - enrolled)', value: fmt(perAgentKb, 1, ' KB'), target: '<= 40 KB', pass: perAgentKb <= 40 },
      { metric: 'control-plane RSS per agent (connected - idle)', value: fmt(perAgentFromIdleKb, 1, ' KB') },
      { metric: 'control-plane RSS after pings / peak', value: `${fmt(memAfterPing.rssKb / MB)} / ${fmt(memAfterPing.hwmKb / MB)} MB` },
    ];
    restarts.forEach((r, i) => {
      const at = (ms: number | null): string => (ms === null ? 'never' : fmt(ms / 1000, 1));
      rows.push(
        { metric: `restart #${i + 1}: exited / new cp healthy (from SIGTERM)`, value: `${fmt(r.shutdownMs / 1000, 2)} / ${fmt(r.downtimeMs / 1000, 2)} s` },
        { metric: `restart #${i + 1}: 99% / 100% of agents back`, value: `${at(r.simP99Ms)} / ${at(r.simP100Ms)} s`, target: '99% <= 30 s', pass: r.simP99Ms <= 30_000 },
        { metric: `restart #${i + 1}: 99% / 100% online per API`, value: `${at(r.apiP99Ms)} / ${at(r.apiP100Ms)} s` },
        { metric: `restart #${i + 1}: attempts per agent p50 / max`, value: `${r.attempts.p50} / ${r.attempts.max}` },
        { metric: `restart #${i + 1}: "already connected" refusals / listen overflows`, value: `${r.refusedAlreadyConnected} / ${r.tcp.listenOverflows}` },
        { metric: `restart #${i + 1}: connected but shown offline`, value: String(r.stuckOffline.count), target: '0', pass: r.stuckOffline.count === 0 },
      );
    });
    if (postRestartPing) rows.push({ metric: 'ping after restart p50 / p99, errors', value: `${fmt(postRestartPing.http.p50, 2)} / ${fmt(postRestartPing.http.p99, 2)} ms, ${postRestartPing.errors} of ${postRestartPing.sent}`, pass: postRestartPing.errors === 0 });
    if (idle) {
      rows.push(
        { metric: `idle real agent RSS (${IDLE_WAIT_S} s after online)`, value: fmt(idle.rssKb / MB, 1, ' MB'), target: '<= 80 MB', pass: idle.rssKb <= 80 * MB },
        { metric: `idle real agent RSS settled (${IDLE_SETTLE_S} s) / peak`, value: `${fmt(idle.settledRssKb / MB, 1)} / ${fmt(idle.hwmKb / MB, 1)} MB` },
      );
    }
    if (lean) {
      rows.push(
        { metric: `idle bundled agent RSS (${IDLE_WAIT_S} s after online)`, value: fmt(lean.rssKb / MB, 1, ' MB'), target: '<= 50 MB', pass: lean.rssKb <= 50 * MB },
        { metric: 'idle bundled agent peak RSS / CPU at idle', value: `${fmt(lean.hwmKb / MB, 1)} MB / ${lean.cpuPct}%`, target: '<= 70 MB / < 0.5%', pass: lean.hwmKb <= 70 * MB && lean.cpuPct < 0.5 },
      );
    }
    results['rows'] = rows;
    results['loadAverageAtEnd'] = loadavg();
    printTable(`Fleet: presence, ping, restart (N=${N})`, rows);
    console.log(`\nresults: ${writeResults(`fleet-${N}`, results)}`);
  } finally {
    await sim?.stop().catch(() => undefined);
    api?.close();
    if (cp) {
      const stopped = await cp.stop(10_000);
      if (stopped.killed) console.log('warning: the control plane needed SIGKILL to stop');
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`fleet bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
