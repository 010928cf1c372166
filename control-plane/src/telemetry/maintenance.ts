import { sql } from 'kysely';
import type { Clock, Logger } from '@edgehook/shared';
import type { StoredBatch } from './ingest.js';
import type { SeriesInfo, SeriesRegistry } from './series.registry.js';
import { HOUR, MINUTE, num, type Bucket, type TelemetryDb } from './telemetry.tables.js';

export interface RetentionOptions {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

type Agg = Bucket;

const CHUNK = 1000;

/**
 * Rollups (1-minute and 1-hour aggregates), retention, and writing the in-memory latest values
 * back to the store. Ingest marks the minutes it touched per device; each run recomputes those
 * minutes from raw rows, then the hours they belong to from the minutes, so late data (a replay
 * after an outage) corrects the aggregates it falls into.
 */
export class TelemetryMaintenance {
  private readonly dirtyMinutes = new Map<number, Set<number>>();
  private readonly dirtyHours = new Map<number, Set<number>>();
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();
  private caughtUp = false;

  constructor(private readonly deps: { db: TelemetryDb; registry: SeriesRegistry; clock: Clock; log: Logger; retention: RetentionOptions; rollupEveryMs: number; retentionEveryMs: number; writeBackEveryMs: number; writeLatest: (series: SeriesInfo[]) => Promise<void> }) {}

  /** Ingest listener: remember which (device, minute) buckets got new data. */
  readonly onStored = (stored: StoredBatch[]): void => {
    for (const s of stored) {
      let set = this.dirtyMinutes.get(s.deviceKey);
      if (!set) this.dirtyMinutes.set(s.deviceKey, (set = new Set()));
      set.add(Math.floor(s.batch.ts / MINUTE) * MINUTE);
      for (const sample of s.batch.samples) if (sample.t !== undefined) set.add(Math.floor(sample.t / MINUTE) * MINUTE);
    }
  };

