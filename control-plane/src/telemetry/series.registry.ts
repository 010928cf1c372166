import { PostgresAdapter, sql } from 'kysely';
import { num, type TelemetryDb } from './telemetry.tables.js';

// Replicas sharing one PostgreSQL allocate keys from their own counters; an advisory lock held to the
// end of the ingest transaction makes a replica that needs new keys wait for the other's commit and
// then skip past its keys (otherwise both take the same keys, and their transactions deadlock).
const KEY_LOCK = 72_630_014;
async function lockKeysIfShared(db: TelemetryDb): Promise<boolean> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return false;
  await sql`select pg_advisory_xact_lock(${KEY_LOCK})`.execute(db);
  return true;
}

export interface SeriesInfo {
  key: number;
  deviceKey: number;
  /** Storage group of the metric (see metricFamily). */
  family: number;
  metric: string;
  labels: Record<string, string>;
  labelsJson: string;
  /** Latest value seen (kept in memory; written back to the store every few seconds). */
  lastTs: number | null;
  lastValue: number | null;
  dirty: boolean;
}

/**
 * The storage group of a series: the metric's first segment (`cpu`, `mem`, `net`...), or
 * `trace.<group>` for custom series, split by whether the series has labels (so the headline
 * `cpu.usage` does not share rows with every core's `cpu.core.usage`), hashed (FNV-1a, 31 bits)
 * so no table is needed; a collision only means two families share rows.
 */
