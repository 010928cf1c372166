import { decodeJson, encodeJson, TelemetryAck, topicFor, type Clock, type Logger, type Sample, type TelemetryBatch } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import { COLLECTOR_NAMES, type Collector, type CollectorName } from './collectors.js';
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
  /** A batch whose storage the control plane has not confirmed within this time is sent again. */
  ackTimeoutMs?: number;
  /** Most custom samples waiting for the next batch; pushes beyond it are refused. */
  maxPendingCustom?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Batches sent and awaiting their acknowledgement at once, at most. */
const WINDOW = 256;

/**
 * Collects on a fixed tick and writes each batch to the on-disk spool first (the outbox), then
 * publishes it on `d/{id}/telemetry`. A batch leaves the spool only when the control plane
 * confirms on `d/{id}/telemetry/ack` that its transaction committed (the broker's PUBACK says
 * nothing about the store); unconfirmed batches are sent again after a reconnect or a timeout,
 * the backlog of an outage at `replayPerSecond`, beside the live batches.
 */
export class TelemetryAgent {
  private transport: Transport | undefined;
  private offState: (() => void) | undefined;
  private offAck: (() => Promise<void>) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private tickTimer: NodeJS.Timeout | undefined;
  private tick = 0;
  private custom: Sample[] = [];
  private stopped = false;
  private busy = false;
  /** seq -> when it was last sent on the current connection. */
  private readonly inflight = new Map<number, number>();
  private readonly acked = new Set<number>();
  private pumping = false;
  private poked = false;
  private wake: (() => void) | undefined;
  readonly stats = { published: 0, spooled: 0, replayed: 0, acked: 0, ticks: 0, collectMs: 0 };

  constructor(private readonly opts: TelemetryAgentOptions) {}

  /** Follows the current device link (a new one after re-enrollment). */
  attach(transport: Transport): void {
    this.offState?.();
    void this.offAck?.().catch(() => undefined);
    this.transport = transport;
    this.inflight.clear();
    this.offState = transport.onState((s) => {
      // Whatever was in flight on the old connection is sent again on the new one.
      this.inflight.clear();
      this.poke();
    });
    const acks = topicFor('telemetryAck', { deviceId: this.opts.deviceId() });
    transport.subscribe(acks, (_t, payload) => this.onAck(payload), { qos: 1 }).then(
      (off) => {
        if (this.transport === transport) this.offAck = off;
        else void off().catch(() => undefined);
      },
      (err: unknown) => this.opts.log.warn('telemetry ack subscription failed', { err }),
    );
    this.poke();
  }

  async start(): Promise<void> {
    // CPU usage and network rates are differences: a first reading now gives values at the first tick.
    await Promise.all(Object.values(this.opts.collectors).map((c) => c.collect(this.opts.clock.now()).catch(() => [])));
    this.startTick();
    const c = setInterval(() => {
      if (this.custom.length > 0) void this.send([], true);
    }, Math.min(1000, this.opts.baseMs));
    c.unref();
    this.timers.push(c);
  }

  private startTick(): void {
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.tickTimer = setInterval(() => void this.collectAndSend(), this.opts.baseMs);
    this.tickTimer.unref();
  }

