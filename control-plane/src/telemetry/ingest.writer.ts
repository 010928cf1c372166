import type { TelemetryBatch } from '@edgehook/shared';
import { startCheckpointer } from './checkpointer.js';
import { canonicalLabels, type SeriesInfo, type SeriesRegistry } from './series.registry.js';
import type { TelemetryDb } from './telemetry.tables.js';

export interface PendingBatch {
  deviceId: string;
  batch: TelemetryBatch;
  receivedAt: number;
}

export interface StoredBatch {
  deviceId: string;
  deviceKey: number;
  batch: TelemetryBatch;
  /** The series of each sample, in order (undefined for a sample too old to store): no second lookup for the latest values. */
  series: Array<SeriesInfo | undefined>;
}

export interface WriteResult {
  stored: StoredBatch[];
  duplicates: number;
  rows: number;
}

/**
 * Writes one flush in one transaction: batch keys first (a known (device, seq) is a duplicate and
 * its samples are skipped), then the samples. Two implementations: kysely (any dialect) and
 * better-sqlite3 with cached prepared statements (the SQLite fast path: kysely prepares every
 * statement anew, which cost more than the inserts themselves).
 */
export interface IngestWriter {
  write(work: PendingBatch[], oldestTs: number): Promise<WriteResult>;
  /** Stores the in-memory latest values of these series (a restart reads them back). */
  writeLatest(series: SeriesInfo[]): Promise<void>;
  close(): Promise<void>;
}

const CHUNK_ROWS = 2000;

export class KyselyIngestWriter implements IngestWriter {
  constructor(private readonly db: TelemetryDb, private readonly registry: SeriesRegistry) {}

  async write(work: PendingBatch[], oldestTs: number): Promise<WriteResult> {
    const { registry } = this;
    return this.db.transaction().execute(async (trx) => {
      const keyed: Array<PendingBatch & { deviceKey: number }> = [];
      for (const w of work) keyed.push({ ...w, deviceKey: await registry.ensureDevice(trx, w.deviceId) });
      const fresh = new Set<string>();
      for (let i = 0; i < keyed.length; i += CHUNK_ROWS) {
        const rows = keyed.slice(i, i + CHUNK_ROWS).map((k) => ({ device_key: k.deviceKey, seq: k.batch.seq, ts: k.batch.ts, received_at: k.receivedAt, samples: k.batch.samples.length }));
        const inserted = await trx.insertInto('telemetry_batches').values(rows).onConflict((oc) => oc.doNothing()).returning(['device_key', 'seq']).execute();
        for (const r of inserted) fresh.add(`${r.device_key}:${Number(r.seq)}`);
      }
      const stored: StoredBatch[] = [];
      let duplicates = 0;
      const sampleRows = new Map<string, { device_key: number; family: number; ts: number; series_key: number; value: number }>();
      for (const k of keyed) {
        if (!fresh.delete(`${k.deviceKey}:${k.batch.seq}`)) {
          duplicates++;
          continue;
        }
        const seriesOf: Array<SeriesInfo | undefined> = [];
        stored.push({ deviceId: k.deviceId, deviceKey: k.deviceKey, batch: k.batch, series: seriesOf });
        for (const s of k.batch.samples) {
          const ts = s.t ?? k.batch.ts;
          if (ts < oldestTs) {
            seriesOf.push(undefined);
            continue;
          }
          const labelsJson = canonicalLabels(s.l);
          const series = await registry.ensureSeries(trx, k.deviceKey, s.m, s.l, labelsJson);
          seriesOf.push(series);
          const id = `${k.deviceKey}:${ts}:${series.key}`;
          if (!sampleRows.has(id)) sampleRows.set(id, { device_key: k.deviceKey, family: series.family, ts, series_key: series.key, value: s.v });
        }
      }
      const rows = [...sampleRows.values()];
      for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
        await trx.insertInto('telemetry_samples').values(rows.slice(i, i + CHUNK_ROWS)).onConflict((oc) => oc.doNothing()).execute();
      }
      return { stored, duplicates, rows: rows.length };
    });
  }

  async writeLatest(series: SeriesInfo[]): Promise<void> {
    for (let i = 0; i < series.length; i += 1000) {
      const rows = series.slice(i, i + 1000).map((s) => ({ key: s.key, device_key: s.deviceKey, metric: s.metric, labels: s.labelsJson, last_ts: s.lastTs, last_value: s.lastValue }));
      await this.db
        .insertInto('telemetry_series')
        .values(rows)
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ last_ts: eb.ref('excluded.last_ts'), last_value: eb.ref('excluded.last_value') })))
        .execute();
    }
  }

  async close(): Promise<void> {
    // The kysely instance belongs to the app.
  }
}

type RawDb = import('better-sqlite3').Database;

// Rows per multi-row sample insert: a 60-sample batch is one statement (5 parameters a row, far below SQLite's limit).
const SAMPLE_ROWS = 64;
type Statement = import('better-sqlite3').Statement;

/** SQLite: its own connection to the same file (WAL allows it), statements prepared once. */
export class SqliteIngestWriter implements IngestWriter {
  private readonly insertBatch: Statement;
  /** Multi-row sample inserts by row count (1..SAMPLE_ROWS), prepared on first use. */
  private readonly insertSamples = new Map<number, Statement>();
  private readonly insertDevice: Statement;
  private readonly findDevice: Statement;
  private readonly insertSeries: Statement;
  private readonly findSeries: Statement;
  private readonly run: (work: PendingBatch[], oldestTs: number) => WriteResult;
  private readonly updateLatest: (series: SeriesInfo[]) => void;

