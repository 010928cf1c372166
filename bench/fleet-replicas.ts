/**
 * Fleet on several replicas: `npm run bench -- fleet --broker mosquitto --replicas 2 --agents N`.
 * A real Mosquitto (dynamic security) and a throwaway PostgreSQL, R real `edgehook serve`
 * processes, N simulated agents (bench/fleet-sim.ts) enrolled through replica 1 and connected to
 * Mosquitto, each sending a telemetry batch every EDGEHOOK_BENCH_TELEMETRY_EVERY_MS (10 s); pings
 * through each replica; then kill -9 of replica 1 under load (device disconnects, operator errors
 * and for how long, telemetry lost or repeated) and its restart time.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ApiClient } from './lib/api.js';
import { runPingLoad, type PingResult } from './lib/pinger.js';
import { CP_MAIN, freePort, memoryOf, sleep, startProcess, waitFor, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, writeResults, type Row } from './lib/report.js';
import { SimPool } from './lib/sim-pool.js';
import { addToDynsec, bulkDevices, insertIntoStore } from './lib/bulk-provision.js';
import { findMosquitto, startMosquitto } from '../control-plane/test/helpers/mosquitto.js';
import { throwawayPostgres } from '../control-plane/test/helpers/replicas.js';

const N = envNumber('EDGEHOOK_BENCH_AGENTS', 2000);
const R = Math.max(2, envNumber('EDGEHOOK_BENCH_REPLICAS', 2));
const PING_S = envNumber('EDGEHOOK_BENCH_PING_SECONDS', 20);
const PING_RATE = envNumber('EDGEHOOK_BENCH_PING_RATE', 50);
const ENROLL_CONCURRENCY = envNumber('EDGEHOOK_BENCH_ENROLL_CONCURRENCY', 20);
const BATCH = envNumber('EDGEHOOK_BENCH_CONNECT_BATCH', 200);
const TELEMETRY_EVERY_MS = envNumber('EDGEHOOK_BENCH_TELEMETRY_EVERY_MS', 10_000);
const ADMIN_PASSWORD = 'bench-admin-password';
// api: every agent enrolls through replica 1 (dynsec commands); bulk: identities written before start (lib/bulk-provision.ts).
const PROVISION = process.env['EDGEHOOK_BENCH_PROVISION'] ?? (N > 1000 ? 'bulk' : 'api');
// Simulator processes (bulk provisioning only): each holds at most ~5,000 agents by default (one file per socket, one event loop).
const SIM_PROCS = PROVISION === 'bulk' ? envNumber('EDGEHOOK_BENCH_SIM_PROCS', Math.max(1, Math.ceil(N / 5000))) : 1;
const log = (msg: string): void => console.log(`[fleet-replicas ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/**
 * The broker as docs/deploy/mosquitto.conf sets it up: queues and in-flight windows sized for a
 * fleet (the default of 20 QoS 1 messages in flight per client throttles each replica's shared
 * subscriptions to one window per round trip), and no per-message debug log (the test helper's
 * `log_type all` writes a line per PUBLISH/PUBACK, which at 20,000 agents costs the broker more
 * than routing them and piles up in this process).
 */