export function metricFamily(metric: string, labelled: boolean): number {
  const parts = metric.split('.');
  const name = `${parts[0] === 'trace' ? `${parts[0]}.${parts[1] ?? ''}` : (parts[0] ?? '')}${labelled ? ':l' : ''}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x7fffffff;
}

/** Labels with sorted keys, so `{b, a}` and `{a, b}` name the same series. */
export function canonicalLabels(labels: Record<string, string> | undefined): string {
  if (!labels) return '{}';
  const keys = Object.keys(labels);
  if (keys.length === 0) return '{}';
  // Already in order (one label, or sent sorted, the usual case): the object serializes as is.
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = (keys[i - 1] ?? '') < (keys[i] ?? '');
  if (sorted) return JSON.stringify(labels);
  return JSON.stringify(Object.fromEntries(keys.sort().map((k) => [k, labels[k] ?? ''])));
}

function parseLabels(text: string): Record<string, string> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/**
 * Integer keys for devices and series, cached in memory (loaded once at start): sample rows
 * carry two small integers instead of text. Keys are made in JS; a unique violation from a
 * replica that took the same key is absorbed and the next key tried.
 */
export class SeriesRegistry {
  private readonly devices = new Map<string, number>();
  private readonly deviceIds = new Map<number, string>();
  /** device key -> metric -> canonical labels -> series: lookups on the ingest path build no strings. */
  private readonly series = new Map<number, Map<string, Map<string, SeriesInfo>>>();
  private readonly byKey = new Map<number, SeriesInfo>();
  private readonly byDevice = new Map<number, SeriesInfo[]>();
  private readonly byMetric = new Map<string, SeriesInfo[]>();
  private nextDevice = 1;
  private nextSeries = 1;
  /** Keys made since `begin()`, forgotten again by `rollback()`. */
  private created = { devices: [] as number[], series: [] as number[] };

  constructor(private readonly db: TelemetryDb) {}

  async load(): Promise<void> {
    for (const row of await this.db.selectFrom('telemetry_devices').selectAll().execute()) this.addDevice(row.device_id, Number(row.key));
    const rows = await this.db.selectFrom('telemetry_series').selectAll().execute();
    for (const r of rows) {
      this.addSeries({ key: Number(r.key), deviceKey: Number(r.device_key), family: metricFamily(r.metric, r.labels !== '{}'), metric: r.metric, labels: parseLabels(r.labels), labelsJson: r.labels, lastTs: r.last_ts === null ? null : num(r.last_ts), lastValue: r.last_value, dirty: false });
    }
  }

  private addDevice(deviceId: string, key: number): void {
    this.devices.set(deviceId, key);
    this.deviceIds.set(key, deviceId);
    this.nextDevice = Math.max(this.nextDevice, key + 1);
  }

  private addSeries(info: SeriesInfo): void {
    let metrics = this.series.get(info.deviceKey);
    if (!metrics) this.series.set(info.deviceKey, (metrics = new Map()));
    let labelled = metrics.get(info.metric);
    if (!labelled) metrics.set(info.metric, (labelled = new Map()));
    labelled.set(info.labelsJson, info);
    this.byKey.set(info.key, info);
    const list = this.byDevice.get(info.deviceKey) ?? [];
    list.push(info);
    this.byDevice.set(info.deviceKey, list);
    const same = this.byMetric.get(info.metric) ?? [];
    same.push(info);
    this.byMetric.set(info.metric, same);
    this.nextSeries = Math.max(this.nextSeries, info.key + 1);
  }

  deviceKey(deviceId: string): number | undefined {
    return this.devices.get(deviceId);
  }

  deviceIdOf(key: number): string | undefined {
    return this.deviceIds.get(key);
  }

  deviceKeys(): number[] {
    return [...this.deviceIds.keys()];
  }

  seriesOf(deviceKey: number): readonly SeriesInfo[] {
    return this.byDevice.get(deviceKey) ?? [];
  }

  /** The storage families a device has rows in (range queries over a device name each family). */
  familiesOf(deviceKey: number): number[] {
    return [...new Set(this.seriesOf(deviceKey).map((s) => s.family))];
  }

  /** Every device's series of one metric (fleet-wide latest values, Prometheus). */
  seriesWithMetric(metric: string): readonly SeriesInfo[] {
    return this.byMetric.get(metric) ?? [];
  }

  metrics(): string[] {
    return [...this.byMetric.keys()].filter((m) => (this.byMetric.get(m)?.length ?? 0) > 0);
  }

  seriesByKey(key: number): SeriesInfo | undefined {
    return this.byKey.get(key);
  }

  allSeries(): IterableIterator<SeriesInfo> {
    return this.byKey.values();
  }

  lookup(deviceKey: number, metric: string, labelsJson: string): SeriesInfo | undefined {
    return this.series.get(deviceKey)?.get(metric)?.get(labelsJson);
  }

  /** For writers that store keys themselves (the SQLite fast path): a fresh key, then `register*`. */
  newDeviceKey(): number {
    return this.nextDevice++;
  }

  newSeriesKey(): number {
    return this.nextSeries++;
  }

  registerDevice(deviceId: string, key: number): void {
    this.addDevice(deviceId, key);
    this.created.devices.push(key);
  }

  registerSeries(deviceKey: number, key: number, metric: string, labels: Record<string, string> | undefined, labelsJson: string): SeriesInfo {
    const info: SeriesInfo = { key, deviceKey, family: metricFamily(metric, labelsJson !== '{}'), metric, labels: labels ?? {}, labelsJson, lastTs: null, lastValue: null, dirty: false };
    this.addSeries(info);
    this.created.series.push(key);
    return info;
  }

  /** The device's key, made and stored on first sight (call inside the ingest transaction). */
  async ensureDevice(db: TelemetryDb, deviceId: string): Promise<number> {
    const known = this.devices.get(deviceId);
    if (known !== undefined) return known;
    if (await lockKeysIfShared(db)) {
      const top = await db.selectFrom('telemetry_devices').select((eb) => eb.fn.max('key').as('top')).executeTakeFirst();
      this.nextDevice = Math.max(this.nextDevice, Number(top?.top ?? 0) + 1);
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = this.nextDevice++;
      await db.insertInto('telemetry_devices').values({ device_id: deviceId, key }).onConflict((oc) => oc.doNothing()).execute();
      const row = await db.selectFrom('telemetry_devices').select('key').where('device_id', '=', deviceId).executeTakeFirst();
      if (row) {
        this.addDevice(deviceId, Number(row.key));
        this.created.devices.push(Number(row.key));
        return Number(row.key);
      }
      // Another replica took this key: skip past everything it has made.
      const top = await db.selectFrom('telemetry_devices').select((eb) => eb.fn.max('key').as('top')).executeTakeFirst();
      this.nextDevice = Math.max(this.nextDevice, Number(top?.top ?? 0) + 1);
    }
    throw new Error(`could not allocate a telemetry key for device ${deviceId}`);
  }

  async ensureSeries(db: TelemetryDb, deviceKey: number, metric: string, labels: Record<string, string> | undefined, labelsJson: string): Promise<SeriesInfo> {
    const known = this.lookup(deviceKey, metric, labelsJson);
    if (known) return known;
    if (await lockKeysIfShared(db)) {
      const top = await db.selectFrom('telemetry_series').select((eb) => eb.fn.max('key').as('top')).executeTakeFirst();
      this.nextSeries = Math.max(this.nextSeries, Number(top?.top ?? 0) + 1);
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = this.nextSeries++;
      await db.insertInto('telemetry_series').values({ key, device_key: deviceKey, metric, labels: labelsJson, last_ts: null, last_value: null }).onConflict((oc) => oc.doNothing()).execute();
      const row = await db.selectFrom('telemetry_series').select('key').where('device_key', '=', deviceKey).where('metric', '=', metric).where('labels', '=', labelsJson).executeTakeFirst();
      if (row) {
        const info: SeriesInfo = { key: Number(row.key), deviceKey, family: metricFamily(metric, labelsJson !== '{}'), metric, labels: labels ?? {}, labelsJson, lastTs: null, lastValue: null, dirty: false };
        this.addSeries(info);
        this.created.series.push(info.key);
        return info;
      }
      const top = await db.selectFrom('telemetry_series').select((eb) => eb.fn.max('key').as('top')).executeTakeFirst();
      this.nextSeries = Math.max(this.nextSeries, Number(top?.top ?? 0) + 1);
    }
    throw new Error(`could not allocate a telemetry series key for ${metric}`);
  }

  begin(): void {
    this.created = { devices: [], series: [] };
  }

  /** Forgets keys made in a transaction that rolled back. */
  rollback(): void {
    const { devices, series } = this.created;
    this.created = { devices: [], series: [] };
    for (const k of devices) {
      const id = this.deviceIds.get(k);
      if (id !== undefined) this.devices.delete(id);
      this.deviceIds.delete(k);
    }
    for (const k of series) {
      const info = this.byKey.get(k);
      if (!info) continue;
      this.byKey.delete(k);
      this.series.get(info.deviceKey)?.get(info.metric)?.delete(info.labelsJson);
      const list = this.byDevice.get(info.deviceKey);
      if (list) this.byDevice.set(info.deviceKey, list.filter((s) => s.key !== k));
      const same = this.byMetric.get(info.metric);
      if (same) this.byMetric.set(info.metric, same.filter((s) => s.key !== k));
    }
  }

  /** Series whose latest value changed since the last write-back. */
  takeDirty(): SeriesInfo[] {
    const out: SeriesInfo[] = [];
    for (const s of this.byKey.values()) {
      if (!s.dirty) continue;
      s.dirty = false;
      out.push(s);
    }
    return out;
  }
}
