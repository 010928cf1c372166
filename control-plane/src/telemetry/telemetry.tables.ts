import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';

/** The telemetry tables (migration 2026-11-22T0002), added to the app's Database with `withTables`. */
export type TelemetryTables = {
  telemetry_devices: { device_id: string; key: number };
  telemetry_series: { key: number; device_key: number; metric: string; labels: string; last_ts: number | string | null; last_value: number | null };
  telemetry_batches: { device_key: number; seq: number | string; ts: number | string; received_at: number | string; samples: number };
  telemetry_samples: { device_key: number; family: number; ts: number | string; series_key: number; value: number };
  telemetry_rollup_1m: RollupRow;
  telemetry_rollup_1h: RollupRow;
};

export type RollupRow = {
  device_key: number;
  bucket: number | string;
  series_key: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
};

/** The rollup tables' bucket widths: telemetry_rollup_1m and telemetry_rollup_1h. */
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** Running aggregate of one series over one time bucket (queries and rollups). */
export interface Bucket {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

export type TelemetryDb = Kysely<Database & TelemetryTables>;

export function telemetryDb(db: Kysely<Database>): TelemetryDb {
  return db.withTables<TelemetryTables>();
}

/** pg returns bigint columns as strings; SQLite as numbers. */
export function num(v: number | string | null): number {
  return typeof v === 'string' ? Number(v) : (v ?? NaN);
}
