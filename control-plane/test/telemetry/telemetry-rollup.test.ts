import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Kysely } from 'kysely';
import { createLogger, type Clock } from '@edgehook/shared';
import { MemoryBroker } from '@edgehook/shared/transport';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest, openDatabase } from '../../src/db/dialect.js';
import { querySeries } from '../../src/telemetry/query.js';
import { startTelemetry, type TelemetryService } from '../../src/telemetry/telemetry.service.js';
import { cleanup, tempDir } from '../helpers/harness.js';

const log = createLogger({ level: 'error', format: 'json', write: () => undefined });
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

class ManualClock implements Clock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
  monotonic() {
    return this.t;
  }
}

const t = suite<{ dir: string; db: Kysely<Database>; tel: TelemetryService; clock: ManualClock }>('telemetry rollups and retention');
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

t.before.each(async (ctx) => {
  ctx.dir = await tempDir();
  ctx.db = await openDatabase({ kind: 'sqlite', path: join(ctx.dir, 'x.db') });
  await migrateToLatest(ctx.db);
  ctx.clock = new ManualClock(T0 + 3 * HOUR);
  ctx.tel = await startTelemetry({ db: ctx.db, transport: new MemoryBroker().connect(), clock: ctx.clock, log }, { retention: { rawMs: 1 * DAY, minuteMs: 3 * DAY, hourMs: 10 * DAY }, sqlitePath: join(ctx.dir, 'x.db'), flushMs: 60_000, rollupEveryMs: 3600_000, retentionEveryMs: 3600_000, writeBackEveryMs: 3600_000 });
});
t.after.each(async (ctx) => {
  await ctx.tel.close();
  await ctx.db.destroy();
  await cleanup(ctx.dir);
});

/** Two hours at 10 s: value = sample index. */
async function load(tel: TelemetryService): Promise<number> {
  for (let i = 0; i < 720; i++) tel.ingest.enqueue('dev-1', { seq: i, ts: T0 + i * 10_000, samples: [{ m: 'v', v: i }] });
  await tel.ingest.flush();
  const key = tel.registry.deviceKey('dev-1');
  if (key === undefined) throw new Error('device not registered');
  return key;
}

const q = (metric: string, from: number, to: number, step: number, agg: 'avg' | 'min' | 'max' | 'last' | 'count' | 'sum') => ({ metric, from, to, step, agg, labels: {} });

t('minute and hour rollups agree with the raw data', async ({ tel }) => {
  const key = await load(tel);
  await tel.maintenance.rollup();
  const series = tel.registry.seriesOf(key);
  const minute = await querySeries(tel.db, key, series, q('v', T0, T0 + 3 * MIN, MIN, 'avg'));
  assert.is(minute.source, '1m');
  assert.equal(minute.series[0]?.points, [[T0, 2.5], [T0 + MIN, 8.5], [T0 + 2 * MIN, 14.5]]);
  const raw = await querySeries(tel.db, key, series, q('v', T0, T0 + 3 * MIN, 30_000, 'max'));
  assert.is(raw.source, 'raw');
  assert.equal(raw.series[0]?.points.map((p) => p[1]), [2, 5, 8, 11, 14, 17]);
  for (const [agg, expected] of [['avg', [179.5, 539.5]], ['min', [0, 360]], ['max', [359, 719]], ['last', [359, 719]], ['count', [360, 360]], ['sum', [64_620, 194_220]]] as const) {
    const hour = await querySeries(tel.db, key, series, q('v', T0, T0 + 2 * HOUR, HOUR, agg));
    assert.is(hour.source, '1h');
    assert.equal(hour.series[0]?.points.map((p) => p[1]), [...expected], agg);
  }
  // 5-minute steps are answered from minute rollups, combined.
  const five = await querySeries(tel.db, key, series, q('v', T0, T0 + 10 * MIN, 5 * MIN, 'count'));
  assert.equal(five.series[0]?.points.map((p) => p[1]), [30, 30]);
});

t('a late batch (a replay after an outage) corrects the rollups it falls into', async ({ tel }) => {
  const key = await load(tel);
  await tel.maintenance.rollup();
  tel.ingest.enqueue('dev-1', { seq: 5000, ts: T0 + 5_000, samples: [{ m: 'v', v: 1000 }], replay: true });
  await tel.ingest.flush();
  await tel.maintenance.rollup();
  const minute = await querySeries(tel.db, key, tel.registry.seriesOf(key), q('v', T0, T0 + MIN, MIN, 'max'));
  assert.equal(minute.series[0]?.points, [[T0, 1000]]);
  const hour = await querySeries(tel.db, key, tel.registry.seriesOf(key), q('v', T0, T0 + HOUR, HOUR, 'count'));
  assert.equal(hour.series[0]?.points, [[T0, 361]]);
});

t('retention: raw rows go after their period, aggregates live longer', async ({ tel, clock, db }) => {
  const key = await load(tel);
  await tel.maintenance.rollup();
  const count = async (table: 'telemetry_samples' | 'telemetry_rollup_1m' | 'telemetry_rollup_1h') =>
    Number((await tel.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('device_key', '=', key).executeTakeFirstOrThrow()).n);
  assert.is(await count('telemetry_samples'), 720);
  clock.t = T0 + 2 * DAY;
  await tel.maintenance.prune();
  assert.is(await count('telemetry_samples'), 0);
  assert.is(await count('telemetry_rollup_1m'), 120);
  clock.t = T0 + 5 * DAY;
  await tel.maintenance.prune();
  assert.is(await count('telemetry_rollup_1m'), 0);
  assert.is(await count('telemetry_rollup_1h'), 2);
  // Data older than raw retention is not stored at all.
  tel.ingest.enqueue('dev-1', { seq: 9000, ts: T0, samples: [{ m: 'v', v: 1 }] });
  await tel.ingest.flush();
  assert.is(await count('telemetry_samples'), 0);
  void db;
});

t('latest values survive a restart (written back to the store)', async ({ tel, db, clock }) => {
  await load(tel);
  await tel.maintenance.writeBack();
  const again = await startTelemetry({ db, transport: new MemoryBroker().connect(), clock, log }, { retention: { rawMs: DAY, minuteMs: DAY, hourMs: DAY }, flushMs: 60_000 });
  const [s] = again.registry.seriesWithMetric('v');
  assert.is(s?.lastValue, 719);
  assert.is(s?.lastTs, T0 + 719 * 10_000);
  await again.close();
});

t.run();
