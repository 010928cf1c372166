/**
 * Port forwarding benchmark: a local HTTP server (its own process) stands for a device's web UI; the
 * same server is measured directly, through `edgehook forward` (the built CLI in its own process ->
 * control plane -> broker -> agent -> TCP), and through the HTTP proxy (/api/devices/:id/proxy/<port>/),
 * taking turns in blocks in the same run so all three see the same load; the ratios are the figures.
 *   1. request latency and rate: wrk (Debian's, when installed) on a 1 KB page, 4 keep-alive
 *      connections; without wrk, a node client with the same shape;
 *   2. throughput: a 64 MB download and a 64 MB upload (node client, sha256 checked).
 *
 *   node --import tsx bench/forward.bench.ts      (or: npm run bench -- forward)
 *
 * Knobs: EDGEHOOK_BENCH_FORWARD_SECONDS (10 per wrk run), EDGEHOOK_BENCH_FORWARD_BLOCKS (2), EDGEHOOK_BENCH_FORWARD_MB (64).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { CP_MAIN, freePort, startControlPlaneProcess, startEnrolledAgent, startProcess, waitFor, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, revision, summarize, writeResults, type Row } from './lib/report.js';

const SECONDS = envNumber('EDGEHOOK_BENCH_FORWARD_SECONDS', 10);
const BLOCKS = envNumber('EDGEHOOK_BENCH_FORWARD_BLOCKS', 2);
const MB = envNumber('EDGEHOOK_BENCH_FORWARD_MB', 64);
const CONNECTIONS = 4;
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[forward ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** The "device web UI": /small (1 KB), /big (MB MiB of a repeated pattern), POST /sink (sha256 of the body). */
const SERVER = `
const http = require('node:http'); const crypto = require('node:crypto');
const small = Buffer.alloc(1024, 'x'); const block = crypto.createHash('sha256').update('b').digest(); const chunk = Buffer.alloc(256 * 1024);
for (let i = 0; i < chunk.length; i += 32) block.copy(chunk, i);
const s = http.createServer((req, res) => {
  if (req.url === '/small') { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': small.length }); return res.end(small); }
  if (req.url.startsWith('/big')) { const total = ${MB} * 1024 * 1024; let sent = 0; res.writeHead(200, { 'content-length': total });
    const pump = () => { while (sent < total) { sent += chunk.length; if (!res.write(chunk)) return void res.once('drain', pump); } res.end(); }; return pump(); }
  if (req.url === '/sink') { const h = crypto.createHash('sha256'); let n = 0; req.on('data', (d) => { h.update(d); n += d.length; }); req.on('end', () => res.end(JSON.stringify({ n, sha: h.digest('hex') }))); return; }
  res.writeHead(404).end();
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;

interface Target {
  name: string;
  base: string;
  headers: Record<string, string>;
}

interface LatencyResult {
  rps: number;
  p50: number;
  p99: number;
  tool: string;
}

function wrkPath(): string | undefined {
  return ['/usr/bin/wrk', '/usr/local/bin/wrk'].find((p) => existsSync(p));
}

/** wrk's "50%  1.23ms" lines to ms. */
function wrkMs(text: string, label: string): number {
  const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

function runWrk(wrk: string, t: Target, seconds: number): LatencyResult {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...Object.entries(t.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${t.base}/small`];
  const out = spawnSync(wrk, args, { encoding: 'utf8' });
  const text = out.stdout ?? '';
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  if (/Non-2xx/.test(text)) throw new Error(`wrk saw errors on ${t.name}:\n${text}`);
  return { rps, p50: wrkMs(text, '50%'), p99: wrkMs(text, '99%'), tool: 'wrk' };
}

/** Without wrk: CONNECTIONS keep-alive loops for `seconds`, each timing its requests. */
async function runNodeClient(t: Target, seconds: number): Promise<LatencyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const lat: number[] = [];
  const until = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(`${t.base}/small`, { agent, headers: t.headers }, (res) => {
        res.resume();
        res.on('end', () => {
          lat.push(performance.now() - started);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < until) await one();
  }));
  agent.destroy();
  const s = summarize(lat);
  return { rps: lat.length / seconds, p50: s.p50, p99: s.p99, tool: 'node client' };
}

