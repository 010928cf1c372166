import { encodeJson, topicFor, type Clock, type Logger, type Sample, type TelemetryBatch } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { Collector, CollectorName } from './collectors.js';
import type { SequenceNumbers } from './sequence.js';
import type { Spool } from './spool.js';

export interface TelemetryAgentOptions {
  deviceId: () => string;
  clock: Clock;
  log: Logger;
  collectors: Partial<Record<CollectorName, Collector>>;
  /** One batch per `baseMs`; a collector with a longer interval runs every n-th tick. */
  baseMs: number;
  intervals: Partial<Record<CollectorName, number>>;
  spool: Spool;
  seq: SequenceNumbers;
  /** Replay rate after an outage (batches per second), beside the live batches. */
  replayPerSecond: number;
  /** A publish not acknowledged within this time counts as failed (the batch is buffered). */
  publishTimeoutMs?: number;
  /** Most custom samples waiting for the next batch; pushes beyond it are refused. */
  maxPendingCustom?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Collects on a fixed tick, publishes one batch per tick on `d/{id}/telemetry` (QoS 1), and keeps
 * batches it could not deliver in the on-disk spool, replaying them in order once connected.
 */
export class TelemetryAgent {
  private transport: Transport | undefined;
  private offState: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private tick = 0;
  private custom: Sample[] = [];
  private replaying = false;
  private stopped = false;
  private busy = false;
  readonly stats = { published: 0, spooled: 0, replayed: 0, ticks: 0, collectMs: 0 };

  constructor(private readonly opts: TelemetryAgentOptions) {}

  /** Follows the current device link (a new one after re-enrollment). */
  attach(transport: Transport): void {
    this.offState?.();
    this.transport = transport;
    this.offState = transport.onState((s) => {
      if (s.state === 'connected') this.startReplay();
    });
    if (transport.connected) this.startReplay();
  }

  async start(): Promise<void> {
    // CPU usage and network rates are differences: a first reading now gives values at the first tick.
    await Promise.all(Object.values(this.opts.collectors).map((c) => c.collect(this.opts.clock.now()).catch(() => [])));
    const t = setInterval(() => void this.collectAndSend(), this.opts.baseMs);
    const c = setInterval(() => {
      if (this.custom.length > 0) void this.send([], true);
    }, Math.min(1000, this.opts.baseMs));
    t.unref();
    c.unref();
    this.timers.push(t, c);
  }

  /** Custom series from the local endpoint; false when too many are already waiting. */
  pushCustom(samples: Sample[]): boolean {
    if (this.custom.length + samples.length > (this.opts.maxPendingCustom ?? 20_000)) return false;
    this.custom.push(...samples);
    return true;
  }

  private due(name: CollectorName): boolean {
    const every = Math.max(1, Math.round((this.opts.intervals[name] ?? this.opts.baseMs) / this.opts.baseMs));
    return this.tick % every === 0;
  }

  async collectAndSend(): Promise<void> {
    if (this.busy || this.stopped) return; // a slow tick (hung mount) must not pile up
    this.busy = true;
    try {
      const started = performance.now();
      const now = this.opts.clock.now();
      const entries = Object.entries(this.opts.collectors) as Array<[CollectorName, Collector]>;
      const due = entries.filter(([name]) => this.due(name));
      this.tick++;
      const results = await Promise.all(
        due.map(([name, c]) =>
          c.collect(now).catch((err: unknown) => {
            this.opts.log.debug('collector failed', { collector: name, err });
            return [] as Sample[];
          }),
        ),
      );
      this.stats.collectMs += performance.now() - started;
      this.stats.ticks++;
      await this.send(results.flat(), false, now);
    } finally {
      this.busy = false;
    }
  }

  private async send(samples: Sample[], customOnly: boolean, now = this.opts.clock.now()): Promise<void> {
    const custom = this.custom.splice(0, 4000);
    if (customOnly && custom.length === 0) return;
    const all = [...samples, ...custom];
    const spool = this.opts.spool.size;
    if (!customOnly && spool.batches > 0) all.push({ m: 'agent.telemetry.buffered_batches', v: spool.batches }, { m: 'agent.telemetry.buffered_bytes', v: spool.bytes });
    const dropped = this.opts.spool.pendingDrops();
    const batch: TelemetryBatch = { seq: await this.opts.seq.take(), ts: now, samples: all };
    if (dropped && this.transport?.connected) {
      batch.dropped = dropped;
      batch.samples.push({ m: 'agent.telemetry.dropped_batches', v: dropped.batches }, { m: 'agent.telemetry.dropped_samples', v: dropped.samples });
    }
    if (await this.publish(batch)) {
      this.stats.published++;
      if (batch.dropped) await this.opts.spool.reported(batch.dropped);
      if (!this.opts.spool.isEmpty) this.startReplay();
      return;
    }
    // Drops travel with a live batch only, or they would be reported twice.
    const { dropped: _d, ...kept } = batch;
    await this.opts.spool.append(kept);
    this.stats.spooled++;
  }

  private async publish(batch: TelemetryBatch): Promise<boolean> {
    const transport = this.transport;
    if (!transport?.connected) return false;
    const topic = topicFor('telemetry', { deviceId: this.opts.deviceId() });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.publishTimeoutMs ?? 10_000);
    });
    try {
      // Resolves on PUBACK. A batch that was delivered but not acknowledged is buffered and sent
      // again; the control plane stores each (device, seq) once.
      return await Promise.race([transport.publish(topic, encodeJson(batch), { qos: 1 }).then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private startReplay(): void {
    if (this.replaying || this.stopped) return;
    this.replaying = true;
    void this.replay().finally(() => {
      this.replaying = false;
    });
  }

  private async replay(): Promise<void> {
    const gap = 1000 / Math.max(0.1, this.opts.replayPerSecond);
    let sent = 0;
    while (!this.stopped && this.transport?.connected) {
      const batch = await this.opts.spool.peek();
      if (!batch) break;
      if (!(await this.publish({ ...batch, replay: true }))) break;
      await this.opts.spool.ack();
      this.stats.replayed++;
      sent++;
      await sleep(gap);
    }
    if (sent > 0) this.opts.log.info('replayed buffered telemetry', { batches: sent, left: this.opts.spool.size.batches });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.offState?.();
  }
}
