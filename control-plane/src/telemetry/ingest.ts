import { checkTelemetryBatch, encodeJson, filterFor, matchTopic, TelemetryBatch, topicFor, type Clock, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { ValidatedPayloads } from '../broker/validated-payloads.js';
import type { SeriesRegistry } from './series.registry.js';
import type { IngestWriter, PendingBatch, StoredBatch, WriteResult } from './ingest.writer.js';

export type { StoredBatch } from './ingest.writer.js';

export interface IngestOptions {
  /** Buffered batches are written at least this often (ms). */
  flushMs: number;
  /** ...or as soon as this many samples are waiting. */
  maxRows: number;
  /** Samples older than this (ms before now) are not stored: retention would delete them at once. */
  rawRetentionMs: number;
  /** Batches kept in memory while the store refuses writes; beyond it the oldest are let go (never acknowledged, so their agents send them again). */
  maxRetained?: number;
  /** A shared subscription group: with several replicas each batch is ingested by one. */
  share?: string | undefined;
}

/** Whether the last flush reached the store (false while writes fail, e.g. a full disk). */
export interface IngestHealth {
  healthy: boolean;
  since: number;
  error?: string;
  retainedBatches: number;
}

export interface IngestStats {
  batches: number;
  duplicates: number;
  rows: number;
  flushes: number;
  failedFlushes: number;
  pendingRows: number;
  acks: number;
}

/**
 * Receives telemetry batches from the bus and writes them in large transactions: batches are
 * buffered and flushed every `flushMs` (or at `maxRows`) through the writer, which stores each
 * (device, seq) once. Keeps the latest value per series in memory for the fleet views.
 */
export class TelemetryIngest {
  private pending: PendingBatch[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(stored: StoredBatch[]) => void>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private closed = false;
  readonly stats: IngestStats = { batches: 0, duplicates: 0, rows: 0, flushes: 0, failedFlushes: 0, pendingRows: 0, acks: 0 };
  private health: IngestHealth = { healthy: true, since: 0, retainedBatches: 0 };

  constructor(private readonly deps: { writer: IngestWriter; registry: SeriesRegistry; transport: Transport; clock: Clock; log: Logger; options: IngestOptions; validated?: ValidatedPayloads }) {}

  async start(): Promise<void> {
    this.unsubscribe = await this.deps.transport.subscribe(filterFor('telemetry'), (topic, payload) => this.receive(topic, payload), { qos: 1, ...(this.deps.options.share ? { share: this.deps.options.share } : {}) });
    this.timer = setInterval(() => void this.flush(), this.deps.options.flushMs);
    this.timer.unref();
  }

  /** Called with every flush's newly stored batches (not duplicates), after commit. */
  onStored(listener: (stored: StoredBatch[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  receive(topic: string, payload: Buffer): void {
    const deviceId = matchTopic(topic)?.params['deviceId'];
    if (!deviceId) return;
    const text = payload.toString('utf8');
    // Checked already by the broker's payload check in this process: not parsed twice.
    const checked = this.deps.validated?.takeTelemetry(text);
    if (checked) return this.enqueue(deviceId, checked);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.deps.log.warn('malformed telemetry batch', { deviceId, error: 'invalid JSON' });
      return;
    }
    const decoded = checkTelemetryBatch(parsed);
    if (!decoded.ok) {
      this.deps.log.warn('malformed telemetry batch', { deviceId, error: decoded.error });
      return;
    }
    this.enqueue(deviceId, decoded.value);
  }

  enqueue(deviceId: string, batch: TelemetryBatch): void {
    if (this.closed) return;
    this.pending.push({ deviceId, batch, receivedAt: this.deps.clock.now() });
    this.pendingRows += batch.samples.length;
    this.stats.pendingRows = this.pendingRows;
    if (batch.dropped && batch.dropped.batches > 0) {
      this.deps.log.warn('device dropped buffered telemetry', { deviceId, batches: batch.dropped.batches, samples: batch.dropped.samples });
    }
    // While the store refuses writes, only the timer retries (not every arriving batch).
    if (this.pendingRows >= this.deps.options.maxRows && this.health.healthy) void this.flush();
  }

  /** Writes what is buffered; flushes run one at a time, in order. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.pending.length === 0) return;
    const work = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    this.stats.pendingRows = 0;
    const { registry, log } = this.deps;
    registry.begin();
    let result: WriteResult;
    try {
      result = await this.deps.writer.write(work, this.deps.clock.now() - this.deps.options.rawRetentionMs);
    } catch (err) {
      registry.rollback();
      this.stats.failedFlushes++;
      this.retain(work, err);
      return;
    }
    if (!this.health.healthy) log.info('telemetry store writable again', { downMs: this.deps.clock.now() - this.health.since });
    this.health = { healthy: true, since: this.health.healthy ? this.health.since : this.deps.clock.now(), retainedBatches: 0 };
    this.acknowledge(work);
    this.stats.flushes++;
    this.stats.batches += result.stored.length;
    this.stats.duplicates += result.duplicates;
    this.stats.rows += result.rows;
    for (const s of result.stored) this.updateLatest(s);
    for (const listener of this.listeners) {
      try {
        listener(result.stored);
      } catch (err) {
        log.error('telemetry listener failed', { err });
      }
    }
  }

  /**
   * A failed write (disk full, store down) keeps its batches for the next flush instead of dropping
   * them, up to a bound; none of them was acknowledged, so agents still hold every one and re-send
   * whatever this replica lets go of.
   */
  private retain(work: PendingBatch[], err: unknown): void {
    const max = this.deps.options.maxRetained ?? 20_000;
    // Agents re-send what stays unacknowledged: keep one copy of each (device, seq).
    const seen = new Set<string>();
    const merged = [...work, ...this.pending].filter((w) => {
      const key = `${w.deviceId}:${w.batch.seq}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const kept = merged.length > max ? merged.slice(merged.length - max) : merged;
    this.pending = kept;
    this.pendingRows = kept.reduce((n, w) => n + w.batch.samples.length, 0);
    this.stats.pendingRows = this.pendingRows;
    const error = err instanceof Error ? err.message : String(err);
    if (this.health.healthy) this.deps.log.error('telemetry store write failed; batches kept unacknowledged and retried', { batches: work.length, err });
    this.health = { healthy: false, since: this.health.healthy ? this.deps.clock.now() : this.health.since, error, retainedBatches: kept.length };
  }

  /** After the commit: every batch of the flush is durable (stored now, or stored before). */
  private acknowledge(work: PendingBatch[]): void {
    const byDevice = new Map<string, number[]>();
    for (const w of work) {
      const seqs = byDevice.get(w.deviceId) ?? [];
      seqs.push(w.batch.seq);
      byDevice.set(w.deviceId, seqs);
    }
    for (const [deviceId, seqs] of byDevice) {
      for (let i = 0; i < seqs.length; i += 10_000) {
        this.stats.acks++;
        this.deps.transport.publish(topicFor('telemetryAck', { deviceId }), encodeJson({ seqs: seqs.slice(i, i + 10_000) }), { qos: 1 }).catch((err: unknown) => {
          // Not acknowledged means re-sent by the agent and stored once: harmless.
          this.deps.log.debug('telemetry ack not published', { deviceId, err });
        });
      }
    }
  }

  /** For `/api/health`: a store that refuses writes makes the replica unhealthy. */
  healthState(): IngestHealth {
    return { ...this.health, retainedBatches: this.health.healthy ? 0 : this.pending.length };
  }

  private updateLatest(s: StoredBatch): void {
    const { samples } = s.batch;
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i];
      const series = s.series[i];
      if (!sample || !series) continue;
      const ts = sample.t ?? s.batch.ts;
      if (series.lastTs !== null && series.lastTs > ts) continue;
      series.lastTs = ts;
      series.lastValue = sample.v;
      series.dirty = true;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.().catch(() => undefined);
    await this.flush();
  }
}