  private constructor(
    private readonly raw: RawDb,
    private readonly registry: SeriesRegistry,
    private readonly checkpointer: { stop(): Promise<void> },
  ) {
    this.insertBatch = raw.prepare('insert or ignore into telemetry_batches (device_key, seq, ts, received_at, samples) values (?, ?, ?, ?, ?)');
    this.insertDevice = raw.prepare('insert or ignore into telemetry_devices (device_id, key) values (?, ?)');
    this.findDevice = raw.prepare('select key from telemetry_devices where device_id = ?');
    this.insertSeries = raw.prepare('insert or ignore into telemetry_series (key, device_key, metric, labels) values (?, ?, ?, ?)');
    this.findSeries = raw.prepare('select key from telemetry_series where device_key = ? and metric = ? and labels = ?');
    this.run = raw.transaction((work: PendingBatch[], oldestTs: number) => this.writeSync(work, oldestTs));
    const setLatest = raw.prepare('update telemetry_series set last_ts = ?, last_value = ? where key = ?');
    this.updateLatest = raw.transaction((series: SeriesInfo[]) => {
      for (const s of series) setLatest.run(s.lastTs, s.lastValue, s.key);
    });
  }

  static async open(path: string, registry: SeriesRegistry): Promise<SqliteIngestWriter> {
    const { default: Database } = await import('better-sqlite3');
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    // The working set of ingest is one page per active device; keep it in memory (64 MB).
    raw.pragma('cache_size = -65536');
    // Checkpoints happen in a worker thread (checkpointer.ts), not inside our commits.
    raw.pragma('wal_autocheckpoint = 0');
    return new SqliteIngestWriter(raw, registry, startCheckpointer(path));
  }

  private deviceKey(deviceId: string): number {
    const known = this.registry.deviceKey(deviceId);
    if (known !== undefined) return known;
    for (let attempt = 0; attempt < 20; attempt++) {
      this.insertDevice.run(deviceId, this.registry.newDeviceKey());
      const key = keyOf(this.findDevice.get(deviceId));
      if (key !== undefined) {
        this.registry.registerDevice(deviceId, key);
        return key;
      }
    }
    throw new Error(`could not allocate a telemetry key for device ${deviceId}`);
  }

  private series(deviceKey: number, metric: string, labels: Record<string, string> | undefined): SeriesInfo {
    const labelsJson = canonicalLabels(labels);
    const known = this.registry.lookup(deviceKey, metric, labelsJson);
    if (known) return known;
    for (let attempt = 0; attempt < 20; attempt++) {
      this.insertSeries.run(this.registry.newSeriesKey(), deviceKey, metric, labelsJson);
      const key = keyOf(this.findSeries.get(deviceKey, metric, labelsJson));
      if (key !== undefined) return this.registry.registerSeries(deviceKey, key, metric, labels, labelsJson);
    }
    throw new Error(`could not allocate a telemetry series key for ${metric}`);
  }

  private writeSync(work: PendingBatch[], oldestTs: number): WriteResult {
    const stored: StoredBatch[] = [];
    let duplicates = 0;
    let rows = 0;
    for (const w of work) {
      const deviceKey = this.deviceKey(w.deviceId);
      if (this.insertBatch.run(deviceKey, w.batch.seq, w.batch.ts, w.receivedAt, w.batch.samples.length).changes === 0) {
        duplicates++;
        continue;
      }
      const seriesOf: Array<SeriesInfo | undefined> = [];
      stored.push({ deviceId: w.deviceId, deviceKey, batch: w.batch, series: seriesOf });
      const params: Array<number> = [];
      for (const s of w.batch.samples) {
        const ts = s.t ?? w.batch.ts;
        if (ts < oldestTs) {
          seriesOf.push(undefined);
          continue;
        }
        const series = this.series(deviceKey, s.m, s.l);
        seriesOf.push(series);
        params.push(deviceKey, series.family, ts, series.key, s.v);
        if (params.length === SAMPLE_ROWS * 5) rows += this.insertRows(params.splice(0));
      }
      if (params.length > 0) rows += this.insertRows(params);
    }
    return { stored, duplicates, rows };
  }

  /** One statement for a batch's rows instead of one per row: the per-call cost was most of the transaction. */
  private insertRows(params: number[]): number {
    const n = params.length / 5;
    let statement = this.insertSamples.get(n);
    if (!statement) {
      statement = this.raw.prepare(`insert or ignore into telemetry_samples (device_key, family, ts, series_key, value) values ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?)').join(', ')}`);
      this.insertSamples.set(n, statement);
    }
    return statement.run(params).changes;
  }

  async write(work: PendingBatch[], oldestTs: number): Promise<WriteResult> {
    return this.run(work, oldestTs);
  }

  async writeLatest(series: SeriesInfo[]): Promise<void> {
    this.updateLatest(series);
  }

  /** Waits for the checkpoint worker too: it holds its own connection to the file. */
  async close(): Promise<void> {
    this.raw.close();
    await this.checkpointer.stop();
  }
}

/** The `key` column of a row better-sqlite3 read (typed `unknown` by the driver). */
function keyOf(row: unknown): number | undefined {
  if (typeof row !== 'object' || row === null) return undefined;
  const key: unknown = Reflect.get(row, 'key');
  return typeof key === 'number' ? key : undefined;
}
