import { sql } from 'kysely';
import { canonicalLabels, type SeriesInfo, type SeriesRegistry } from './series.registry.js';
import type { IngestWriter, PendingBatch, StoredBatch, WriteResult } from './ingest.writer.js';
import { num, type TelemetryDb } from './telemetry.tables.js';

// The same lock as series.registry.ts: replicas allocating keys wait for each other's commit.
const KEY_LOCK = 72_630_014;
/** Rows per statement: arrays travel as one parameter each, so this bounds message size only. */
const CHUNK_ROWS = 50_000;

/**
 * PostgreSQL: every statement of a flush carries its rows as arrays (`unnest($1::int[], ...)`), so a
 * flush of 20,000 rows is a handful of statements with five parameters each, instead of kysely
 * building and pg binding 100,000 parameters, and new devices and series are allocated for the
 * whole flush at once (one advisory lock, one max(key)) instead of three queries per new series.
 */
export class PgIngestWriter implements IngestWriter {
  constructor(private readonly db: TelemetryDb, private readonly registry: SeriesRegistry) {}

  async write(work: PendingBatch[], oldestTs: number): Promise<WriteResult> {
    const { registry } = this;
    return this.db.transaction().execute(async (trx) => {
      await this.ensureDevices(trx, work);
      const keyed = work.map((w) => ({ ...w, deviceKey: registry.deviceKey(w.deviceId) ?? -1 }));
      const fresh = new Set<string>();
      for (let i = 0; i < keyed.length; i += CHUNK_ROWS) {
        const part = keyed.slice(i, i + CHUNK_ROWS);
        const inserted = await sql<{ device_key: number; seq: string | number }>`
          insert into telemetry_batches (device_key, seq, ts, received_at, samples)
          select * from unnest(${part.map((k) => k.deviceKey)}::int[], ${part.map((k) => k.batch.seq)}::bigint[], ${part.map((k) => k.batch.ts)}::bigint[], ${part.map((k) => k.receivedAt)}::bigint[], ${part.map((k) => k.batch.samples.length)}::int[])
          on conflict do nothing returning device_key, seq`.execute(trx);
        for (const r of inserted.rows) fresh.add(`${r.device_key}:${num(r.seq)}`);
      }
      const stored: Array<StoredBatch & { labels: string[] }> = [];
      let duplicates = 0;
      const missing = new Map<string, { deviceKey: number; metric: string; labels: Record<string, string> | undefined; labelsJson: string }>();
      for (const k of keyed) {
        if (!fresh.delete(`${k.deviceKey}:${k.batch.seq}`)) {
          duplicates++;
          continue;
        }
        const labels = k.batch.samples.map((s) => canonicalLabels(s.l));
        stored.push({ deviceId: k.deviceId, deviceKey: k.deviceKey, batch: k.batch, series: [], labels });
        k.batch.samples.forEach((s, i) => {
          const labelsJson = labels[i] ?? '{}';
          if ((s.t ?? k.batch.ts) < oldestTs || registry.lookup(k.deviceKey, s.m, labelsJson)) return;
          missing.set(`${k.deviceKey}|${s.m}|${labelsJson}`, { deviceKey: k.deviceKey, metric: s.m, labels: s.l, labelsJson });
        });
      }
      if (missing.size > 0) await this.ensureSeries(trx, [...missing.values()]);
      // Column arrays straight away (no per-row key or tuple): a row repeated in the flush is left to
      // `on conflict do nothing`, which keeps the first, as SQLite's `insert or ignore` does.
      const cols: [number[], number[], number[], number[], number[]] = [[], [], [], [], []];
      for (const s of stored) {
        const { samples } = s.batch;
        for (let i = 0; i < samples.length; i++) {
          const sample = samples[i];
          if (!sample) continue;
          const ts = sample.t ?? s.batch.ts;
          const series = ts < oldestTs ? undefined : registry.lookup(s.deviceKey, sample.m, s.labels[i] ?? '{}');
          s.series.push(series);
          if (!series) continue;
          cols[0].push(s.deviceKey);
          cols[1].push(series.family);
          cols[2].push(ts);
          cols[3].push(series.key);
          cols[4].push(sample.v);
        }
      }
      let rows = 0;
      for (let i = 0; i < cols[0].length; i += CHUNK_ROWS) {
        const [d, f, t, k, v] = cols.map((c) => c.slice(i, i + CHUNK_ROWS));
        const inserted = await sql`
          insert into telemetry_samples (device_key, family, ts, series_key, value)
          select * from unnest(${d}::int[], ${f}::int[], ${t}::bigint[], ${k}::int[], ${v}::float8[])
          on conflict do nothing`.execute(trx);
        rows += Number(inserted.numAffectedRows ?? 0n);
      }
      return { stored: stored.map(({ labels: _labels, ...s }) => s), duplicates, rows };
    });
  }

