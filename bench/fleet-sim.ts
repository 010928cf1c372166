/**
 * The fleet simulator: N agents in one process, each enrolled with the agent's own `enroll()` and
 * connected with the agent's own `openDeviceLink()` (real MQTT over TCP, real RPC dispatcher).
 * Runs as a child of fleet.bench.ts and is driven over IPC (see lib/sim-handle.ts), so its event
 * loop is not the one that times the pings.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { topicFor, type DeviceDescription, type Logger, type LogFields } from '@edgehook/shared';
import { enroll } from '../agent/src/devices/enrollment.js';
import { openDeviceLink, type DeviceLink } from '../agent/src/devices/device-link.js';
import type { SavedCredentials } from '../agent/src/devices/credentials.store.js';
import type { SimCommand } from './lib/sim-handle.js';

interface SimAgent {
  index: number;
  credentials: SavedCredentials;
  link?: DeviceLink;
  connected: boolean;
  connects: number;
  /** Set by `mark`: first disconnect / first connect afterwards, and disconnect events since. */
  downAt: number | null;
  upAt: number | null;
  closesSinceMark: number;
  /** With EDGEHOOK_BENCH_TRACE=1: this client's MQTT events since the mark, ms after it. */
  trace?: string[];
}

const TRACE = process.env['EDGEHOOK_BENCH_TRACE'] === '1';

const agents: SimAgent[] = [];
const logCounts = new Map<string, number>();
const retryDelays: number[] = [];
let markAt = 0;
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

function countingLogger(base: LogFields = {}): Logger {
  const count = (level: string, msg: string, fields?: LogFields): void => {
    if (level === 'debug' || level === 'info') return;
    const reason = fields?.['reason'] ?? fields?.['err'] ?? fields?.['error'];
    const key = `${level}: ${msg}${reason ? ` (${String(reason instanceof Error ? reason.message : reason).slice(0, 80)})` : ''}`;
    logCounts.set(key, (logCounts.get(key) ?? 0) + 1);
  };
  return {
    debug: (m, f) => count('debug', m, f),
    info: (m, f) => count('info', m, f),
    warn: (m, f) => count('warn', m, f),
    error: (m, f) => count('error', m, f),
    child: (fields) => countingLogger({ ...base, ...fields }),
  };
}
const log = countingLogger();

/** Runs of the bench action per marker and agent index. */
const runs = new Map<string, Map<number, number>>();
function countRun(index: number, marker: string): void {
  const m = runs.get(marker) ?? new Map<number, number>();
  runs.set(marker, m.set(index, (m.get(index) ?? 0) + 1));
}
function runReport(marker: string): { ranOnce: number; never: number; duplicated: number; extraRuns: number } {
  const m = runs.get(marker) ?? new Map<number, number>();
  let ranOnce = 0;
  let duplicated = 0;
  let extraRuns = 0;
  for (const n of m.values()) {
    if (n === 1) ranOnce++;
    else {
      duplicated++;
      extraRuns += n - 1;
    }
  }
  return { ranOnce, never: agents.length - m.size, duplicated, extraRuns };
}

const connectedCount = (): number => agents.reduce((n, a) => n + (a.connected ? 1 : 0), 0);

