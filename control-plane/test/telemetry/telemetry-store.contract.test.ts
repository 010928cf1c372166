import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Kysely } from 'kysely';
import { createLogger, type Clock } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest, openDatabase } from '../../src/db/dialect.js';
import { querySeries } from '../../src/telemetry/query.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/telemetry.service.js';
import { storeFixtures } from '../helpers/stores.js';

// One contract, every store and writer: SQLite through its fast writer, SQLite and Postgres through kysely.
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (telemetry store contract skipped for ${s})`);

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);
const clock: Clock = { now: () => T0 + 3 * 3_600_000, monotonic: () => 0 };
const retention = { rawMs: 86_400_000, minuteMs: 86_400_000, hourMs: 86_400_000 };

interface Store {
  name: string;
  open(): Promise<{ db: Kysely<Database>; sqlitePath?: string }>;
  close(): Promise<void>;
}

const dirs: string[] = [];
const stores: Store[] = [
  {
    name: 'sqlite (fast writer)',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'edgehook-tel-'));
      dirs.push(dir);
      const sqlitePath = join(dir, 'x.db');
      const db = await openDatabase({ kind: 'sqlite', path: sqlitePath });
      await migrateToLatest(db);
      return { db, sqlitePath };
    },
    async close() {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  },
  ...fixtures.map((f) => ({ name: `${f.name} (kysely writer)`, open: async () => ({ db: await f.open() }), close: () => f.close() })),
];

async function service(store: Store): Promise<{ tel: TelemetryService; db: Kysely<Database>; sqlitePath?: string }> {
  const { db, sqlitePath } = await store.open();
  const tel = await startTelemetry({ db, transport: new MemoryBroker().connect(), clock, log }, { retention, sqlitePath, flushMs: 3_600_000, rollupEveryMs: 3_600_000, retentionEveryMs: 3_600_000, writeBackEveryMs: 3_600_000 });
  return { tel, db, ...(sqlitePath ? { sqlitePath } : {}) };
}

for (const store of stores) {
  test(`${store.name}: batches stored once, aligned queries, rollups, latest values across a restart`, async () => {
    const { tel, db, sqlitePath } = await service(store);
    for (let i = 0; i < 60; i++) tel.ingest.enqueue('dev-a', { seq: i, ts: T0 + i * 10_000, samples: [{ m: 'cpu.usage', v: i }, { m: 'cpu.core.usage', v: 2 * i, l: { core: '1' } }] });
    // Redelivered and replayed copies, in the same flush and in a later one.
    tel.ingest.enqueue('dev-a', { seq: 3, ts: T0 + 30_000, samples: [{ m: 'cpu.usage', v: 999 }] });
    await tel.ingest.flush();
    tel.ingest.enqueue('dev-a', { seq: 4, ts: T0 + 40_000, samples: [{ m: 'cpu.usage', v: 999 }], replay: true });
    tel.ingest.enqueue('dev-b', { seq: 4, ts: T0 + 40_000, samples: [{ m: 'cpu.usage', v: 7 }] });
    await tel.ingest.flush();
    assert.is(tel.ingest.stats.duplicates, 2);
    assert.is(tel.ingest.stats.batches, 61);
    const key = tel.registry.deviceKey('dev-a') ?? -1;
    const cpu = tel.registry.seriesOf(key).filter((s) => s.metric === 'cpu.usage');
    const raw = await querySeries(tel.db, key, cpu, { metric: 'cpu.usage', from: T0, to: T0 + 2 * MIN, step: 30_000, agg: 'max', labels: {} });
    assert.equal(raw.series[0]?.points.map((p) => p[1]), [2, 5, 8, 11]);
    await tel.maintenance.rollup();
    const minute = await querySeries(tel.db, key, cpu, { metric: 'cpu.usage', from: T0, to: T0 + 10 * MIN, step: 5 * MIN, agg: 'count', labels: {} });
    assert.equal(minute.series[0]?.points.map((p) => p[1]), [30, 30]);
    const hour = await querySeries(tel.db, key, cpu, { metric: 'cpu.usage', from: T0, to: T0 + 3_600_000, step: 3_600_000, agg: 'last', labels: {} });
    assert.equal(hour.series[0]?.points, [[T0, 59]]);
    await tel.close();
    // A restart reads keys and latest values back.
    const again = await startTelemetry({ db, transport: new MemoryBroker().connect(), clock, log }, { retention, sqlitePath, flushMs: 3_600_000 });
    const [latest] = again.registry.seriesWithMetric('cpu.usage').filter((s) => s.deviceKey === key);
    assert.is(latest?.lastValue, 59);
    assert.is(latest?.lastTs, T0 + 590_000);
    again.ingest.enqueue('dev-a', { seq: 10, ts: T0, samples: [{ m: 'cpu.usage', v: 1 }] });
    await again.ingest.flush();
    assert.is(again.ingest.stats.duplicates, 1, 'the batch key survives the restart');
    await again.close();
    await db.destroy();
  });
}

test.after(async () => {
  for (const s of stores) await s.close();
});

test.run();
