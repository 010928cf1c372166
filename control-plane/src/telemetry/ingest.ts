import { decodeJson, filterFor, matchTopic, TelemetryBatch, type Clock, type Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import { canonicalLabels, type SeriesRegistry } from './series.registry.js';
import type { IngestWriter, PendingBatch, StoredBatch, WriteResult } from './ingest.writer.js';

export type { StoredBatch } from './ingest.writer.js';

export interface IngestOptions {
  /** Buffered batches are written at least this often (ms). */
  flushMs: number;
  /** ...or as soon as this many samples are waiting. */
  maxRows: number;
  /** Samples older than this (ms before now) are not stored: retention would delete them at once. */
  rawRetentionMs: number;
  /** A shared subscription group: with several replicas each batch is ingested by one. */
  share?: string | undefined;
}

export interface IngestStats {
  batches: number;
  duplicates: number;
  rows: number;
  flushes: number;
  failedFlushes: number;
  pendingRows: number;
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
  readonly stats: IngestStats = { batches: 0, duplicates: 0, rows: 0, flushes: 0, failedFlushes: 0, pendingRows: 0 };

  constructor(private readonly deps: { writer: IngestWriter; registry: SeriesRegistry; transport: Transport; clock: Clock; log: Logger; options: IngestOptions }) {}

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
    const decoded = decodeJson(TelemetryBatch, payload);
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
    if (this.pendingRows >= this.deps.options.maxRows) void this.flush();
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
      log.error('telemetry flush failed; batches dropped', { batches: work.length, err });
      return;
    }
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

  private updateLatest(s: StoredBatch): void {
    for (const sample of s.batch.samples) {
      const series = this.deps.registry.lookup(s.deviceKey, sample.m, canonicalLabels(sample.l));
      if (!series) continue;
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