  start(): void {
    const every = (ms: number, job: () => Promise<void>, what: string): void => {
      const t = setInterval(() => {
        this.running = this.running.then(job).catch((err: unknown) => this.deps.log.error(`telemetry ${what} failed`, { err }));
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.deps.rollupEveryMs, () => this.rollup(), 'rollup');
    every(this.deps.retentionEveryMs, () => this.prune(), 'retention');
    every(this.deps.writeBackEveryMs, () => this.writeBack(), 'write-back');
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
    await this.writeBack().catch((err: unknown) => this.deps.log.warn('telemetry write-back failed', { err }));
  }

  /** After a restart nobody remembers what was dirty: redo each device from its last minute rollup on. */
  private async catchUp(): Promise<void> {
    const { db } = this.deps;
    for (const deviceKey of this.deps.registry.deviceKeys()) {
      const last = await db.selectFrom('telemetry_rollup_1m').select((eb) => eb.fn.max('bucket').as('b')).where('device_key', '=', deviceKey).executeTakeFirst();
      const families = this.deps.registry.familiesOf(deviceKey);
      if (families.length === 0) continue;
      // Newest (and, with no rollup yet, oldest) row per family by index (ORDER BY ... LIMIT 1), not
      // a scan of the device's history.
      const noRollup = last?.b === null || last?.b === undefined;
      let newestTs: number | undefined;
      let oldestTs: number | undefined;
      await yieldToIo();
      for (const family of families) {
        const row = await db.selectFrom('telemetry_samples').select('ts').where('device_key', '=', deviceKey).where('family', '=', family).orderBy('ts', 'desc').limit(1).executeTakeFirst();
        if (row) newestTs = Math.max(newestTs ?? 0, num(row.ts));
        if (!noRollup) continue;
        const first = await db.selectFrom('telemetry_samples').select('ts').where('device_key', '=', deviceKey).where('family', '=', family).orderBy('ts', 'asc').limit(1).executeTakeFirst();
        if (first) oldestTs = Math.min(oldestTs ?? Number.MAX_SAFE_INTEGER, num(first.ts));
      }
      if (newestTs === undefined) continue;
      // Without a rollup, start at the device's first raw row: from the retention edge, a device
      // with a minute of data cost 10,080 empty minutes (a week) per device, 20M set entries and
      // as many empty rollups for 2,000 devices, stalling ingest on the first rollup pass.
      const from = noRollup ? Math.max(Math.floor(this.deps.clock.now() - this.deps.retention.rawMs), oldestTs ?? newestTs) : num(last.b);
      const to = newestTs;
      const set = this.dirtyMinutes.get(deviceKey) ?? new Set<number>();
      for (let m = Math.floor(Math.max(from, to - 7 * 24 * HOUR) / MINUTE) * MINUTE; m <= to; m += MINUTE) set.add(m);
      this.dirtyMinutes.set(deviceKey, set);
    }
  }

  async rollup(): Promise<void> {
    if (!this.caughtUp) {
      this.caughtUp = true;
      await this.catchUp();
    }
    // Only finished periods: the current minute and hour would be recomputed on every run.
    const cutoff = this.deps.clock.now() - 5000;
    const later = (map: Map<number, Set<number>>, deviceKey: number, period: number): void => {
      let set = map.get(deviceKey);
      if (!set) map.set(deviceKey, (set = new Set()));
      set.add(period);
    };
    const work = [...this.dirtyMinutes];
    this.dirtyMinutes.clear();
    for (const [deviceKey, minutes] of work) {
      const done = [...minutes].filter((m) => m + MINUTE <= cutoff).sort((a, b) => a - b);
      for (const m of minutes) if (m + MINUTE > cutoff) later(this.dirtyMinutes, deviceKey, m);
      if (done.length === 0) continue;
      await this.rollupMinutes(deviceKey, done);
      for (const m of done) later(this.dirtyHours, deviceKey, Math.floor(m / HOUR) * HOUR);
      // Each device's work is a few synchronous statements: let ingest and requests run between.
      await yieldToIo();
    }
    const hours = [...this.dirtyHours];
    this.dirtyHours.clear();
    for (const [deviceKey, set] of hours) {
      const done = [...set].filter((h) => h + HOUR <= cutoff);
      for (const h of set) if (h + HOUR > cutoff) later(this.dirtyHours, deviceKey, h);
      if (done.length === 0) continue;
      await this.rollupHours(deviceKey, done);
      await yieldToIo();
    }
  }

  /** Aggregated by the database (GROUP BY), so a rollup run does not pull every raw row into JS. */
  private async rollupMinutes(deviceKey: number, minutes: number[]): Promise<void> {
    const { db } = this.deps;
    const first = minutes[0];
    const lastMinute = minutes.at(-1);
    if (first === undefined || lastMinute === undefined) return;
    const wanted = new Set(minutes);
    const families = this.deps.registry.familiesOf(deviceKey);
    if (families.length === 0) return;
    // Literals, not parameters: a bound parameter may arrive as a float and make the division exact.
    const bucket = sql<number>`(ts / ${sql.lit(MINUTE)}) * ${sql.lit(MINUTE)}`;
    const groups = db
      .selectFrom('telemetry_samples')
      .select((eb) => [
        'series_key',
        'family',
        bucket.as('bucket'),
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>('value').as('sum'),
        eb.fn.min<number>('value').as('min'),
        eb.fn.max<number>('value').as('max'),
        eb.fn.max<number>('ts').as('last_ts'),
      ])
      .where('device_key', '=', deviceKey)
      .where('family', 'in', families)
      .where('ts', '>=', first)
      .where('ts', '<', lastMinute + MINUTE)
      .groupBy(['series_key', 'family', sql`(ts / ${sql.lit(MINUTE)}) * ${sql.lit(MINUTE)}`])
      .as('g');
    // The value at each group's newest time, by primary key: `last` without dialect tricks.
    const rows = await db
      .selectFrom(groups)
      .innerJoin('telemetry_samples as s', (j) => j.on('s.device_key', '=', deviceKey).onRef('s.family', '=', 'g.family').onRef('s.ts', '=', 'g.last_ts').onRef('s.series_key', '=', 'g.series_key'))
      .select(['g.series_key', 'g.bucket', 'g.count', 'g.sum', 'g.min', 'g.max', 'g.last_ts', 's.value'])
      .execute();
    const aggs: Array<Agg & { bucket: number; series: number }> = [];
    for (const r of rows) {
      const b = num(r.bucket);
      if (!wanted.has(b)) continue;
      aggs.push({ bucket: b, series: r.series_key, count: num(r.count), sum: num(r.sum), min: num(r.min), max: num(r.max), last: r.value, lastTs: num(r.last_ts) });
    }
    await this.upsert('telemetry_rollup_1m', deviceKey, aggs);
  }

  private async rollupHours(deviceKey: number, hours: number[]): Promise<void> {
    const { db } = this.deps;
    for (const hour of hours) {
      const rows = await db.selectFrom('telemetry_rollup_1m').selectAll().where('device_key', '=', deviceKey).where('bucket', '>=', hour).where('bucket', '<', hour + HOUR).execute();
      const aggs = new Map<string, Agg & { bucket: number; series: number }>();
      for (const r of rows) addTo(aggs, hour, r.series_key, { count: r.count, sum: r.sum, min: r.min, max: r.max, last: r.last, lastTs: num(r.bucket) });
      await this.upsert('telemetry_rollup_1h', deviceKey, [...aggs.values()]);
    }
  }

  private async upsert(table: 'telemetry_rollup_1m' | 'telemetry_rollup_1h', deviceKey: number, aggs: Array<Agg & { bucket: number; series: number }>): Promise<void> {
    const rows = aggs.map((a) => ({ device_key: deviceKey, bucket: a.bucket, series_key: a.series, count: a.count, sum: a.sum, min: a.min, max: a.max, last: a.last }));
    for (let i = 0; i < rows.length; i += CHUNK) {
      await this.deps.db
        .insertInto(table)
        .values(rows.slice(i, i + CHUNK))
        .onConflict((oc) =>
          oc.columns(['device_key', 'bucket', 'series_key']).doUpdateSet((eb) => ({
            count: eb.ref('excluded.count'),
            sum: eb.ref('excluded.sum'),
            min: eb.ref('excluded.min'),
            max: eb.ref('excluded.max'),
            last: eb.ref('excluded.last'),
          })),
        )
        .execute();
    }
  }

  /** Deletes per device, so each delete is a range of the primary key rather than a table scan. */
  async prune(): Promise<void> {
    const { db, clock, retention } = this.deps;
    const now = clock.now();
    for (const deviceKey of this.deps.registry.deviceKeys()) {
      await yieldToIo();
      const families = this.deps.registry.familiesOf(deviceKey);
      if (families.length > 0) await db.deleteFrom('telemetry_samples').where('device_key', '=', deviceKey).where('family', 'in', families).where('ts', '<', now - retention.rawMs).execute();
      await db.deleteFrom('telemetry_batches').where('device_key', '=', deviceKey).where('received_at', '<', now - retention.rawMs).execute();
      await db.deleteFrom('telemetry_rollup_1m').where('device_key', '=', deviceKey).where('bucket', '<', now - retention.minuteMs).execute();
      await db.deleteFrom('telemetry_rollup_1h').where('device_key', '=', deviceKey).where('bucket', '<', now - retention.hourMs).execute();
    }
  }

  /** The latest values live in memory for speed; a restart finds them here. */
  async writeBack(): Promise<void> {
    const dirty = this.deps.registry.takeDirty();
    if (dirty.length > 0) await this.deps.writeLatest(dirty);
  }
}

/** Database calls are synchronous underneath (better-sqlite3): between devices, let I/O run. */
function yieldToIo(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

function addTo(aggs: Map<string, Agg & { bucket: number; series: number }>, bucket: number, series: number, a: Agg): void {
  const id = `${bucket}:${series}`;
  const cur = aggs.get(id);
  if (!cur) {
    aggs.set(id, { ...a, bucket, series });
    return;
  }
  cur.count += a.count;
  cur.sum += a.sum;
  cur.min = Math.min(cur.min, a.min);
  cur.max = Math.max(cur.max, a.max);
  if (a.lastTs >= cur.lastTs) {
    cur.last = a.last;
    cur.lastTs = a.lastTs;
  }
}