  /**
   * New settings at run time (the agent's own Perfkit config): the base interval, and which
   * collectors run at which interval. A collector switched on gets a first reading at once,
   * so its rates have a value at its first tick.
   */
  reconfigure(next: { baseMs: number; collectors: Partial<Record<CollectorName, Collector>>; intervals: Partial<Record<CollectorName, number>> }): void {
    const added = Object.entries(next.collectors).filter(([name]) => !(name in this.opts.collectors));
    for (const [, c] of added) void c.collect(this.opts.clock.now()).catch(() => []);
    const baseChanged = next.baseMs !== this.opts.baseMs;
    this.opts.collectors = next.collectors;
    this.opts.intervals = next.intervals;
    this.opts.baseMs = next.baseMs;
    if (baseChanged && this.tickTimer && !this.stopped) this.startTick();
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
      const started = this.opts.clock.monotonic();
      const now = this.opts.clock.now();
      const due = COLLECTOR_NAMES.flatMap((name): Array<[CollectorName, Collector]> => {
        const c = this.opts.collectors[name];
        return c && this.due(name) ? [[name, c]] : [];
      });
      this.tick++;
      const results = await Promise.all(
        due.map(([name, c]) =>
          c.collect(now).catch((err: unknown): Sample[] => {
            this.opts.log.debug('collector failed', { collector: name, err });
            return [];
          }),
        ),
      );
      this.stats.collectMs += this.opts.clock.monotonic() - started;
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
    // Waiting beyond what one interval leaves in flight: the buffer of an outage.
    if (!customOnly && spool.batches > 1) all.push({ m: 'agent.telemetry.buffered_batches', v: spool.batches }, { m: 'agent.telemetry.buffered_bytes', v: spool.bytes });
    const dropped = this.opts.spool.pendingDrops();
    const batch: TelemetryBatch = { seq: await this.opts.seq.take(), ts: now, samples: all };
    if (dropped) {
      batch.dropped = dropped;
      batch.samples.push({ m: 'agent.telemetry.dropped_batches', v: dropped.batches }, { m: 'agent.telemetry.dropped_samples', v: dropped.samples });
    }
    // On disk before it is sent: a crash of either side cannot lose it. Its drop report travels
    // with it (the control plane stores each seq once, so a re-sent report counts once).
    await this.opts.spool.append(batch);
    this.stats.spooled++;
    if (dropped) await this.opts.spool.reported(dropped);
    if (this.transport?.connected && this.inflight.size < WINDOW) {
      this.inflight.set(batch.seq, this.opts.clock.now());
      this.stats.published++;
      this.publish(batch);
    }
    this.poke();
  }

  private publish(batch: TelemetryBatch): void {
    const transport = this.transport;
    if (!transport?.connected) {
      this.inflight.delete(batch.seq);
      return;
    }
    const topic = topicFor('telemetry', { deviceId: this.opts.deviceId() });
    transport.publish(topic, encodeJson(batch), { qos: 1 }).catch(() => {
      // Not even handed to the broker: eligible to be sent again at once.
      if (this.transport === transport) this.inflight.delete(batch.seq);
    });
  }

  private onAck(payload: Buffer): void {
    const ack = decodeJson(TelemetryAck, payload);
    if (!ack.ok) {
      this.opts.log.warn('malformed telemetry ack', { error: ack.error });
      return;
    }
    let any = false;
    for (const seq of ack.value.seqs) {
      // Only what this connection sent: a late ack for an unknown seq changes nothing.
      if (!this.inflight.delete(seq)) continue;
      this.acked.add(seq);
      this.stats.acked++;
      any = true;
    }
    if (any) this.poke();
  }

  private poke(): void {
    this.poked = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    if (!this.pumping && !this.stopped) {
      this.pumping = true;
      void this.pump()
        .catch((err: unknown) => this.opts.log.error('telemetry sender failed', { err }))
        .finally(() => {
          this.pumping = false;
          if (this.poked && !this.stopped && this.transport?.connected) this.poke();
        });
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.wake = done;
    });
  }

  /** Drops acknowledged batches from the spool's head and (re-)sends the unconfirmed ones. */
  private async pump(): Promise<void> {
    const { spool, clock } = this.opts;
    const gap = 1000 / Math.max(0.1, this.opts.replayPerSecond);
    const ackTimeout = this.opts.ackTimeoutMs ?? 15_000;
    let replayed = 0;
    while (!this.stopped) {
      this.poked = false;
      const window = await spool.window(WINDOW);
      let k = 0;
      while (k < window.length) {
        const b = window[k];
        if (b !== null && b !== undefined && !this.acked.has(b.seq)) break;
        if (b) this.acked.delete(b.seq);
        k++;
      }
      if (k > 0) {
        await spool.advance(k);
        continue;
      }
      if (window.length === 0) break;
      if (!this.transport?.connected) return;
      let wait = ackTimeout;
      for (const b of window) {
        if (!b || this.acked.has(b.seq)) continue;
        const sentAt = this.inflight.get(b.seq);
        const now = clock.now();
        if (sentAt !== undefined && now - sentAt < ackTimeout) {
          wait = Math.min(wait, ackTimeout - (now - sentAt));
          continue;
        }
        if (!this.transport.connected || this.stopped) break;
        this.inflight.set(b.seq, now);
        this.publish({ ...b, replay: true });
        this.stats.replayed++;
        replayed++;
        await sleep(gap);
      }
      if (!this.poked) await this.pause(wait);
    }
    if (replayed > 0) this.opts.log.info('replayed buffered telemetry', { batches: replayed, left: spool.size.batches });
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.offState?.();
    void this.offAck?.().catch(() => undefined);
    this.wake?.();
  }
}