  /** Keys for the flush's new devices, all at once under the key lock. */
  private async ensureDevices(trx: TelemetryDb, work: PendingBatch[]): Promise<void> {
    const ids = [...new Set(work.map((w) => w.deviceId).filter((id) => this.registry.deviceKey(id) === undefined))];
    if (ids.length === 0) return;
    await sql`select pg_advisory_xact_lock(${KEY_LOCK})`.execute(trx);
    const top = await sql<{ top: number | null }>`select max(key) as top from telemetry_devices`.execute(trx);
    let next = Math.max(this.registry.newDeviceKey(), Number(top.rows[0]?.top ?? 0) + 1);
    const keys = ids.map(() => next++);
    await sql`insert into telemetry_devices (device_id, key) select * from unnest(${ids}::text[], ${keys}::int[]) on conflict do nothing`.execute(trx);
    const found = await sql<{ device_id: string; key: number }>`select device_id, key from telemetry_devices where device_id = any(${ids}::text[])`.execute(trx);
    for (const r of found.rows) this.registry.registerDevice(r.device_id, Number(r.key));
    if (found.rows.length !== ids.length) throw new Error('could not allocate telemetry keys for every device of the flush');
  }

  /** Keys for the flush's new series, all at once under the key lock. */
  private async ensureSeries(trx: TelemetryDb, missing: Array<{ deviceKey: number; metric: string; labels: Record<string, string> | undefined; labelsJson: string }>): Promise<void> {
    await sql`select pg_advisory_xact_lock(${KEY_LOCK})`.execute(trx);
    const top = await sql<{ top: number | null }>`select max(key) as top from telemetry_series`.execute(trx);
    let next = Math.max(this.registry.newSeriesKey(), Number(top.rows[0]?.top ?? 0) + 1);
    const devices = missing.map((m) => m.deviceKey);
    const metrics = missing.map((m) => m.metric);
    const labels = missing.map((m) => m.labelsJson);
    await sql`
      insert into telemetry_series (key, device_key, metric, labels)
      select * from unnest(${missing.map(() => next++)}::int[], ${devices}::int[], ${metrics}::text[], ${labels}::text[])
      on conflict do nothing`.execute(trx);
    // Another replica may have made some of them first: read back whichever key won.
    const found = await sql<{ key: number; device_key: number; metric: string; labels: string }>`
      select s.key, s.device_key, s.metric, s.labels from telemetry_series s
      join unnest(${devices}::int[], ${metrics}::text[], ${labels}::text[]) as m(device_key, metric, labels)
        on s.device_key = m.device_key and s.metric = m.metric and s.labels = m.labels`.execute(trx);
    const byIdentity = new Map(missing.map((m) => [`${m.deviceKey}|${m.metric}|${m.labelsJson}`, m]));
    for (const r of found.rows) {
      const m = byIdentity.get(`${r.device_key}|${r.metric}|${r.labels}`);
      if (m && !this.registry.lookup(m.deviceKey, m.metric, m.labelsJson)) this.registry.registerSeries(m.deviceKey, Number(r.key), m.metric, m.labels, m.labelsJson);
    }
    if (found.rows.length !== missing.length) throw new Error('could not allocate telemetry series keys for every series of the flush');
  }

  async writeLatest(series: SeriesInfo[]): Promise<void> {
    for (let i = 0; i < series.length; i += CHUNK_ROWS) {
      const part = series.slice(i, i + CHUNK_ROWS);
      await sql`
        update telemetry_series s set last_ts = u.last_ts, last_value = u.last_value
        from unnest(${part.map((x) => x.key)}::int[], ${part.map((x) => x.lastTs)}::bigint[], ${part.map((x) => x.lastValue)}::float8[]) as u(key, last_ts, last_value)
        where s.key = u.key`.execute(this.db);
    }
  }

  async close(): Promise<void> {
    // The kysely instance belongs to the app.
  }
}
