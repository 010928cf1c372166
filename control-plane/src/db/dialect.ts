import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Migration, type MigrationProvider, type SqliteDatabase } from 'kysely';
import type { Database } from './database.js';
import * as initial from './migrations/2026-11-22T0001-initial.js';
import * as telemetry from './migrations/2026-11-22T0002-telemetry.js';
import * as servers from './migrations/2026-11-22T0003-servers.js';
import * as serversClaim from './migrations/2026-11-22T0004-servers-claim.js';
import * as security13a from './migrations/2026-12-01T13a-security.js';
import * as audit13b from './migrations/2026-12-01T13b-audit.js';
import * as avatars17 from './migrations/2026-12-01T17-avatars.js';
import * as sshKeys17 from './migrations/2026-12-01T17-ssh-keys.js';
import * as vpn18b from './migrations/2026-12-02T18b-vpn.js';
import * as perfkit18c from './migrations/2026-12-02T18c-perfkit-configs.js';
import * as wsi18a from './migrations/2026-12-02T18a-wsi.js';
import * as jobs19a from './migrations/2026-12-02T19a-jobs.js';

/** Where the store lives: a SQLite file (default) or a Postgres URL for multi-replica setups. */
export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export function parseStoreLocation(value: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  return { kind: 'sqlite', path: value.replace(/^sqlite:(\/\/)?/, '') };
}

/**
 * kysely prepares every statement anew; preparing cost more than running a simple indexed query (the
 * auth and device lookups on every request). The same SQL text reuses its statement; one that is
 * still being iterated (a streamed query) is not shared. Bounded; the oldest text goes first.
 */
function reusingStatements(db: import('better-sqlite3').Database, max = 512): SqliteDatabase {
  const cache = new Map<string, import('better-sqlite3').Statement>();
  return {
    close: () => void db.close(),
    prepare(source: string) {
      const hit = cache.get(source);
      if (hit && !hit.busy) return hit;
      const stmt = db.prepare(source);
      if (!hit) {
        if (cache.size >= max) {
          const oldest = cache.keys().next();
          if (!oldest.done) cache.delete(oldest.value);
        }
        cache.set(source, stmt);
      }
      return stmt;
    },
  };
}

/** Native drivers load lazily, so a SQLite deployment never needs pg and vice versa. */
export async function openDatabase(location: StoreLocation): Promise<Kysely<Database>> {
  if (location.kind === 'sqlite') {
    const { default: SqliteDatabase } = await import('better-sqlite3');
    if (location.path !== ':memory:') {
      mkdirSync(dirname(location.path), { recursive: true, mode: 0o700 });
      // Created 0600 before SQLite opens it; SQLite gives -wal and -shm the same mode.
      closeSync(openSync(location.path, 'a', 0o600));
      chmodSync(location.path, 0o600);
    }
    const sqlite = new SqliteDatabase(location.path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    return new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  }
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: location.url, max: 10 });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

// Listed here rather than read from disk, so the build output is self-contained.
const migrations: Record<string, Migration> = {
  '2026-11-22T0001-initial': initial,
  '2026-11-22T0002-telemetry': telemetry,
  '2026-11-22T0003-servers': servers,
  '2026-11-22T0004-servers-claim': serversClaim,
  '2026-12-01T13a-security': security13a,
  '2026-12-01T13b-audit': audit13b,
  '2026-12-01T17-avatars': avatars17,
  '2026-12-01T17-ssh-keys': sshKeys17,
  '2026-12-02T18b-vpn': vpn18b,
  '2026-12-02T18c-perfkit-configs': perfkit18c,
  '2026-12-02T18a-wsi': wsi18a,
  '2026-12-02T19a-jobs': jobs19a,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const why = error instanceof Error ? error.message : String(error ?? 'unknown error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${why}`);
  }
}
