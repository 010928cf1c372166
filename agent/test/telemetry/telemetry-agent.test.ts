import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger, decodeJson, encodeJson, systemClock, TelemetryBatch, type Sample } from '@edgehook/shared';
import { MemoryBroker, NotConnectedError, type LinkState, type MessageHandler, type PublishOptions, type Transport } from '@edgehook/shared/transport';
import type { Collector } from '../../src/telemetry/collectors.js';
import { startLocalEndpoint } from '../../src/telemetry/local-endpoint.js';
import { SequenceNumbers } from '../../src/telemetry/sequence.js';
import { Spool } from '../../src/telemetry/spool.js';
import { TelemetryAgent } from '../../src/telemetry/telemetry-agent.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device link that can go down and come back, over the in-memory broker. */
class SwitchableLink implements Transport {
  private listeners = new Set<(s: LinkState) => void>();
  up = true;
  constructor(private readonly inner: Transport) {}
  get connected() {
    return this.up;
  }
  async publish(topic: string, payload: Buffer | string, opts?: PublishOptions) {
    if (!this.up) throw new NotConnectedError();
    await this.inner.publish(topic, payload, opts);
  }
  subscribe(filter: string, handler: MessageHandler) {
    return this.inner.subscribe(filter, handler);
  }
  onState(l: (s: LinkState) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(up: boolean) {
    this.up = up;
    for (const l of this.listeners) l(up ? { state: 'connected' } : { state: 'disconnected', reason: 'closed' });
  }
  close() {
    return this.inner.close();
  }
}

/**
 * The control plane's side: records batches and acknowledges each seq after "storing" it, unless
 * `refuse` says no (a control plane that died before its commit).
 */
async function fakeStore(cp: Transport, refuse: (b: TelemetryBatch) => boolean = () => false): Promise<TelemetryBatch[]> {
  const received: TelemetryBatch[] = [];
  await cp.subscribe('edgehook/v1/d/dev1/telemetry', (_t, p) => {
    const d = decodeJson(TelemetryBatch, p);
    if (!d.ok) return;
    received.push(d.value);
    if (!refuse(d.value)) void cp.publish('edgehook/v1/d/dev1/telemetry/ack', encodeJson({ seqs: [d.value.seq] }), { qos: 1 });
  });
  return received;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Counts up: each collection is one distinct, checkable value. */
function counter(): Collector {
  let n = 0;
  return { name: 'system', collect: async () => [{ m: 'test.n', v: n++ }] };
}

const t = suite<{ dir: string }>('telemetry agent');
t.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'edgehook-tagent-'));
});
t.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

t('offline batches are buffered and replayed in order while live batches keep flowing', async ({ dir }) => {
  const broker = new MemoryBroker();
  const received = await fakeStore(broker.connect());
  const link = new SwitchableLink(broker.connect());
  const spool = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock: systemClock, log });
  const agent = new TelemetryAgent({ deviceId: () => 'dev1', clock: systemClock, log, collectors: { system: counter() }, baseMs: 1000, intervals: {}, spool, seq: await SequenceNumbers.open(dir), replayPerSecond: 5 });
  agent.attach(link);
  // Ticks driven by hand rather than by the timer (start() would also run them every baseMs).
  await agent.collectAndSend();
  await agent.collectAndSend();
  link.set(false);
  for (let i = 0; i < 6; i++) await agent.collectAndSend();
  assert.is(spool.size.batches, 6);
  link.set(true);
  await agent.collectAndSend(); // live, while the replay runs at 5/s
  await waitUntil('the replay', () => spool.isEmpty);
  const seqs = received.map((b) => b.seq).sort((a, b) => a - b);
  assert.equal(seqs, Array.from({ length: 9 }, (_, i) => i), 'every batch once');
  const replayed = received.filter((b) => b.replay);
  assert.equal(replayed.map((b) => b.seq), [2, 3, 4, 5, 6, 7], 'replayed in order');
  assert.equal(received.find((b) => b.seq === 8)?.replay, undefined);
  assert.ok(received.indexOf(received.find((b) => b.seq === 8) as TelemetryBatch) < received.indexOf(replayed.at(-1) as TelemetryBatch), 'live data did not wait for the replay');
  // The counter values line up with the sequence numbers: nothing reordered inside the batches.
  for (const b of received) assert.is(b.samples.find((s: Sample) => s.m === 'test.n')?.v, b.seq);
  agent.stop();
  await spool.settled();
});