function description(i: number): DeviceDescription {
  return {
    hostname: `sim-${String(i).padStart(6, '0')}`,
    profile: 'simulated',
    agentVersion: '0.1.0-sim',
    hardware: { arch: 'x64', platform: 'linux', cpus: 1, memTotalBytes: 512 * 2 ** 20 },
  };
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

async function doEnroll(server: string, token: string, count: number, concurrency: number): Promise<unknown> {
  const started = performance.now();
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  const indexes = Array.from({ length: count }, (_, i) => agents.length + i);
  await pool(indexes, concurrency, async (i) => {
    const t = performance.now();
    try {
      const res = await enroll(server, token, description(i));
      latencies.push(performance.now() - t);
      agents.push({ index: i, credentials: { deviceId: res.deviceId, name: res.name, server, mqtt: res.mqtt, enrolledAt: new Date().toISOString() }, connected: false, connects: 0, downAt: null, upAt: null, closesSinceMark: 0 });
    } catch (err) {
      const key = err instanceof Error ? err.message.slice(0, 100) : String(err);
      failures[key] = (failures[key] ?? 0) + 1;
    }
  });
  latencies.sort((a, b) => a - b);
  return {
    ms: performance.now() - started,
    enrolled: agents.length,
    failures,
    latencyP50Ms: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
    latencyP99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    deviceIds: agents.map((a) => a.credentials.deviceId),
  };
}

async function openLink(a: SimAgent): Promise<void> {
  const desc = description(a.index);
  a.link = await openDeviceLink({
    credentials: a.credentials,
    transport: 'tcp',
    describe: async () => desc,
    handlers: {
      ping: async (p) => ({ sentAt: p.sentAt, agentTime: Date.now() }),
      // The action of the jobs bench: counted per marker (its first param), so a lost or doubled run shows.
      'processes.run': async ({ spec }) => {
        countRun(a.index, 'call' in spec ? (spec.params[0] ?? '') : '');
        return { result: { status: 'fulfilled', exitCode: 0, signal: null }, output: 'ok\n', timedOut: false };
      },
      // The same action without the job layer (POST /api/devices/:id/pow/new), for the reference.
      'processes.start': async ({ spec }) => {
        countRun(a.index, 'call' in spec ? (spec.params[0] ?? '') : '');
        return { id: `sim-${a.index}-${Date.now()}`, pid: 1 };
      },
    },
    log,
    now: () => Date.now(),
    onState: (s) => {
      const now = Date.now();
      if (s.state === 'connected') {
        a.connected = true;
        a.connects++;
        if (markAt && a.upAt === null && a.downAt !== null) a.upAt = now;
      } else {
        a.connected = false;
        if (markAt) {
          a.downAt ??= now;
          a.closesSinceMark++;
          if (s.retryInMs !== undefined) retryDelays.push(s.retryInMs);
        }
      }
    },
  });
  if (TRACE) {
    const client = Reflect.get(a.link.transport, 'client') as import('mqtt').MqttClient;
    const note = (what: string): void => {
      if (markAt) (a.trace ??= []).push(`${Date.now() - markAt} ${what}`);
    };
    for (const ev of ['connect', 'close', 'reconnect', 'end'] as const) client.on(ev, () => note(`mqtt ${ev}`));
    client.on('error', (e: Error & { code?: unknown }) => note(`mqtt error ${String(e.code ?? '')} ${e.message}`));
  }
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Opens links `batch` at a time, waiting for each batch to connect before the next. */
async function doConnect(batch: number, batchTimeoutMs: number, totalTimeoutMs: number): Promise<unknown> {
  const started = performance.now();
  let slowBatches = 0;
  for (let i = 0; i < agents.length; i += batch) {
    const slice = agents.slice(i, i + batch);
    await Promise.all(slice.map(openLink));
    if (!(await waitUntil(() => slice.every((a) => a.connected), batchTimeoutMs))) slowBatches++;
    process.send?.({ event: 'progress', connected: connectedCount(), total: agents.length });
  }
  const all = await waitUntil(() => connectedCount() === agents.length, totalTimeoutMs);
  return { ms: performance.now() - started, connected: connectedCount(), all, slowBatches };
}

function restartReport(): unknown {
  return {
    markAt,
    connectedNow: connectedCount(),
    total: agents.length,
    downAt: agents.map((a) => a.downAt),
    upAt: agents.map((a) => a.upAt),
    closesSinceMark: agents.map((a) => a.closesSinceMark),
    retryDelaysMs: retryDelays,
  };
}

/** What the link of each named device believes, and the retained presence the broker holds for it. */
async function inspect(ids: string[]): Promise<unknown> {
  const wanted = new Set(ids);
  const out: Record<string, unknown> = {};
  for (const a of agents.filter((x) => wanted.has(x.credentials.deviceId))) {
    let retained: unknown = null;
    const transport = a.link?.transport;
    if (transport?.connected) {
      // A device may subscribe inside its own prefix; the broker answers with the retained message.
      const got = new Promise<unknown>((resolve) => {
        setTimeout(() => resolve('none within 2 s'), 2000);
        void transport
          .subscribe(topicFor('status', { deviceId: a.credentials.deviceId }), (_t, payload) => resolve(JSON.parse(payload.toString('utf8'))))
          .then((off) => setTimeout(() => void off(), 2500));
      });
      retained = await got;
    }
    out[a.credentials.deviceId] = { connected: a.connected, connects: a.connects, closesSinceMark: a.closesSinceMark, upAt: a.upAt, retainedStatus: retained, trace: a.trace ?? [] };
  }
  return out;
}

async function doStop(): Promise<unknown> {
  const started = performance.now();
  const batch = 500;
  for (let i = 0; i < agents.length; i += batch) {
    await Promise.all(agents.slice(i, i + batch).map((a) => a.link?.close().catch(() => undefined)));
  }
  return { ms: performance.now() - started };
}

// Telemetry load (the replicas bench): seq per agent, so the store can be checked for loss and
// repeats. Like the real agent (agent/src/telemetry/telemetry-agent.ts), a batch is kept until the
// control plane acknowledges its storage on `telemetryAck`, and sent again (replay) when no ack
// came within ACK_TIMEOUT_MS: a PUBACK only says the broker has it.
const ACK_TIMEOUT_MS = Number(process.env['EDGEHOOK_BENCH_ACK_TIMEOUT_MS'] ?? 15_000);
let telemetryTimer: NodeJS.Timeout | undefined;
const telemetry = { sent: 0, failed: 0, acked: 0, resent: 0 };
const seqs = new Map<number, number>();
/** Per agent: seq -> the batch and when it was last sent. */
const unacked = new Map<number, Map<number, { body: string; sentAt: number }>>();
const ackOffs: Array<() => Promise<void>> = [];

function publishBatch(a: SimAgent, seq: number, body: string, isResend: boolean): void {
  if (!a.link) return;
  a.link.transport.publish(topicFor('telemetry', { deviceId: a.credentials.deviceId }), body, { qos: 1 }).then(
    () => (isResend ? telemetry.resent++ : telemetry.sent++),
    () => telemetry.failed++,
  );
  const pending = unacked.get(a.index) ?? new Map<number, { body: string; sentAt: number }>();
  pending.set(seq, { body, sentAt: Date.now() });
  unacked.set(a.index, pending);
}

function resendOverdue(): number {
  const now = Date.now();
  let due = 0;
  for (const a of agents) {
    const pending = unacked.get(a.index);
    if (!pending || !a.link || !a.connected) continue;
    for (const [seq, p] of pending) {
      if (now - p.sentAt < ACK_TIMEOUT_MS) continue;
      const batch: unknown = JSON.parse(p.body);
      publishBatch(a, seq, JSON.stringify({ ...(batch !== null && typeof batch === 'object' ? batch : {}), replay: true }), true);
      due++;
    }
  }
  return due;
}

async function telemetryStart(everyMs: number): Promise<unknown> {
  for (const a of agents) {
    if (!a.link) continue;
    const off = await a.link.transport.subscribe(topicFor('telemetryAck', { deviceId: a.credentials.deviceId }), (_t, payload) => {
      const parsed: unknown = JSON.parse(payload.toString());
      const list = parsed !== null && typeof parsed === 'object' && 'seqs' in parsed && Array.isArray(parsed.seqs) ? parsed.seqs : [];
      const pending = unacked.get(a.index);
      for (const seq of list) if (typeof seq === 'number' && pending?.delete(seq)) telemetry.acked++;
    });
    ackOffs.push(off);
  }
  let next = 0;
  let ticks = 0;
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((agents.length * tickMs) / everyMs));
  telemetryTimer = setInterval(() => {
    if (++ticks % 20 === 0) resendOverdue();
    for (let k = 0; k < perTick && agents.length > 0; k++) {
      const a = agents[next++ % agents.length];
      if (!a?.link || !a.connected) continue;
      const seq = seqs.get(a.index) ?? 0;
      seqs.set(a.index, seq + 1);
      publishBatch(a, seq, JSON.stringify({ seq, ts: Date.now(), samples: [{ m: 'cpu.usage', v: Math.random() * 100 }, { m: 'mem.used', v: 1e8 }] }), false);
    }
  }, tickMs);
  return { perTick };
}

const pendingCount = (): number => [...unacked.values()].reduce((n, m) => n + m.size, 0);

/** Stops new batches, then keeps re-sending the unacknowledged ones until none is left or `drainMs` passes. */
async function telemetryStop(drainMs: number): Promise<unknown> {
  clearInterval(telemetryTimer);
  const until = Date.now() + drainMs;
  while (pendingCount() > 0 && Date.now() < until) {
    resendOverdue();
    await new Promise((r) => setTimeout(r, 1000));
  }
  for (const off of ackOffs.splice(0)) await off().catch(() => undefined);
  const batches = [...seqs.values()].reduce((n, v) => n + v, 0);
  return { ...telemetry, batches, unacked: pendingCount(), perDevice: Object.fromEntries(agents.map((a) => [a.credentials.deviceId, seqs.get(a.index) ?? 0])) };
}

async function handle(msg: SimCommand): Promise<unknown> {
  switch (msg.cmd) {
    case 'enroll':
      return doEnroll(msg.server, msg.token, msg.count, msg.concurrency);
    case 'adopt':
      for (const c of msg.agents) {
        const index = agents.length;
        agents.push({ index, credentials: { deviceId: c.deviceId, name: `sim-${index}`, server: '', mqtt: { url: c.url, wsUrl: '', username: c.deviceId, password: c.password }, enrolledAt: new Date().toISOString() }, connected: false, connects: 0, downAt: null, upAt: null, closesSinceMark: 0 });
      }
      return { total: agents.length, deviceIds: agents.map((a) => a.credentials.deviceId) };
    case 'connect':
      return doConnect(msg.batch, msg.batchTimeoutMs, msg.totalTimeoutMs);
    case 'mark':
      markAt = Date.now();
      retryDelays.length = 0;
      for (const a of agents) Object.assign(a, { downAt: null, upAt: null, closesSinceMark: 0, trace: undefined });
      return { markAt };
    case 'inspect':
      return inspect(msg.ids);
    case 'restart-report':
      return restartReport();
    case 'status':
      return { connected: connectedCount(), total: agents.length, rssKb: Math.round(process.memoryUsage.rss() / 1024), logCounts: Object.fromEntries(logCounts) };
    case 'loop-reset':
      loop.reset();
      return {};
    case 'loop':
      // The histogram records whole sampling intervals: subtract the 10 ms resolution to get the lag.
      return { p50Ms: loop.percentile(50) / 1e6 - 10, p99Ms: loop.percentile(99) / 1e6 - 10, maxMs: loop.max / 1e6 - 10 };
    case 'telemetry-start':
      return telemetryStart(msg.everyMs);
    case 'telemetry-stop':
      return telemetryStop(msg.drainMs ?? 0);
    case 'runs':
      return runReport(msg.marker);
    case 'stop':
      return doStop();
  }
}

process.on('message', (raw: unknown) => {
  const msg = raw as SimCommand & { id: number };
  handle(msg).then(
    (result) => process.send?.({ id: msg.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ event: 'ready' });
