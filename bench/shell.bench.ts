/**
 * Shell relay benchmark: a real control plane (own process) and a real agent (own process, node-pty),
 * driven over the operator websocket from this process.
 *   1. keystroke echo through the whole relay (ws -> control plane -> broker -> agent -> pty and back),
 *      beside the same keystrokes over ssh to localhost (a private sshd on a free port) in the same run;
 *   2. `yes` flooding a shell: control-plane RSS growth, throughput, then Ctrl-C latency.
 *
 *   node --import tsx bench/shell.bench.ts      (or: npm run bench -- shell)
 *
 * Sizes: EDGEHOOK_BENCH_KEYSTROKES (2000), EDGEHOOK_BENCH_FLOOD_SECONDS (60), EDGEHOOK_BENCH_KEY_BLOCKS (4).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, memoryOf, sleep, startControlPlaneProcess, startEnrolledAgent, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row, type Summary } from './lib/report.js';

const KEYSTROKES = envNumber('EDGEHOOK_BENCH_KEYSTROKES', 2000);
const FLOOD_S = envNumber('EDGEHOOK_BENCH_FLOOD_SECONDS', 60);
/** Relay and ssh echo alternate in this many blocks. */
const KEY_BLOCKS = envNumber('EDGEHOOK_BENCH_KEY_BLOCKS', 4);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[shell ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Something that takes keystrokes and hands back terminal output. */
interface Terminal {
  send(data: Buffer): void;
  onData(listener: (data: Buffer) => void): void;
  close(): void;
}

async function relayTerminal(base: string, token: string, deviceId: string): Promise<Terminal> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/devices/${deviceId}/shell`, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const listeners: Array<(d: Buffer) => void> = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) for (const l of listeners) l(data);
      else {
        const msg = JSON.parse(data.toString()) as { type: string; message?: string };
        if (msg.type === 'opened') resolve();
        if (msg.type === 'error') reject(new Error(msg.message));
      }
    });
  });
  ws.send(JSON.stringify({ type: 'open', cols: 120, rows: 40, shell: '/bin/sh' }));
  await opened;
  return { send: (d) => ws.send(d, { binary: true }), onData: (l) => listeners.push(l), close: () => ws.close() };
}

/** A private sshd on a free port (its own host key, authorized key and pid file), if openssh-server is installed. */
async function startSshd(dir: string): Promise<{ port: number; key: string; proc: ChildProcess } | string> {
  const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
  if (!sshd) return 'sshd not installed (apt-get install -y openssh-server)';
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'host_ed25519');
  for (const k of [key, hostKey]) if (spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]).status !== 0) return 'ssh-keygen failed';
  await writeFile(join(dir, 'authorized_keys'), await import('node:fs/promises').then((fs) => fs.readFile(`${key}.pub`, 'utf8')));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  await writeFile(config, [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, `PidFile ${join(dir, 'sshd.pid')}`, 'PasswordAuthentication no', 'StrictModes no', 'UsePAM no', 'PermitRootLogin yes', 'LogLevel ERROR'].join('\n') + '\n');
  spawnSync('mkdir', ['-p', '/run/sshd']);
  const proc = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  await sleep(500);
  if (proc.exitCode !== null) return `sshd exited: ${err.trim()}`;
  return { port, key, proc };
}

async function sshTerminal(port: number, key: string): Promise<Terminal> {
  const user = process.env['USER'] ?? 'root';
  const child = spawn('ssh', ['-tt', '-i', key, '-p', String(port), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `${user}@127.0.0.1`, '/bin/sh'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const listeners: Array<(d: Buffer) => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    for (const l of listeners) l(d);
  });
  return { send: (d) => child.stdin.write(d), onData: (l) => listeners.push(l), close: () => child.kill('SIGTERM') };
}

/** Types x, DEL, x, DEL... one at a time, waiting for each echo: the interactive round trip. */
async function echoLatency(term: Terminal, n: number, warmup = 50): Promise<number[]> {
  let waiter: (() => void) | undefined;
  term.onData(() => waiter?.());
  // Settle: the prompt and anything else the shell prints first.
  term.send(Buffer.from('stty -ixon 2>/dev/null; echo ready\r'));
  await sleep(1000);
  const rtts: number[] = [];
  for (let i = 0; i < n + warmup; i++) {
    const key = Buffer.from(i % 2 === 0 ? 'x' : '\x7f');
    const echoed = new Promise<void>((resolve) => (waiter = resolve));
    const t0 = performance.now();
    term.send(key);
    await Promise.race([echoed, sleep(2000)]);
    waiter = undefined;
    if (i >= warmup) rtts.push(performance.now() - t0); // the first keys warm up the path
    await sleep(1); // let any trailing bytes of this echo arrive before the next key
  }
  return rtts;
}

async function flood(cp: ControlPlaneProcess, agentPid: number, term: Terminal, seconds: number): Promise<{ bytes: number; mbPerS: number; rssBaseKb: number; rssMaxKb: number; ctrlCMs: number; agentCpuMsPerMb: number; cpCpuMsPerMb: number }> {
  let bytes = 0;
  let tail = '';
  let promptWaiter: (() => void) | undefined;
  const MARK = 'EHPROMPT$ ';
  term.onData((d) => {
    bytes += d.length;
    tail = (tail + d.toString('latin1')).slice(-64);
    if (promptWaiter && tail.includes(MARK)) promptWaiter();
  });
  term.send(Buffer.from("PS1='EHP''ROMPT$ '\r"));
  await sleep(1000);
  const rssBaseKb = memoryOf(cp.pid).rssKb;
  let rssMaxKb = rssBaseKb;
  term.send(Buffer.from('yes\r'));
  const started = performance.now();
  const startBytes = bytes;
  const cpu0 = { agent: cpuSecondsOf(agentPid), cp: cpuSecondsOf(cp.pid) };
  while (performance.now() - started < seconds * 1000) {
    await sleep(500);
    rssMaxKb = Math.max(rssMaxKb, memoryOf(cp.pid).rssKb);
  }
  const elapsed = (performance.now() - started) / 1000;
  const flooded = bytes - startBytes;
  const perMb = (now: number, before: number) => ((now - before) * 1000) / (flooded / 1048576);
  const agentCpuMsPerMb = perMb(cpuSecondsOf(agentPid), cpu0.agent);
  const cpCpuMsPerMb = perMb(cpuSecondsOf(cp.pid), cpu0.cp);
  tail = '';
  const prompt = new Promise<void>((resolve) => (promptWaiter = resolve));
  const t0 = performance.now();
  term.send(Buffer.from('\x03'));
  await Promise.race([prompt, sleep(30_000)]);
  const ctrlCMs = performance.now() - t0;
  return { bytes: flooded, mbPerS: flooded / 1048576 / elapsed, rssBaseKb, rssMaxKb, ctrlCMs, agentCpuMsPerMb, cpCpuMsPerMb };
}

/** The same `yes` in a node-pty in this process, no relay: what the pty itself gives on this machine now. */
async function rawPtyThroughput(seconds: number): Promise<number> {
  const pty = await import('node-pty');
  const term = pty.spawn('/bin/sh', ['-c', 'yes'], { cols: 120, rows: 40 });
  let bytes = 0;
  term.onData((d) => (bytes += d.length));
  await sleep(seconds * 1000);
  term.kill();
  return bytes / 1048576 / seconds;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-bench-shell-'));
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  let sshd: ChildProcess | undefined;
  const terms: Terminal[] = [];
  const results: Record<string, unknown> = { bench: 'shell', startedAt: new Date().toISOString(), machine: machine(), config: { keystrokes: KEYSTROKES, floodSeconds: FLOOD_S } };
  const cleanup = async (): Promise<void> => {
    for (const t of terms) t.close();
    sshd?.kill('SIGTERM');
    await Promise.allSettled([agent?.stop(3000), cp?.stop(3000)]);
    await rm(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const [port, mqttPort] = [await freePort(), await freePort()];
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir: join(dir, 'cp'), adminPassword: ADMIN_PASSWORD });
    const api = new ApiClient(cp.url);
    await api.login(ADMIN_PASSWORD);
    const enrolled = await startEnrolledAgent(api, { stateDir: join(dir, 'agent'), hostname: 'bench-shell' });
    agent = enrolled.agent;
    const { deviceId } = enrolled;
    log(`control plane ${cp.url}, agent online as ${deviceId}`);

    const relay = await relayTerminal(cp.url, api.token, deviceId);
    terms.push(relay);
    let sshEcho: Summary | undefined;
    let sshNote = '';
    const started = await startSshd(dir);
    let ssh: Terminal | undefined;
    if (typeof started === 'string') sshNote = started;
    else {
      sshd = started.proc;
      ssh = await sshTerminal(started.port, started.key);
      terms.push(ssh);
    }
    // Other work on the machine changes over a run: relay and ssh take turns in blocks, so both
    // see the same load.
    const relayRtts: number[] = [];
    const sshRtts: number[] = [];
    const block = Math.ceil(KEYSTROKES / KEY_BLOCKS);
    for (let b = 0; b < KEY_BLOCKS; b++) {
      log(`keystroke echo block ${b + 1}/${KEY_BLOCKS}: relay then ssh (${block} keys each)`);
      relayRtts.push(...(await echoLatency(relay, block, b === 0 ? 50 : 10)));
      if (ssh) sshRtts.push(...(await echoLatency(ssh, block, b === 0 ? 50 : 10)));
    }
    const relayEcho = summarize(relayRtts);
    if (ssh) sshEcho = summarize(sshRtts);
    const flooder = await relayTerminal(cp.url, api.token, deviceId);
    terms.push(flooder);
    // The baseline runs right before and right after the relay's flood; their mean is the reference.
    const rawS = Math.min(10, FLOOD_S);
    log(`baseline: yes in a node-pty in this process, no relay (${rawS} s)`);
    const rawBefore = await rawPtyThroughput(rawS);
    log(`yes flood for ${FLOOD_S} s`);
    const f = await flood(cp, agent.pid, flooder, FLOOD_S);
    const growthMb = (f.rssMaxKb - f.rssBaseKb) / 1024;
    log(`baseline again (${rawS} s)`);
    const rawAfter = await rawPtyThroughput(rawS);
    const rawMbPerS = (rawBefore + rawAfter) / 2;
    results['rawPtyMbPerS'] = { before: rawBefore, after: rawAfter, mean: rawMbPerS };

    results['relayEchoMs'] = relayEcho;
    results['sshEchoMs'] = sshEcho ?? sshNote;
    results['flood'] = { ...f, rssGrowthMb: growthMb };
    const rows: Row[] = [
      { metric: 'relay keystroke echo p50', value: fmt(relayEcho.p50, 2, ' ms'), target: '<= 2 ms', pass: relayEcho.p50 <= 2 },
      { metric: 'relay keystroke echo p99', value: fmt(relayEcho.p99, 2, ' ms'), target: '<= 15 ms', pass: relayEcho.p99 <= 15 },
      { metric: 'ssh localhost echo p50 / p99', value: sshEcho ? `${fmt(sshEcho.p50, 2)} / ${fmt(sshEcho.p99, 2)} ms` : `n/a (${sshNote})` },
      { metric: 'relay / ssh ratio p50 / p99', value: sshEcho ? `${fmt(relayEcho.p50 / sshEcho.p50, 2)} / ${fmt(relayEcho.p99 / sshEcho.p99, 2)}` : 'n/a', target: '<= 2 / 2', ...(sshEcho ? { pass: relayEcho.p50 <= 2 * sshEcho.p50 && relayEcho.p99 <= 2 * sshEcho.p99 } : {}) },
      { metric: `yes flood throughput (${FLOOD_S} s)`, value: fmt(f.mbPerS, 1, ' MB/s'), target: '>= 10 MB/s', pass: f.mbPerS >= 10 },
      { metric: 'same yes in node-pty, no relay (baseline before / after)', value: `${fmt(rawMbPerS, 1, ' MB/s')} (${fmt(rawBefore, 1)} / ${fmt(rawAfter, 1)})` },
      { metric: 'relay flood / no-relay baseline', value: fmt((100 * f.mbPerS) / rawMbPerS, 0, '%'), target: '>= 90%', pass: f.mbPerS >= 0.9 * rawMbPerS },
      { metric: 'CPU per MB flooded: agent / control plane', value: `${fmt(f.agentCpuMsPerMb, 0, ' ms')} / ${fmt(f.cpCpuMsPerMb, 0, ' ms')}`, target: '' },
      { metric: 'control-plane RSS growth during flood', value: fmt(growthMb, 1, ' MB'), target: '< 50 MB', pass: growthMb < 50 },
      { metric: 'Ctrl-C to prompt after flood', value: fmt(f.ctrlCMs, 0, ' ms'), target: '< 500 ms', pass: f.ctrlCMs < 500 },
    ];
    printTable('Shell relay', rows);
    results['rows'] = rows;
    log(`results: ${writeResults('shell', results)}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