t('a batch stays on disk until the control plane acknowledges its storage; unacknowledged ones are sent again', async ({ dir }) => {
  const broker = new MemoryBroker();
  // The first delivery of each of seqs 1 and 2 is "lost with the control plane's write buffer": no ack.
  const refusedOnce = new Set<number>();
  const received = await fakeStore(broker.connect(), (b) => {
    if (b.seq === 0 || refusedOnce.has(b.seq)) return false;
    refusedOnce.add(b.seq);
    return true;
  });
  const link = new SwitchableLink(broker.connect());
  const spool = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 1024 * 1024, maxAgeMs: 3600_000, clock: systemClock, log });
  const agent = new TelemetryAgent({ deviceId: () => 'dev1', clock: systemClock, log, collectors: { system: counter() }, baseMs: 1000, intervals: {}, spool, seq: await SequenceNumbers.open(dir), replayPerSecond: 50, ackTimeoutMs: 300 });
  agent.attach(link);
  await agent.collectAndSend();
  await agent.collectAndSend();
  await agent.collectAndSend();
  // PUBACKs arrived for all three, yet two are unconfirmed: still in the spool.
  await waitUntil('the first ack', () => agent.stats.acked >= 1);
  assert.ok(spool.size.batches >= 2, `spool holds ${spool.size.batches}`);
  await waitUntil('the re-sends and their acks', () => spool.isEmpty);
  const counts = new Map<number, number>();
  for (const b of received) counts.set(b.seq, (counts.get(b.seq) ?? 0) + 1);
  assert.equal([...counts.keys()].sort(), [0, 1, 2]);
  assert.is(counts.get(1), 2, 'seq 1 was sent again');
  assert.is(counts.get(2), 2, 'seq 2 was sent again');
  assert.ok(agent.stats.replayed >= 2);

  // A reconnect re-sends whatever was in flight without waiting for the timeout.
  link.set(false);
  refusedOnce.clear();
  const slow = new TelemetryAgent({ deviceId: () => 'dev1', clock: systemClock, log, collectors: { system: counter() }, baseMs: 1000, intervals: {}, spool, seq: await SequenceNumbers.open(dir), replayPerSecond: 50, ackTimeoutMs: 600_000 });
  agent.stop();
  link.set(true);
  slow.attach(link);
  await slow.collectAndSend(); // refused once: stays in flight, the timeout is far away
  await waitUntil('the live send', () => received.length >= 6);
  assert.is(spool.size.batches, 1);
  link.set(false);
  link.set(true);
  await waitUntil('the re-send after the reconnect', () => spool.isEmpty);
  slow.stop();
  await spool.settled();
});

t('custom series pushed to the local endpoint are validated and published as trace.<group>.<name>', async ({ dir }) => {
  const pushed: Sample[][] = [];
  const endpoint = await startLocalEndpoint({ port: 0, log, now: () => 1234, push: (s) => (pushed.push(s), pushed.length < 3) });
  const url = `http://127.0.0.1:${endpoint.port}/v1/traces`;
  const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const ok = await post({ group: 'app', samples: [{ name: 'latency_ms', value: 12.5 }, { name: 'queue', value: 3, ts: 1000, labels: { worker: 'a' } }] });
  assert.is(ok.status, 202);
  assert.equal(await ok.json(), { accepted: 2 });
  assert.equal(pushed[0], [{ m: 'trace.app.latency_ms', v: 12.5, t: 1234 }, { m: 'trace.app.queue', v: 3, t: 1000, l: { worker: 'a' } }]);
  const bad = await post({ group: 'App!', samples: [{ name: 'x', value: 'high' }] });
  assert.is(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /group|value/);
  assert.is((await post('{nope')).status, 400);
  assert.is((await post({ group: 'app', samples: [] })).status, 400);
  assert.is((await post('x'.repeat(300 * 1024))).status, 413);
  assert.is((await fetch(url)).status, 405);
  assert.is((await post({ group: 'app', samples: [{ name: 'a', value: 1 }] })).status, 202);
  assert.is((await post({ group: 'app', samples: [{ name: 'a', value: 1 }] })).status, 429, 'a full queue refuses instead of growing');
  await endpoint.close();
  void dir;
});

t.run();
