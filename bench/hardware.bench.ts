/**
 * Hardware benchmark on the simulated board: a real control plane (own process) and a real agent
 * (own process, profile `simulated`), driven from this third process.
 *
 *   node --import tsx bench/hardware.bench.ts      (or: npm run bench -- hardware)
 *
 * 1. ATX click -> LED: POST /kvm/<device>/api/atx/click?button=power (PiKVM API), timed until the
 *    atx_state frame with the power LED lit arrives on the PiKVM websocket (/kvm/<device>/api/ws).
 *    The simulated PC lights the LED on the press edge, as a real ATX board powers on.
 * 2. GPIO pulse accuracy: pulses of several lengths on a pulse channel; error = measured hold time
 *    minus the requested delay, measured by the agent around its line writes (wait=true answer) and,
 *    end to end, between the gpio_state frames for the line going up and down on the websocket.
 *
 * Sizes: EDGEHOOK_BENCH_HW_CLICKS (150), EDGEHOOK_BENCH_HW_PULSES (25 per delay).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ApiClient } from './lib/api.js';
import { freePort, startControlPlaneProcess, startEnrolledAgent, type ControlPlaneProcess, type RunningProcess } from './lib/proc.js';
import { envNumber, fmt, machine, printTable, summarize, writeResults, type Row } from './lib/report.js';

const CLICKS = envNumber('EDGEHOOK_BENCH_HW_CLICKS', 150);
const PULSES = envNumber('EDGEHOOK_BENCH_HW_PULSES', 25);
const PULSE_DELAYS = [0.1, 0.25, 0.5, 1.0];
const PULSE_CHANNEL = 'doorbell'; // simulated profile: pulse-only, 0.1..2 s
const ADMIN_PASSWORD = 'bench-admin-password';

const log = (msg: string): void => console.log(`[hardware ${new Date().toISOString().slice(11, 19)}] ${msg}`);

interface Frame {
  event_type: string;
  event: any;
  at: number;
}

/** The PiKVM websocket, with a way to wait for the next frame matching a predicate. */
class KvmEvents {
  private waiters = new Set<(f: Frame) => boolean>();
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const f: Frame = { ...JSON.parse(d.toString()), at: performance.now() };
      for (const w of [...this.waiters]) if (w(f)) this.waiters.delete(w);
    });
  }
  static open(url: string, headers: Record<string, string>): Promise<KvmEvents> {
    const ws = new WebSocket(url, { headers });
    const events = new KvmEvents(ws);
    return new Promise((resolve, reject) => {
      ws.once('error', reject);
      ws.once('open', () => resolve(events));
    });
  }
  next(type: string, pred: (e: any) => boolean, timeoutMs = 10_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`no ${type} frame within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (f: Frame): boolean => {
        if (f.event_type !== type || !pred(f.event)) return false;
        clearTimeout(timer);
        resolve(f);
        return true;
      };
      this.waiters.add(w);
    });
  }
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-hw-'));
  const stateDir = await mkdtemp(join(tmpdir(), 'edgehook-bench-hw-agent-'));
  const [port, mqttPort] = [await freePort(), await freePort()];
  let cp: ControlPlaneProcess | undefined;
  let agent: RunningProcess | undefined;
  let api: ApiClient | undefined;
  let events: KvmEvents | undefined;
  const onSignal = (): void => {
    void Promise.allSettled([agent?.stop(2000), cp?.stop(2000)]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const results: Record<string, unknown> = { bench: 'hardware', startedAt: new Date().toISOString(), machine: machine(), config: { clicks: CLICKS, pulsesPerDelay: PULSES, pulseDelays: PULSE_DELAYS } };
  try {
    cp = await startControlPlaneProcess({ port, mqttPort, dataDir, adminPassword: ADMIN_PASSWORD });
    api = new ApiClient(cp.url, '', 8);
    await api.login(ADMIN_PASSWORD);
    const enrolled = await startEnrolledAgent(api, { stateDir, hostname: 'bench-kvm' });
    agent = enrolled.agent;
    const { deviceId } = enrolled;
    const kvm = `/kvm/${deviceId}/api`;
    events = await KvmEvents.open(`${cp.url.replace('http', 'ws')}${kvm}/ws?stream=0`, { authorization: `Bearer ${api.token}` });
    await events.next('loop', () => true);
    log(`device ${deviceId} online; PiKVM socket open`);

    // Warm-up: JIT, keep-alive sockets, the MQTT path.
    for (let i = 0; i < 5; i++) await api.expect(200, 'GET', `${kvm}/atx`);

    // --- 1. ATX click -> power LED on the websocket ---
    log(`ATX: ${CLICKS} power-on clicks (each followed by a short press to power off again)`);
    const clickToLed: number[] = [];
    const clickHttp: number[] = [];
    // The same trip without hardware (POST /api/devices/:id/ping), interleaved, as a baseline.
    const pingHttp: number[] = [];
    for (let i = 0; i < CLICKS; i++) {
      const lit = events.next('atx_state', (e) => e.leds.power === true);
      const t0 = performance.now();
      const res = await api.call('POST', `${kvm}/atx/click?button=power`);
      const t1 = performance.now();
      if (res.status !== 200) throw new Error(`click failed: ${res.status} ${JSON.stringify(res.body)}`);
      const frame = await lit;
      clickToLed.push(frame.at - t0);
      clickHttp.push(t1 - t0);
      await events.next('atx_state', (e) => e.busy === false && e.leds.power === true);
      // Soft-off: the simulated PC shuts down on the release of a short press.
      const dark = events.next('atx_state', (e) => e.leds.power === false && e.busy === false);
      await api.expect(200, 'POST', `${kvm}/atx/click?button=power&wait=1`);
      await dark;
      const p0 = performance.now();
      await api.expect(200, 'POST', `/api/devices/${deviceId}/ping`);
      pingHttp.push(performance.now() - p0);
    }
    const atx = { clickToLedMs: summarize(clickToLed), clickHttpMs: summarize(clickHttp), pingHttpMs: summarize(pingHttp), clickToLedSamplesMs: clickToLed.map((v) => Math.round(v * 100) / 100) };
    results['atx'] = atx;
    log(`click -> LED p50 ${atx.clickToLedMs.p50} ms, p99 ${atx.clickToLedMs.p99} ms`);

    // --- 2. GPIO pulse duration ---
    log(`GPIO: ${PULSES} pulses of each of ${PULSE_DELAYS.join(', ')} s on '${PULSE_CHANNEL}'`);
    const agentErr: number[] = [];
    const wsErr: number[] = [];
    const perDelay: Record<string, { agent: ReturnType<typeof summarize>; ws: ReturnType<typeof summarize> }> = {};
    for (const delay of PULSE_DELAYS) {
      const a: number[] = [];
      const w: number[] = [];
      for (let i = 0; i < PULSES; i++) {
        // One waiter for both edges: frames can arrive in one chunk, with no tick in between.
        let upAt: number | undefined;
        const down = events.next('gpio_state', (e) => {
          const state = e.outputs[PULSE_CHANNEL]?.state;
          if (state === true && upAt === undefined) upAt = performance.now();
          return state === false && upAt !== undefined;
        });
        const done = await api.expect<{ done: boolean; durationMs: number }>(200, 'POST', `/api/devices/${deviceId}/hardware/gpio/${PULSE_CHANNEL}/pulse`, { delay, wait: true });
        const d = await down;
        const u = { at: upAt ?? NaN };
        a.push(done.durationMs - delay * 1000);
        w.push(d.at - u.at - delay * 1000);
      }
      agentErr.push(...a);
      wsErr.push(...w);
      perDelay[String(delay)] = { agent: summarize(a), ws: summarize(w) };
    }
    const abs = (v: number[]) => v.map(Math.abs);
    const gpio = { agentErrorMs: summarize(agentErr), agentAbsErrorMs: summarize(abs(agentErr)), wsErrorMs: summarize(wsErr), wsAbsErrorMs: summarize(abs(wsErr)), perDelay };
    results['gpio'] = gpio;

    // Shared 2-core machines: the load during the run says how much the tail figures can be trusted.
    const load = loadavg().map((v) => Math.round(v * 100) / 100);
    results['loadAverage'] = load;
    const rows: Row[] = [
      { metric: 'machine load average (1/5/15 min) at the end', value: load.join(' / ') },
      { metric: `ATX click -> LED event on ws, p50 (n=${atx.clickToLedMs.n})`, value: fmt(atx.clickToLedMs.p50, 2, ' ms') },
      { metric: 'ATX click -> LED event on ws, p90', value: fmt(atx.clickToLedMs.p90, 2, ' ms') },
      { metric: 'ATX click -> LED event on ws, p99', value: fmt(atx.clickToLedMs.p99, 2, ' ms'), target: '<= 20 ms', pass: atx.clickToLedMs.p99 <= 20 },
      { metric: 'ATX click -> LED event on ws, max', value: fmt(atx.clickToLedMs.max, 2, ' ms') },
      { metric: 'ATX click HTTP response p50 / p99', value: `${fmt(atx.clickHttpMs.p50, 2)} / ${fmt(atx.clickHttpMs.p99, 2)} ms` },
      { metric: 'baseline: device ping (same run) p50 / p99', value: `${fmt(atx.pingHttpMs.p50, 2)} / ${fmt(atx.pingHttpMs.p99, 2)} ms` },
      { metric: `GPIO pulse |error| at the agent, p50 (n=${gpio.agentAbsErrorMs.n})`, value: fmt(gpio.agentAbsErrorMs.p50, 3, ' ms') },
      { metric: 'GPIO pulse |error| at the agent, p99 / max', value: `${fmt(gpio.agentAbsErrorMs.p99, 3)} / ${fmt(gpio.agentAbsErrorMs.max, 3)} ms`, target: 'p99 <= 5 ms', pass: gpio.agentAbsErrorMs.p99 <= 5 },
      { metric: 'GPIO pulse |error| seen on the ws (up->down frames), p50', value: fmt(gpio.wsAbsErrorMs.p50, 3, ' ms') },
      // Informational: two event deliveries' jitter on top of the pulse itself.
      { metric: 'GPIO pulse |error| seen on the ws, p99 / max', value: `${fmt(gpio.wsAbsErrorMs.p99, 3)} / ${fmt(gpio.wsAbsErrorMs.max, 3)} ms` },
    ];
    results['rows'] = rows;
    results['agentLogs'] = enrolled.agent.output.summary();
    results['controlPlaneLogs'] = cp.output.summary();
    printTable('Hardware (simulated board): ATX click -> LED, GPIO pulse accuracy', rows);
    console.log(`\nresults: ${writeResults('hardware', results)}`);
  } finally {
    events?.ws.close();
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
