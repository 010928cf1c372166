/**
 * Containers benchmark: a real control plane and a real agent (own processes) with a private Podman
 * service (Docker-compatible API, runc, a local busybox image).
 *   1. start/stop through the whole chain (REST -> control plane -> MQTT -> agent -> engine) beside
 *      the same calls made directly on the engine socket, alternating, in the same run;
 *   2. console output through the Wings socket (a container flooding 1 KB lines);
 *   3. stats for 20 running containers streamed at the engine's 1 Hz to 20 Wings sockets: agent CPU.
 *
 *   node --import tsx bench/containers.bench.ts      (or: npm run bench -- containers)
 *
 * Sizes: EDGEHOOK_BENCH_POWER_CYCLES (20), EDGEHOOK_BENCH_CONSOLE_SECONDS (10),
 * EDGEHOOK_BENCH_STATS_CONTAINERS (20), EDGEHOOK_BENCH_STATS_SECONDS (30).
 */
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { z } from 'zod';
import { startTestEngine, TEST_IMAGE, type TestEngine } from '../agent/test/containers/podman-engine.js';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, sleep, startControlPlaneProcess, startEnrolledAgent, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, summarize, writeResults, type Row } from './lib/report.js';

const CYCLES = envNumber('EDGEHOOK_BENCH_POWER_CYCLES', 20);
const CONSOLE_S = envNumber('EDGEHOOK_BENCH_CONSOLE_SECONDS', 10);
const STATS_N = envNumber('EDGEHOOK_BENCH_STATS_CONTAINERS', 20);
const STATS_S = envNumber('EDGEHOOK_BENCH_STATS_SECONDS', 30);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[containers ${new Date().toISOString().slice(11, 19)}] ${msg}`);

// Exits at once on SIGTERM (busybox sh as pid 1 would otherwise ignore it until the stop timeout).
const IDLE_CMD = ['sh', '-c', "trap 'exit 0' TERM; sleep 100000 & wait"];
const ConsoleToken = z.object({ data: z.object({ token: z.string(), socket: z.string() }) });
const Frame = z.object({ event: z.string(), args: z.array(z.string()).optional() });

/** One call on the engine's own socket: the baseline the chain is compared with. */
function engineCall(socket: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: { 'content-length': '0' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function openWings(api: ApiClient, deviceId: string, ref: string, onFrame: (event: string, args: string[], bytes: number) => void): Promise<WebSocket> {
  const res = await api.call('GET', `/api/devices/${deviceId}/containers/${ref}/websocket`);
  const token = ConsoleToken.parse(res.body);
  const ws = new WebSocket(`${api.base.replace(/^http/, 'ws')}${token.data.socket}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const authed = new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      const frame = Frame.safeParse(JSON.parse(raw.toString()));
      if (!frame.success) return;
      if (frame.data.event === 'auth success') resolve();
      onFrame(frame.data.event, frame.data.args ?? [], raw.length);
    });
  });
  ws.send(JSON.stringify({ event: 'auth', args: [token.data.token] }));
  await authed;
  return ws;
}

async function powerCycles(api: ApiClient, engine: TestEngine, deviceId: string): Promise<Record<string, unknown>> {
  const base = `/api/devices/${deviceId}/containers`;
  await api.expect(201, 'POST', base, { spec: { name: 'bench-chain', image: TEST_IMAGE, cmd: IDLE_CMD } });
  await api.expect(201, 'POST', base, { spec: { name: 'bench-direct', image: TEST_IMAGE, cmd: IDLE_CMD } });
  const chain = { start: [] as number[], stop: [] as number[] };
  const direct = { start: [] as number[], stop: [] as number[] };
  const chainStart = async (): Promise<void> => void chain.start.push(await timed(() => api.expect(200, 'POST', `${base}/bench-chain/power`, { action: 'start' })));
  const directStart = async (): Promise<void> => void direct.start.push(await timed(() => engineCall(engine.socket, 'POST', '/v1.41/containers/bench-direct/start')));
  const chainStop = async (): Promise<void> => void chain.stop.push(await timed(() => api.expect(200, 'POST', `${base}/bench-chain/power`, { action: 'stop', timeoutSec: 10 })));
  const directStop = async (): Promise<void> => void direct.stop.push(await timed(() => engineCall(engine.socket, 'POST', '/v1.41/containers/bench-direct/stop?t=10')));
  for (let i = 0; i < CYCLES; i++) {
    // Interleaved, and which side goes first swaps every cycle, so drift in the engine's speed and
    // the cost of following another container's start or stop fall on both sides alike.
    if (i % 2 === 0) {
      await chainStart();
      await directStart();
      await sleep(200);
      await chainStop();
      await directStop();
    } else {
      await directStart();
      await chainStart();
      await sleep(200);
      await directStop();
      await chainStop();
    }
  }
  await api.call('DELETE', `${base}/bench-chain?force=1`);
  await api.call('DELETE', `${base}/bench-direct?force=1`);
  return { chainStart: summarize(chain.start), directStart: summarize(direct.start), chainStop: summarize(chain.stop), directStop: summarize(direct.stop) };
}

async function consoleFlood(api: ApiClient, deviceId: string): Promise<{ mbPerS: number; lines: number }> {
  const base = `/api/devices/${deviceId}/containers`;
  // Waits for a line on stdin, then floods 1 KB lines.
  const flood = "read go; line=$(head -c 1000 /dev/zero | busybox tr '\\0' x); yes \"$line\"";
  await api.expect(201, 'POST', base, { spec: { name: 'bench-flood', image: TEST_IMAGE, cmd: ['sh', '-c', flood] }, start: true });
  let bytes = 0;
  let lines = 0;
  let measuring = false;
  const ws = await openWings(api, deviceId, 'bench-flood', (event, args) => {
    if (event !== 'console output' || !measuring) return;
    lines++;
    bytes += (args[0]?.length ?? 0) + 1;
  });
  await sleep(1000);
  ws.send(JSON.stringify({ event: 'send command', args: ['go'] }));
  await sleep(1000);
  measuring = true;
  const t0 = performance.now();
  await sleep(CONSOLE_S * 1000);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  ws.close();
  await api.call('DELETE', `${base}/bench-flood?force=1`);
  return { mbPerS: bytes / seconds / 1e6, lines };
}

