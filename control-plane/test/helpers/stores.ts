import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest, openDatabase } from '../../src/db/dialect.js';

export interface StoreFixture {
  name: 'sqlite' | 'postgres';
  open(): Promise<Kysely<Database>>;
  close(): Promise<void>;
}

const PG_BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * A throwaway Postgres cluster for the store contract suite: EDGEHOOK_TEST_POSTGRES_URL when given,
 * else one started here from the Debian binaries (as the postgres user: initdb refuses root).
 * Tests run it with fsync off; `durable` keeps PostgreSQL's defaults (the benches).
 */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<{ url: string; stop(): Promise<void> } | { missing: string }> {
  const given = process.env['EDGEHOOK_TEST_POSTGRES_URL'];
  if (given) return { url: given, stop: async () => undefined };
  const bin = PG_BIN_DIRS.find((d) => existsSync(join(d, 'initdb')));
  if (!bin) return { missing: 'no PostgreSQL server binaries (apt-get install postgresql)' };
  const asPostgres = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'edgehook-pg-'));
  const run = (cmd: string, args: string[]) =>
    asPostgres ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  if (asPostgres) execFileSync('chown', ['postgres', dir]);
  run(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const data = join(dir, 'data');
  // pg_ctl -w returns once the server accepts connections.
  run(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${opts.durable ? '' : ' -c fsync=off'}`, 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async stop() {
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** SQLite always; Postgres when available. In CI (CI=true) a missing Postgres is a failure, not a skip. */
export async function storeFixtures(): Promise<{ fixtures: StoreFixture[]; skipped: string[] }> {
  const fixtures: StoreFixture[] = [];
  const skipped: string[] = [];
  const sqliteDirs: string[] = [];
  fixtures.push({
    name: 'sqlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'edgehook-store-'));
      sqliteDirs.push(dir);
      const db = await openDatabase({ kind: 'sqlite', path: join(dir, 'test.db') });
      await migrateToLatest(db);
      return db;
    },
    async close() {
      for (const d of sqliteDirs) await rm(d, { recursive: true, force: true });
    },
  });
  const pgServer = await startPostgres();
  if ('missing' in pgServer) {
    if (process.env['CI'] === 'true') throw new Error(`Postgres is required in CI: ${pgServer.missing}`);
    skipped.push(`postgres: ${pgServer.missing}`);
  } else {
    const { default: pg } = await import('pg');
    let n = 0;
    const opened: Array<Kysely<Database>> = [];
    fixtures.push({
      name: 'postgres',
      async open() {
        // A fresh database per open, so every test starts empty.
        const name = `edgehook_test_${process.pid}_${++n}`;
        const admin = new pg.Client({ connectionString: pgServer.url });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${name}`);
        await admin.end();
        const url = new URL(pgServer.url);
        url.pathname = `/${name}`;
        const db = await openDatabase({ kind: 'postgres', url: url.toString() });
        await migrateToLatest(db);
        opened.push(db);
        return db;
      },
      async close() {
        for (const db of opened) await db.destroy();
        await pgServer.stop();
      },
    });
  }
  return { fixtures, skipped };
}
