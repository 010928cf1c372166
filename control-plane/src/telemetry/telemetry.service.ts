import { PostgresAdapter, sql, SqliteAdapter, type Kysely } from 'kysely';
import type { Clock, Logger } from '@edgehook/shared';
import type { Transport } from '@edgehook/shared/transport';
import type { ValidatedPayloads } from '../broker/validated-payloads.js';
import type { Database } from '../db/database.js';
import { TelemetryIngest, type StoredBatch } from './ingest.js';
import { PgIngestWriter } from './ingest.pg-writer.js';
import { KyselyIngestWriter, SqliteIngestWriter, type IngestWriter } from './ingest.writer.js';
import { TelemetryMaintenance, type RetentionOptions } from './maintenance.js';
import { SeriesRegistry } from './series.registry.js';
import { telemetryDb, type TelemetryDb } from './telemetry.tables.js';

export interface TelemetryOptions {
  retention: RetentionOptions;
  /** The SQLite file, when the store is SQLite: ingest then writes through its own fast connection. */
  sqlitePath?: string | undefined;
  /** Several replicas on one broker: each batch goes to one of them (a shared subscription group). */
  share?: string | undefined;
  flushMs?: number;
  maxRows?: number;
  rollupEveryMs?: number;
  retentionEveryMs?: number;
  writeBackEveryMs?: number;
  /** Tests: wraps the writer (a store whose writes fail on a switch). */
  wrapWriter?: (writer: IngestWriter) => IngestWriter;
}

export interface TelemetryService {
  db: TelemetryDb;
  registry: SeriesRegistry;
  ingest: TelemetryIngest;
  maintenance: TelemetryMaintenance;
  retention: RetentionOptions;
  /** Live feed of stored batches (this replica ingests every batch, so each replica has all). */
  subscribe(listener: (stored: StoredBatch[]) => void): () => void;
  close(): Promise<void>;
}

/** Starts telemetry ingest and upkeep on the bus; the routes read through the returned service. */
export async function startTelemetry(deps: { db: Kysely<Database>; transport: Transport; clock: Clock; log: Logger; validated?: ValidatedPayloads }, options: TelemetryOptions): Promise<TelemetryService> {
  const db = telemetryDb(deps.db);
  const sqlite = deps.db.getExecutor().adapter instanceof SqliteAdapter;
  if (sqlite) await sql`pragma cache_size = -65536`.execute(deps.db);
  const registry = new SeriesRegistry(db);
  await registry.load();
  const log = deps.log.child({ part: 'telemetry' });
  const postgres = deps.db.getExecutor().adapter instanceof PostgresAdapter;
  const real = sqlite && options.sqlitePath && options.sqlitePath !== ':memory:' ? await SqliteIngestWriter.open(options.sqlitePath, registry) : postgres ? new PgIngestWriter(db, registry) : new KyselyIngestWriter(db, registry);
  const writer = options.wrapWriter ? options.wrapWriter(real) : real;
  const ingest = new TelemetryIngest({ writer, registry, transport: deps.transport, clock: deps.clock, log, ...(deps.validated ? { validated: deps.validated } : {}), options: { flushMs: options.flushMs ?? 200, maxRows: options.maxRows ?? 20_000, rawRetentionMs: options.retention.rawMs, share: options.share } });
  const maintenance = new TelemetryMaintenance({
    db,
    registry,
    clock: deps.clock,
    log,
    retention: options.retention,
    rollupEveryMs: options.rollupEveryMs ?? 30_000,
    retentionEveryMs: options.retentionEveryMs ?? 10 * 60_000,
    writeBackEveryMs: options.writeBackEveryMs ?? 5_000,
    writeLatest: (series) => writer.writeLatest(series),
  });
  ingest.onStored(maintenance.onStored);
  await ingest.start();
  maintenance.start();
  return {
    db,
    registry,
    ingest,
    maintenance,
    retention: options.retention,
    subscribe: (listener) => ingest.onStored(listener),
    async close() {
      await ingest.close();
      await maintenance.stop();
      await writer.close();
    },
  };
}
