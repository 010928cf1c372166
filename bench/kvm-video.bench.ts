/**
 * KVM screen benchmark: the simulated screen (1280x720 test pattern, 30 fps asked) of a real agent
 * (own process) through a real control plane (own process) to an MJPEG viewer in this process,
 * reading `/kvm/<device>/streamer/stream` as a browser or a ustreamer client does.
 *
 *   node --import tsx bench/kvm-video.bench.ts     (or: npm run bench -- kvm-video)
 *
 * - fps delivered: frames the viewer parsed per second over the window.
 * - added latency: the viewer's receive time minus the frame's X-Timestamp (the agent's clock when
 *   it began drawing the frame; same machine, same clock), so it includes encoding, framing, MQTT
 *   to the control plane and the HTTP response.
 * - CPU per viewer: utime+stime of the agent and control plane over the window with one viewer,
 *   minus the same window length with none (reference, same run).
 * - reference: the encoder alone in this process (frames/s the test pattern renders at 1280x720),
 *   and the device ping RTT through the same broker.
 *
 * Sizes: EDGEHOOK_BENCH_VIDEO_SECONDS (20).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestPattern } from '../agent/src/hardware/video/test-pattern.js';
import { ApiClient } from './lib/api.js';
import { cpuSecondsOf, freePort, sleep, startControlPlaneProcess, startEnrolledAgent, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';
import { sampleInterleaved } from './lib/sampling.js';

const SECONDS = envNumber('EDGEHOOK_BENCH_VIDEO_SECONDS', 20);
const ADMIN_PASSWORD = 'bench-admin-password';
const log = (msg: string): void => console.log(`[kvm-video ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Seen {
  receivedAt: number;
  latencyMs: number;
  bytes: number;
}

/** Reads an MJPEG response part by part (Content-Length framing, as ustreamer clients do). */
function readMjpeg(res: IncomingMessage, onPart: (headers: Record<string, string>, bytes: number) => void): void {
  let buf = Buffer.alloc(0);
  res.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const headers: Record<string, string> = {};
      for (const l of buf.subarray(0, end).toString().split('\r\n').slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const len = Number(headers['content-length']);
      if (buf.length < end + 4 + len + 2) return;
      buf = buf.subarray(end + 6 + len);
      onPart(headers, len);
    }
  });
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-video-'));
  const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-video-agent-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  let api: ApiClient | undefined;
  const results: Record<string, unknown> = { bench: 'kvm-video', startedAt: new Date().toISOString(), machine: machine(), config: { seconds: SECONDS, resolution: '1280x720', desiredFps: 30 } };
  try {
    // Reference 1: the encoder alone, here.
    const pattern = new TestPattern(1280, 720);
    let n = 0;
    let frameBytes = 0;
    const e0 = performance.now();
    while (performance.now() - e0 < 2000) frameBytes = pattern.render(n++, Date.now(), 80).length;
    const encoderFps = n / ((performance.now() - e0) / 1000);
    log(`encoder alone: ${encoderFps.toFixed(0)} frames/s at 1280x720 (${frameBytes} bytes a frame)`);

    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    api = new ApiClient(cp.url, '', 8);
    await api.login(ADMIN_PASSWORD);
    const enrolled = await startEnrolledAgent(api, { stateDir, hostname: 'bench-video' });
    agent = enrolled.agent;
    const { deviceId } = enrolled;
    // Reference 2: the device round trip through the same broker.
    const [pings = []] = await sampleInterleaved(50, [() => api!.expect(200, 'POST', `/api/devices/${deviceId}/ping`)]);

    // Reference 3: CPU with no viewer, same window length.
    const idle0 = { agent: cpuSecondsOf(agent.child.pid ?? 0), cp: cpuSecondsOf(cp.child.pid ?? 0) };
    await sleep(SECONDS * 1000);
    const idle = { agent: cpuSecondsOf(agent.child.pid ?? 0) - idle0.agent, cp: cpuSecondsOf(cp.child.pid ?? 0) - idle0.cp };

    log(`one MJPEG viewer for ${SECONDS} s`);
    const seen: Seen[] = [];
    let measuring = false;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${cp?.url}/kvm/${deviceId}/streamer/stream`, { headers: { authorization: `Bearer ${api?.token}` } }, resolve);
      req.on('error', reject);
      req.end();
    });
    if (res.statusCode !== 200) throw new Error(`stream answered ${res.statusCode}`);
    readMjpeg(res, (headers, bytes) => {
      if (!measuring) return;
      const now = Date.now();
      seen.push({ receivedAt: now, latencyMs: now - Number(headers['x-timestamp']) * 1000, bytes });
    });
    await sleep(2000); // warm-up: the source starts, JIT
    const busy0 = { agent: cpuSecondsOf(agent.child.pid ?? 0), cp: cpuSecondsOf(cp.child.pid ?? 0) };
    measuring = true;
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    measuring = false;
    const elapsed = (Date.now() - t0) / 1000;
    const busy = { agent: cpuSecondsOf(agent.child.pid ?? 0) - busy0.agent, cp: cpuSecondsOf(cp.child.pid ?? 0) - busy0.cp };
    res.destroy();

    const fps = seen.length / elapsed;
    const latency = summarize(seen.map((s) => s.latencyMs));
    const pct = (cpuS: number) => (100 * cpuS) / elapsed;
    const perViewer = { agentPct: pct(busy.agent - idle.agent), cpPct: pct(busy.cp - idle.cp) };
    Object.assign(results, { encoderFps, frameBytes, pingMs: summarize(pings), fps, frames: seen.length, latencyMs: latency, cpu: { idle, busy, perViewer } });
    const rows: Row[] = [
      { metric: 'fps delivered to the viewer (30 asked)', value: fmt(fps, 1), target: '>= 25', pass: fps >= 25 },
      { metric: 'added latency p50', value: fmt(latency.p50, 1, ' ms') },
      { metric: 'added latency p90 / p99 / max', value: `${fmt(latency.p90, 1)} / ${fmt(latency.p99, 1)} / ${fmt(latency.max, 1)} ms`, target: 'p90 <= 100 ms', pass: latency.p90 <= 100 },
      { metric: 'agent CPU per viewer', value: fmt(perViewer.agentPct, 1, ' %') },
      { metric: 'control-plane CPU per viewer', value: fmt(perViewer.cpPct, 1, ' %') },
      { metric: 'frame size (test pattern, quality 80)', value: `${frameBytes} B` },
      { metric: 'reference: encoder alone (this process)', value: fmt(encoderFps, 0, ' frames/s') },
      { metric: 'reference: device ping p50 / p99 (same run)', value: `${fmt(summarize(pings).p50, 2)} / ${fmt(summarize(pings).p99, 2)} ms` },
    ];
    results['rows'] = rows;
    printTable('KVM screen (simulated 1280x720 source): MJPEG through the relay', rows);
    console.log(`\nresults: ${writeResults('kvm-video', results)}`);
  } finally {
    api?.close();
    await agent?.stop(5000);
    await cp?.stop(10_000);
    await rm(dataDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