function benchMosquittoConf(p: { port: number; plugin: string; dynsecFile: string }): string {
  return [`listener ${p.port} 127.0.0.1`, 'per_listener_settings false', 'allow_anonymous false', `plugin ${p.plugin}`, `plugin_opt_config_file ${p.dynsecFile}`, 'persistence false', 'max_queued_messages 1000000', 'max_inflight_messages 1000', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n');
}

interface ReplicaProc extends RunningProcess {
  url: string;
  api: ApiClient;
}

async function startReplica(i: number, env: Record<string, string>, db: string, broker: { url: string; username: string }): Promise<{ replica: ReplicaProc; ms: number }> {
  const started = performance.now();
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), `edgehook-bench-replica${i}-`));
  // EDGEHOOK_BENCH_CP_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", applies to every replica.
  const nodeArgs = (process.env['EDGEHOOK_BENCH_CP_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const proc = startProcess(`replica-${i}`, [...nodeArgs, CP_MAIN, 'serve', '--port', String(port), '--data-dir', dataDir, '--database', db, '--broker', broker.url, '--broker-username', broker.username, '--log-level', 'info', '--log-format', 'json'], env);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('replica healthy', async () => {
    if (proc.child.exitCode !== null) throw new Error(`replica ${i} exited: ${proc.output.tail.join('\n')}`);
    return (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)) || undefined;
  }, 180_000, 100).catch((err: unknown) => {
    proc.child.kill('SIGKILL');
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${proc.output.tail.join('\n')}`);
  });
  const api = new ApiClient(url, '', 64);
  await api.login(ADMIN_PASSWORD);
  return { replica: Object.assign(proc, { url, api }), ms: performance.now() - started };
}

/** Operator traffic through a plain round-robin balancer that retries a failed request on the next replica. */
async function roundRobinPings(replicas: ReplicaProc[], deviceIds: string[], rate: number, durationMs: number, onTick?: (t: number) => void) {
  const errors: number[] = [];
  let retriedOk = 0;
  let ok = 0;
  let failedAfterRetry = 0;
  let k = 0;
  const t0 = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let n = 0; performance.now() - t0 < durationMs; n++) {
    const due = t0 + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    onTick?.(performance.now() - t0);
    const id = deviceIds[Math.floor(Math.random() * deviceIds.length)] ?? '';
    const first = k++ % replicas.length;
    inFlight.push(
      (async () => {
        for (let attempt = 0; attempt < replicas.length; attempt++) {
          const r = replicas[(first + attempt) % replicas.length];
          if (!r) continue;
          const res = await r.api.call('POST', `/api/devices/${id}/ping`, undefined, { timeoutMs: 5000 }).catch(() => undefined);
          if (res?.status === 200) {
            if (attempt === 0) ok++;
            else retriedOk++;
            return;
          }
          errors.push(performance.now() - t0);
        }
        failedAfterRetry++;
      })(),
    );
  }
  await Promise.all(inFlight);
  return { ok, retriedOk, failedAfterRetry, errors };
}

export async function runReplicasBench(): Promise<void> {
  const found = findMosquitto();
  if ('missing' in found) throw new Error(found.missing);
  const db = await throwawayPostgres();
  if ('missing' in db) throw new Error(db.missing);
  const bulk = PROVISION === 'bulk' ? bulkDevices(N) : [];
  const provisionStart = performance.now();
  const mosquitto = await startMosquitto(found, { conf: benchMosquittoConf, dynsec: (config) => addToDynsec(config, bulk) });
  if (bulk.length > 0) await insertIntoStore(db.url, bulk);
  const provisionMs = performance.now() - provisionStart;
  const env = { EDGEHOOK_BROKER_PASSWORD: mosquitto.admin.password, EDGEHOOK_ADMIN_PASSWORD: ADMIN_PASSWORD };
  const broker = { url: mosquitto.url, username: mosquitto.admin.username };
  const replicas: ReplicaProc[] = [];
  let sim: SimPool | undefined;
  const results: Record<string, unknown> = { bench: 'fleet-replicas', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), config: { agents: N, replicas: R, pingSeconds: PING_S, pingRate: PING_RATE, telemetryEveryMs: TELEMETRY_EVERY_MS, simProcesses: SIM_PROCS } };
  try {
    replicas.push((await startReplica(1, env, db.url, broker)).replica);
    for (let i = 2; i <= R; i++) replicas.push((await startReplica(i, env, db.url, broker)).replica);
    const [a] = replicas;
    if (!a) throw new Error('no replica');
    let lastLogged = 0;
    sim = await SimPool.start(SIM_PROCS, (p) => {
      if (p.connected - lastLogged < 1000 && p.connected !== p.total) return;
      lastLogged = p.connected;
      log(`  connected ${p.connected}/${p.total}`);
    });
    log(`${SIM_PROCS} simulator process(es): ${sim.pids.join(', ')}`);
    let enrolled: { enrolled: number; ms: number };
    let deviceIds: string[];
    if (bulk.length > 0) {
      deviceIds = await sim.adopt(bulk.map((d) => ({ ...d, url: mosquitto.url })));
      enrolled = { enrolled: deviceIds.length, ms: provisionMs };
      results['enroll'] = { provision: 'bulk', ms: provisionMs };
      log(`bulk-provisioned ${N} devices (dynsec file + store) in ${fmt(provisionMs / 1000)} s`);
    } else {
      const token = await a.api.enrollmentToken(N, 7200);
      log(`enrolling ${N} agents through replica 1 (${ENROLL_CONCURRENCY} in flight): each is a dynsec client + role`);
      const [enroller] = sim.sims;
      if (!enroller) throw new Error('no simulator');
      const result = await enroller.call({ cmd: 'enroll', server: a.url, token, count: N, concurrency: ENROLL_CONCURRENCY });
      const { deviceIds: ids, ...enrollSummary } = result;
      deviceIds = ids;
      enrolled = result;
      results['enroll'] = { provision: 'api', ...enrollSummary };
      log(`enrolled ${result.enrolled} in ${fmt(result.ms / 1000)} s`);
    }
    const connectStart = performance.now();
    const connected = await sim.connect(BATCH, 60_000, 600_000);
    const last = replicas[replicas.length - 1] ?? a;
    const onlineMs = await waitFor('all online per the last replica', async () => ((await last.api.onlineCount()) === enrolled.enrolled ? performance.now() - connectStart : undefined), 300_000, 500);
    results['connect'] = { ...connected, allOnlineViaApiMs: onlineMs };
    log(`connected ${connected.connected} in ${fmt(connected.ms / 1000)} s; online per replica ${R} after ${fmt(onlineMs / 1000)} s`);

    await sim.telemetryStart(TELEMETRY_EVERY_MS);
    const telemetryStart = performance.now();
    const pings: PingResult[] = [];
    for (const r of replicas) pings.push(await runPingLoad(r.api, deviceIds, { rate: PING_RATE, durationMs: PING_S * 1000 }));
    const rss = replicas.map((r) => memoryOf(r.pid).rssKb);
    const mosquittoPid = mosquitto.pid();
    const mosquittoRss = mosquittoPid ? memoryOf(mosquittoPid).rssKb : NaN;
    log(`pings: ${pings.map((p, i) => `replica ${i + 1} p50 ${p.http.p50} / p99 ${p.http.p99} ms, errors ${p.errors}`).join('; ')}`);

    log('kill -9 of replica 1 under pings (round robin, retry on the next replica) and telemetry');
    await sim.mark();
    let killedAt = NaN;
    const rr = await roundRobinPings(replicas, deviceIds, PING_RATE, 20_000, (t) => {
      if (Number.isNaN(killedAt) && t >= 5000) {
        killedAt = t;
        a.child.kill('SIGKILL');
      }
    });
    const report = await sim.restartReport();
    const deviceDisconnects = report.closesSinceMark.reduce((s, n) => s + n, 0);
    const errAfterKill = rr.errors.filter((t) => t >= killedAt);
    const errorWindowMs = errAfterKill.length > 0 ? Math.max(...errAfterKill) - killedAt : 0;
    log(`after the kill: ${deviceDisconnects} device disconnects, ${errAfterKill.length} requests hit the dead replica (last ${fmt(errorWindowMs / 1000, 1)} s after), ${rr.failedAfterRetry} failed after a retry`);

    const restart = await startReplica(1, env, db.url, broker);
    replicas[0] = restart.replica;
    log(`replica 1 restarted and healthy in ${fmt(restart.ms / 1000, 2)} s`);

    // The agents re-send what no replica acknowledged (the killed one's backlog), for up to a minute.
    const tel = await sim.telemetryStop(60_000);
    const telemetryS = (performance.now() - telemetryStart) / 1000;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const count = async (): Promise<number> => Number((await client.query('select count(*) as n from telemetry_batches')).rows[0]?.n ?? 0);
    // Loaded replicas lag behind: wait until every batch is stored or the count stops moving for 10 s.
    let stored = await count();
    for (let still = 0; stored < tel.batches && still < 10; ) {
      await sleep(1000);
      const now = await count();
      still = now === stored ? still + 1 : 0;
      stored = now;
    }
    const samples = Number((await client.query('select count(*) as n from telemetry_samples')).rows[0]?.n ?? 0);
    await client.end();
    const lost = tel.batches - stored;
    results['telemetry'] = { ...tel, perDevice: undefined, stored, samples, seconds: telemetryS, lost };
    results['ping'] = pings;
    results['memory'] = { replicasRssKb: rss, mosquittoRssKb: mosquittoRss };
    results['kill'] = { deviceDisconnects, hitsOnDeadReplica: errAfterKill.length, errorWindowMs, failedAfterRetry: rr.failedAfterRetry, retriedOk: rr.retriedOk, ok: rr.ok, restartMs: restart.ms };

    const rows: Row[] = [
      { metric: bulk.length > 0 ? 'devices bulk-provisioned (dynsec file + store)' : `agents enrolled through replica 1 (${ENROLL_CONCURRENCY} in flight)`, value: `${enrolled.enrolled} in ${fmt(enrolled.ms / 1000)} s (${fmt(enrolled.enrolled / (enrolled.ms / 1000), 0)}/s)` },
      { metric: `agents connected to Mosquitto (batches of ${BATCH})`, value: `${connected.connected} in ${fmt(connected.ms / 1000)} s`, target: String(N), pass: connected.connected === N },
      { metric: `all online per replica ${R}`, value: fmt(onlineMs / 1000, 1, ' s') },
      ...pings.map((p, i): Row => ({ metric: `ping via replica ${i + 1} p50 / p99 @ ${p.rate}/s, errors`, value: `${fmt(p.http.p50, 2)} / ${fmt(p.http.p99, 2)} ms, ${p.errors} of ${p.sent}` })),
      ...rss.map((kb, i): Row => ({ metric: `replica ${i + 1} RSS`, value: fmt(kb / 1024, 1, ' MB') })),
      { metric: 'Mosquitto RSS', value: fmt(mosquittoRss / 1024, 1, ' MB') },
      { metric: 'kill -9 replica 1: device disconnects', value: String(deviceDisconnects), target: '0', pass: deviceDisconnects === 0 },
      { metric: 'kill -9: requests sent to the dead replica (a naive round robin keeps trying it) / last', value: `${errAfterKill.length} / ${fmt(errorWindowMs / 1000, 1)} s after the kill` },
      { metric: 'kill -9: requests failed after one retry on the next replica', value: String(rr.failedAfterRetry), target: '0', pass: rr.failedAfterRetry === 0 },
      { metric: 'replica restart to healthy', value: fmt(restart.ms / 1000, 2, ' s') },
      { metric: `telemetry: batches made (1 per agent per ${TELEMETRY_EVERY_MS / 1000} s) / stored`, value: `${tel.batches} / ${stored} in ${fmt(telemetryS, 0)} s` },
      { metric: 'telemetry: re-sent for want of a storage ack / never acknowledged', value: `${tel.resent} / ${tel.unacked}` },
      { metric: 'telemetry rows stored / s', value: fmt(samples / telemetryS, 0) },
      { metric: 'telemetry lost (made, not stored after the re-sends)', value: String(lost), target: '0', pass: lost === 0 },
    ];
    printTable(`fleet on ${R} replicas, Mosquitto ${mosquitto.url}, PostgreSQL (${N} agents)`, rows);
    results['rows'] = rows;
    results['replicaLogs'] = [...replicas, a].map((r) => r.output.summary());
    console.log(JSON.stringify(results['replicaLogs'], null, 1).slice(0, 4000));
    log(`results: ${writeResults('fleet-replicas', results)}`);
  } finally {
    await sim?.stop().catch(() => undefined);
    for (const r of replicas) await r.stop(2000).catch(() => undefined);
    await mosquitto.stop();
    await db.stop();
  }
}