/** MB/s of one download of /big, and of one upload to /sink (checked by sha256). */
async function throughput(t: Target): Promise<{ downMbPerS: number; upMbPerS: number }> {
  const total = MB * 1024 * 1024;
  let started = performance.now();
  const got = await new Promise<number>((resolve, reject) => {
    request(`${t.base}/big`, { headers: t.headers }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
  const downMbPerS = total / 1048576 / ((performance.now() - started) / 1000);
  if (got !== total) throw new Error(`${t.name}: downloaded ${got} of ${total} bytes`);
  const chunk = Buffer.alloc(256 * 1024, 7);
  const expected = createHash('sha256');
  for (let sent = 0; sent < total; sent += chunk.length) expected.update(chunk);
  started = performance.now();
  const answer = await new Promise<string>((resolve, reject) => {
    const req = request(`${t.base}/sink`, { method: 'POST', headers: { ...t.headers, 'content-type': 'application/octet-stream', 'content-length': String(total) } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  const upMbPerS = total / 1048576 / ((performance.now() - started) / 1000);
  const parsed: unknown = JSON.parse(answer);
  const sha = typeof parsed === 'object' && parsed !== null && 'sha' in parsed ? parsed.sha : undefined;
  if (sha !== expected.digest('hex')) throw new Error(`${t.name}: upload arrived damaged: ${answer}`);
  return { downMbPerS, upMbPerS };
}

function cli(config: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [CP_MAIN, ...args], { env: { ...process.env, EDGEHOOK_CONFIG_DIR: config, EDGEHOOK_PASSWORD: ADMIN_PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-bench-forward-'));
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  let web: RunningProcess | undefined;
  let forward: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    forward?.kill('SIGINT');
    await Promise.allSettled([agent?.stop(3000), cp?.stop(3000), web?.stop(1000)]);
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  const results: Record<string, unknown> = { bench: 'forward', startedAt: new Date().toISOString(), machine: machine(), revision: revision(), config: { seconds: SECONDS, blocks: BLOCKS, mb: MB, connections: CONNECTIONS } };
  try {
    web = startProcess('web', ['-e', SERVER]);
    const webPort = Number(await waitFor('web server', () => /listening (\d+)/.exec(web?.output.tail.join('\n') ?? '')?.[1], 10_000));
    const [port, mqttPort] = [await freePort(), await freePort()];
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir: join(dir, 'cp'), adminPassword: ADMIN_PASSWORD, env: { EDGEHOOK_DEVICE_PROXY: 'true' } });
    const api = new ApiClient(cp.url);
    await api.login(ADMIN_PASSWORD);
    const enrolled = await startEnrolledAgent(api, { stateDir: join(dir, 'agent'), hostname: 'bench-forward', args: ['--telemetry-port', 'off'] });
    agent = enrolled.agent;
    const config = join(dir, 'cli');
    const login = cli(config, ['login', '--server', cp.url, '--username', 'admin']);
    const loginCode = await new Promise<number | null>((r) => login.once('exit', r));
    if (loginCode !== 0) throw new Error('CLI login failed');
    forward = cli(config, ['forward', 'bench-forward', `127.0.0.1:${webPort}`]);
    let fwdOut = '';
    forward.stdout?.on('data', (d) => (fwdOut += d));
    forward.stderr?.on('data', (d) => (fwdOut += d));
    const fwdPort = Number(await waitFor('edgehook forward', () => /forwarding 127\.0\.0\.1:(\d+)/.exec(fwdOut)?.[1], 15_000));
    log(`web :${webPort}, forward :${fwdPort}, control plane ${cp.url}, device ${enrolled.deviceId}`);

    const targets: Target[] = [
      { name: 'direct', base: `http://127.0.0.1:${webPort}`, headers: {} },
      { name: 'edgehook forward', base: `http://127.0.0.1:${fwdPort}`, headers: {} },
      { name: 'HTTP proxy', base: `${cp.url}/api/devices/${enrolled.deviceId}/proxy/${webPort}`, headers: { authorization: `Bearer ${api.token}` } },
    ];
    const wrk = wrkPath();
    const lat: Record<string, LatencyResult[]> = {};
    const tput: Record<string, Array<{ downMbPerS: number; upMbPerS: number }>> = {};
    for (let b = 0; b < BLOCKS; b++) {
      for (const t of targets) {
        log(`block ${b + 1}/${BLOCKS}: ${t.name} latency (${wrk ? 'wrk' : 'node client'}, ${SECONDS} s)`);
        (lat[t.name] ??= []).push(wrk ? runWrk(wrk, t, SECONDS) : await runNodeClient(t, SECONDS));
        log(`block ${b + 1}/${BLOCKS}: ${t.name} ${MB} MB down and up`);
        (tput[t.name] ??= []).push(await throughput(t));
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const agg = Object.fromEntries(
      targets.map((t) => {
        const l = lat[t.name] ?? [];
        const p = tput[t.name] ?? [];
        return [t.name, { rps: mean(l.map((x) => x.rps)), p50: mean(l.map((x) => x.p50)), p99: mean(l.map((x) => x.p99)), down: mean(p.map((x) => x.downMbPerS)), up: mean(p.map((x) => x.upMbPerS)) }];
      }),
    );
    results['latency'] = lat;
    results['throughput'] = tput;
    results['mean'] = agg;
    const d = agg['direct'];
    const rows: Row[] = [];
    for (const t of targets) {
      const a = agg[t.name];
      if (!a || !d) continue;
      rows.push({ metric: `${t.name}: requests/s (${CONNECTIONS} conns)`, value: `${fmt(a.rps, 0)}${t.name === 'direct' ? '' : ` (${fmt(a.rps / d.rps, 3)} of direct)`}` });
      rows.push({ metric: `${t.name}: latency p50 / p99`, value: `${fmt(a.p50, 2)} / ${fmt(a.p99, 2)} ms${t.name === 'direct' ? '' : ` (x${fmt(a.p50 / d.p50, 1)} / x${fmt(a.p99 / d.p99, 1)})`}` });
      rows.push({ metric: `${t.name}: ${MB} MB download / upload`, value: `${fmt(a.down, 1)} / ${fmt(a.up, 1)} MB/s${t.name === 'direct' ? '' : ` (${fmt(a.down / d.down, 3)} / ${fmt(a.up / d.up, 3)} of direct)`}` });
    }
    printTable(`Port forwarding (latency tool: ${wrk ? 'wrk' : 'node client'})`, rows);
    results['rows'] = rows;
    log(`results: ${writeResults('forward', results)}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
