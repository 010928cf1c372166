/**
 * Telemetry simulator: N devices in one process, each enrolled over HTTP and connected with its
 * own MQTT client (as the agent does), publishing telemetry batches shaped like the agent's.
 * A child of telemetry.bench.ts, driven over IPC, so its CPU is not the control plane's.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { topicFor, type Sample, type TelemetryBatch } from '@edgehook/shared';

interface Device {
  id: string;
  client?: MqttClient;
  url: string;
  password: string;
  seq: number;
}

export type TelemetrySimCommand =
  | { cmd: 'enroll'; server: string; token: string; count: number; concurrency: number }
  | { cmd: 'connect'; from: number; to: number; concurrency: number }
  | { cmd: 'load'; from: number; to: number; samples: number; perSecond: number; durationMs: number }
  | { cmd: 'once'; from: number; to: number; concurrency: number }
  | { cmd: 'marker'; index: number; metric: string }
  | { cmd: 'history'; index: number; hours: number; stepMs: number; samples: number; inFlight: number }
  | { cmd: 'stop' };

const devices: Device[] = [];

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

/** A realistic batch: cpu per core, memory, disks, network, load, temperature; `n` samples in all. */
function samples(n: number, i: number): Sample[] {
  const out: Sample[] = [{ m: 'cpu.usage', v: (i * 7) % 100 }, { m: 'mem.used', v: 1e9 + i }, { m: 'temp.max', v: 40 + (i % 30) }, { m: 'load.1', v: (i % 400) / 100 }];
  for (let k = 0; out.length < n; k++) {
    const kind = k % 4;
    if (kind === 0) out.push({ m: 'cpu.core.usage', v: (i + k) % 100, l: { core: String(k) } });
    else if (kind === 1) out.push({ m: 'net.rx_bytes', v: i * 1000 + k, l: { iface: `eth${k}` } });
    else if (kind === 2) out.push({ m: 'disk.used', v: 1e10 + k, l: { mount: `/mnt/d${k}` } });
    else out.push({ m: 'custom.value', v: k, l: { n: String(k) } });
  }
  return out;
}

function publish(d: Device, batch: TelemetryBatch): Promise<void> {
  if (!d.client) return Promise.reject(new Error('not connected'));
  return d.client.publishAsync(topicFor('telemetry', { deviceId: d.id }), JSON.stringify(batch), { qos: 1 }).then(() => undefined);
}

async function connect(d: Device): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      d.client = await mqtt.connectAsync(d.url, { clientId: d.id, username: d.id, password: d.password, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60, connectTimeout: 30_000 });
      d.client.on('error', () => undefined);
      return;
    } catch (err) {
      if (attempt >= 4) throw err;
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
  }
}

async function handle(m: TelemetrySimCommand): Promise<unknown> {
  switch (m.cmd) {
    case 'enroll': {
      const started = performance.now();
      let failures = 0;
      await pool(Array.from({ length: m.count }, (_, i) => devices.length + i), m.concurrency, async (i) => {
        const res = await fetch(`${m.server}/api/enroll`, {
          method: 'POST',
          headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ hostname: `tsim-${String(i).padStart(5, '0')}`, profile: 'simulated', agentVersion: 'sim', hardware: { arch: 'x64', platform: 'linux', cpus: 4, memTotalBytes: 4e9 } }),
        });
        if (res.status !== 201) {
          failures++;
          return;
        }
        const body = (await res.json()) as { deviceId: string; mqtt: { url: string; password: string } };
        devices.push({ id: body.deviceId, url: body.mqtt.url, password: body.mqtt.password, seq: 0 });
      });
      return { ms: performance.now() - started, enrolled: devices.length, failures, ids: devices.map((d) => d.id) };
    }
    case 'connect': {
      const started = performance.now();
      await pool(devices.slice(m.from, m.to), m.concurrency, connect);
      return { ms: performance.now() - started };
    }
    case 'load': {
      // Each device publishes `perSecond` batches a second, spread evenly; QoS 1, acks awaited.
      const group = devices.slice(m.from, m.to);
      const started = performance.now();
      const end = started + m.durationMs;
      let sent = 0;
      let rows = 0;
      let errors = 0;
      const period = 1000 / m.perSecond;
      await Promise.all(
        group.map(async (d, k) => {
          let next = started + (k / group.length) * period;
          while (next < end) {
            const wait = next - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const batch: TelemetryBatch = { seq: d.seq++, ts: Date.now(), samples: samples(m.samples, d.seq) };
            try {
              await publish(d, batch);
              sent++;
              rows += batch.samples.length;
            } catch {
              errors++;
            }
            next += period;
          }
        }),
      );
      const ms = performance.now() - started;
      return { ms, sent, rows, errors, offeredRowsPerSecond: rows / (ms / 1000) };
    }
    case 'once': {
      await pool(devices.slice(m.from, m.to), m.concurrency, async (d) => {
        // Connect, report once, leave: thousands of idle connections are the fleet bench's subject.
        if (!d.client) await connect(d);
        await publish(d, { seq: d.seq++, ts: Date.now(), samples: samples(8, d.seq) });
        await d.client?.endAsync();
        d.client = undefined;
      });
      return { ok: true };
    }
    case 'marker': {
      const d = devices[m.index];
      if (!d) throw new Error('no such device');
      const sentAt = Date.now();
      await publish(d, { seq: d.seq++, ts: sentAt, samples: [{ m: m.metric, v: 1 }, { m: 'temp.max', v: 50 }] });
      return { sentAt };
    }
    case 'history': {
      const d = devices[m.index];
      if (!d) throw new Error('no such device');
      const now = Date.now();
      const n = Math.floor((m.hours * 3600_000) / m.stepMs);
      const started = performance.now();
      let inFlight: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        inFlight.push(publish(d, { seq: d.seq++, ts: now - (n - i) * m.stepMs, samples: samples(m.samples, i) }));
        if (inFlight.length >= m.inFlight) {
          await Promise.all(inFlight);
          inFlight = [];
        }
      }
      await Promise.all(inFlight);
      return { batches: n, ms: performance.now() - started, lastTs: now - m.stepMs };
    }
    case 'stop': {
      await Promise.all(devices.map((d) => d.client?.endAsync().catch(() => undefined)));
      return { ok: true };
    }
  }
}

process.on('message', (raw: unknown) => {
  const m = raw as TelemetrySimCommand & { id: number };
  handle(m).then(
    (result) => process.send?.({ id: m.id, ok: true, result }),
    (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ event: 'ready' });
