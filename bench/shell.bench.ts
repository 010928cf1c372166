/**
 * Shell relay benchmark: a real control plane (own process) and a real agent (own process, node-pty),
 * driven over the operator websocket from this process.
 *   1. keystroke echo through the whole relay (ws -> control plane -> broker -> agent -> pty and back),
 *      beside the same keystrokes over ssh to localhost (a private sshd on a free port) in the same run;
 *      and beside two bare floors, the same processes with no Edgehook code, linked by bare aedes + mqtt.js
 *      or by raw TCP (bench/lib/bare-relay-peer.ts);
 *   2. `yes` flooding a shell: control-plane RSS growth, throughput, then Ctrl-C latency.
 *
 *   node --import tsx bench/shell.bench.ts      (or: npm run bench -- shell)
 *
 * Sizes: EDGEHOOK_BENCH_KEYSTROKES (2000), EDGEHOOK_BENCH_FLOOD_SECONDS (60), EDGEHOOK_BENCH_KEY_BLOCKS (4).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, memoryOf, sleep, startControlPlaneProcess, startEnrolledAgent, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row, type Summary } from './lib/report.js';
import { bareRelayTerminal, echoLatency, relayTerminal, sshTerminal, startSshd, type Terminal } from './lib/shell-terminals.js';

const KEYSTROKES = envNumber('EDGEHOOK_BENCH_KEYSTROKES', 2000);
const FLOOD_S = envNumber('EDGEHOOK_BENCH_FLOOD_SECONDS', 60);
/** Relay, the bare floors and ssh echo alternate in this many blocks. */
const KEY_BLOCKS = envNumber('EDGEHOOK_BENCH_KEY_BLOCKS', 4);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[shell ${new Date().toISOString().slice(11, 19)}] ${msg}`);

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
  const bareProcs: ChildProcess[][] = [];
  const terms: Terminal[] = [];
  const results: Record<string, unknown> = { bench: 'shell', startedAt: new Date().toISOString(), machine: machine(), config: { keystrokes: KEYSTROKES, floodSeconds: FLOOD_S } };
  const cleanup = async (): Promise<void> => {
    for (const t of terms) t.close();
    sshd?.kill('SIGTERM');
    for (const p of bareProcs.flat()) p.kill('SIGTERM');
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

    // Who answers the keystrokes, and which processes' CPU each costs: the relay, the two bare
    // floors (the same processes with no Edgehook code), then ssh (its CPU is not counted).
    const subjects: Array<{ name: string; term: Terminal; pids: number[]; rtts: number[]; cpuS: number[] }> = [];
    subjects.push({ name: 'relay', term: await relayTerminal(cp.url, api.token, deviceId), pids: [cp.pid, agent.pid], rtts: [], cpuS: [0, 0] });
    for (const link of ['mqtt', 'tcp'] as const) {
      const procs: ChildProcess[] = [];
      bareProcs.push(procs);
      const term = await bareRelayTerminal(link, procs);
      subjects.push({ name: `bare ${link}`, term, pids: procs.map((p) => p.pid ?? 0), rtts: [], cpuS: [0, 0] });
    }
    let sshNote = '';
    const started = await startSshd(dir);
    if (typeof started === 'string') sshNote = started;
    else {
      sshd = started.proc;
      subjects.push({ name: 'ssh', term: await sshTerminal(started.port, started.key), pids: [], rtts: [], cpuS: [] });
    }
    terms.push(...subjects.map((x) => x.term));
    // Other work on the machine changes over a run: the subjects take turns in blocks, so all see
    // the same load.
    const block = Math.ceil(KEYSTROKES / KEY_BLOCKS);
    for (let b = 0; b < KEY_BLOCKS; b++) {
      log(`keystroke echo block ${b + 1}/${KEY_BLOCKS}: ${subjects.map((x) => x.name).join(', ')} (${block} keys each)`);
      for (const x of subjects) {
        const cpu0 = x.pids.map(cpuSecondsOf);
        x.rtts.push(...(await echoLatency(x.term, block, b === 0 ? 50 : 10)));
        x.pids.forEach((pid, i) => (x.cpuS[i] = (x.cpuS[i] ?? 0) + cpuSecondsOf(pid) - (cpu0[i] ?? 0)));
      }
    }
    const [relayEcho, bareMqtt, bareTcp, sshEcho]: Array<Summary | undefined> = subjects.map((x) => summarize(x.rtts));
    if (!relayEcho || !bareMqtt || !bareTcp) throw new Error('no echo measured');
    // Keys typed per subject, warm-up keys included: what the CPU seconds were spent on.
    const keys = block * KEY_BLOCKS + 50 + 10 * (KEY_BLOCKS - 1);
    const usPerKey = (i: number): string => (subjects[i]?.cpuS ?? []).map((c) => fmt((c * 1e6) / keys, 0)).join(' / ');
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
    results['bareMqttEchoMs'] = bareMqtt;
    results['bareTcpEchoMs'] = bareTcp;
    results['echoCpuUsPerKey'] = Object.fromEntries(subjects.map((x) => [x.name, x.cpuS.map((c) => (c * 1e6) / keys)]));
    results['sshEchoMs'] = sshEcho ?? sshNote;
    results['flood'] = { ...f, rssGrowthMb: growthMb };
    const rows: Row[] = [
      { metric: 'relay keystroke echo p50', value: fmt(relayEcho.p50, 2, ' ms'), target: '<= 2 ms', pass: relayEcho.p50 <= 2 },
      { metric: 'relay keystroke echo p99', value: fmt(relayEcho.p99, 2, ' ms'), target: '<= 15 ms', pass: relayEcho.p99 <= 15 },
      { metric: 'ssh localhost echo p50 / p99', value: sshEcho ? `${fmt(sshEcho.p50, 2)} / ${fmt(sshEcho.p99, 2)} ms` : `n/a (${sshNote})` },
      { metric: 'bare floor, aedes + mqtt.js link: echo p50 / p99', value: `${fmt(bareMqtt.p50, 2)} / ${fmt(bareMqtt.p99, 2)} ms` },
      { metric: 'bare floor, raw TCP link: echo p50 / p99', value: `${fmt(bareTcp.p50, 2)} / ${fmt(bareTcp.p99, 2)} ms` },
      { metric: 'relay / bare mqtt floor p50 / p99 (what our layers cost)', value: `${fmt(relayEcho.p50 / bareMqtt.p50, 2)} / ${fmt(relayEcho.p99 / bareMqtt.p99, 2)}` },
      { metric: 'bare mqtt / bare tcp / ssh p50', value: sshEcho ? `${fmt(bareMqtt.p50 / sshEcho.p50, 2)} / ${fmt(bareTcp.p50 / sshEcho.p50, 2)} x ssh` : 'n/a' },
      { metric: 'CPU per key, µs: cp / agent; bare mqtt front / host; bare tcp front / host', value: `${usPerKey(0)}; ${usPerKey(1)}; ${usPerKey(2)}` },
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