async function statsFanout(api: ApiClient, agent: RunningProcess, deviceId: string): Promise<{ cpuPercent: number; samplesPerS: number; idleCpuPercent: number }> {
  const base = `/api/devices/${deviceId}/containers`;
  for (let i = 0; i < STATS_N; i++) await api.expect(201, 'POST', base, { spec: { name: `bench-stats-${i}`, image: TEST_IMAGE, cmd: IDLE_CMD }, start: true });
  // The agent's CPU with the containers running but nobody watching, as the baseline.
  await sleep(3000);
  const idle0 = cpuSecondsOf(agent.pid);
  await sleep(10_000);
  const idleCpuPercent = ((cpuSecondsOf(agent.pid) - idle0) / 10) * 100;
  let samples = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < STATS_N; i++) {
    sockets.push(await openWings(api, deviceId, `bench-stats-${i}`, (event) => {
      if (event === 'stats') samples++;
    }));
  }
  await sleep(5000);
  samples = 0;
  const cpu0 = cpuSecondsOf(agent.pid);
  const t0 = performance.now();
  await sleep(STATS_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const cpuPercent = ((cpuSecondsOf(agent.pid) - cpu0) / seconds) * 100;
  const samplesPerS = samples / seconds;
  for (const ws of sockets) ws.close();
  for (let i = 0; i < STATS_N; i++) await api.call('DELETE', `${base}/bench-stats-${i}?force=1`);
  return { cpuPercent, samplesPerS, idleCpuPercent };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-bench-containers-'));
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  const engine = await startTestEngine();
  if (!engine) throw new Error('the containers benchmark needs podman, runc and busybox-static (apt-get install podman runc busybox-static)');
  try {
    const [port, mqttPort] = [await freePort(), await freePort()];
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir: join(dir, 'cp'), adminPassword: ADMIN_PASSWORD });
    const api = new ApiClient(cp.url);
    await api.login(ADMIN_PASSWORD);
    const started = await startEnrolledAgent(api, { stateDir: join(dir, 'agent'), hostname: 'bench-containers', args: ['--docker-socket', engine.socket, '--telemetry-interval', '60s'] });
    agent = started.agent;
    const { deviceId } = started;
    log(`control plane ${cp.url}, agent online as ${deviceId}, engine ${engine.socket} (${engine.storageDriver})`);

    log(`start/stop, ${CYCLES} cycles through the chain and directly`);
    const power = await powerCycles(api, engine, deviceId);
    log(`console flood for ${CONSOLE_S} s`);
    const flood = await consoleFlood(api, deviceId);
    log(`stats for ${STATS_N} containers for ${STATS_S} s`);
    const stats = await statsFanout(api, agent, deviceId);

    const p = (k: string): { p50: number; p99: number } => z.object({ p50: z.number(), p99: z.number() }).parse(power[k]);
    const startOverhead = p('chainStart').p50 - p('directStart').p50;
    const stopOverhead = p('chainStop').p50 - p('directStop').p50;
    const rows: Row[] = [
      { metric: 'start via chain p50 / p99', value: `${fmt(p('chainStart').p50, 1, ' ms')} / ${fmt(p('chainStart').p99, 1, ' ms')}` },
      { metric: 'start direct on engine p50 / p99', value: `${fmt(p('directStart').p50, 1, ' ms')} / ${fmt(p('directStart').p99, 1, ' ms')}` },
      { metric: 'start: chain adds (p50)', value: fmt(startOverhead, 1, ' ms'), target: '<= 50 ms', pass: startOverhead <= 50 },
      { metric: 'stop via chain p50 / p99', value: `${fmt(p('chainStop').p50, 1, ' ms')} / ${fmt(p('chainStop').p99, 1, ' ms')}` },
      { metric: 'stop direct on engine p50 / p99', value: `${fmt(p('directStop').p50, 1, ' ms')} / ${fmt(p('directStop').p99, 1, ' ms')}` },
      { metric: 'stop: chain adds (p50)', value: fmt(stopOverhead, 1, ' ms'), target: '<= 50 ms', pass: stopOverhead <= 50 },
      { metric: 'console output (Wings socket, 1 KB lines)', value: fmt(flood.mbPerS, 2, ' MB/s'), target: '>= 5 MB/s', pass: flood.mbPerS >= 5 },
      { metric: `stats: ${STATS_N} containers, samples/s received`, value: fmt(stats.samplesPerS, 1) },
      { metric: 'stats: agent CPU while streaming', value: fmt(stats.cpuPercent, 2, '% of a core'), target: '< 5%', pass: stats.cpuPercent < 5 },
      { metric: 'agent CPU, same containers, no watchers', value: fmt(stats.idleCpuPercent, 2, '% of a core') },
    ];
    printTable('Containers', rows);
    const file = writeResults('containers', { machine: machine(), revision: revision(), engine: { storageDriver: engine.storageDriver }, sizes: { CYCLES, CONSOLE_S, STATS_N, STATS_S }, power, flood, stats, rows });
    log(`results in ${file}`);
  } finally {
    await Promise.allSettled([agent?.stop(3000), cp?.stop(3000)]);
    await engine.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
