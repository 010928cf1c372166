import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { storeFixtures } from '../helpers/stores.js';
import * as repo from '../../src/jobs/jobs.repository.js';

// The jobs store contract, the same on SQLite and PostgreSQL: claims are conditional UPDATEs, so two
// replicas (or a restarted one) never both run a device, and a lapsed lease is taken over once.
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (jobs store contract skipped for ${s})`);
const T0 = Date.parse('2026-12-02T10:00:00Z');

const job = (id: string, n: number, perBatch: number): repo.NewJob => ({
  id,
  kind: 'action',
  operation: { kind: 'action', spec: { call: 'x', params: [] } },
  selection: { tags: ['lab'] },
  rollout: { pauseMs: 0 },
  createdBy: 'ann',
  now: T0,
  expiresAt: T0 + 3600_000,
  batches: Math.ceil(n / perBatch),
  devices: Array.from({ length: n }, (_, i) => ({ id: `dev-${String(i).padStart(5, '0')}`, name: `d${String(i).padStart(5, '0')}`, batch: Math.floor(i / perBatch) })),
});

for (const store of fixtures) {
  test(`${store.name}: a job and its device rows, counted by status`, async () => {
    const db = await store.open();
    await repo.insertJob(db, job('j1', 1203, 500));
    const row = await repo.findJob(db, 'j1');
    assert.is(row?.state, 'running');
    assert.is(row?.batches, 3);
    const counts = (await repo.countsFor(db, ['j1', 'none'])).get('j1');
    assert.equal(counts, { ...repo.emptyCounts(), total: 1203, queued: 1203 });
    assert.equal((await repo.countsFor(db, ['none'])).get('none'), repo.emptyCounts());
    assert.is((await repo.jobDevices(db, 'j1')).length, 1203);
    assert.is((await repo.startable(db, row!, T0)).length, 500, 'only the released batch');
    assert.equal((await repo.listJobs(db, { limit: 10 })).map((j) => j.id), ['j1']);
    assert.equal((await repo.listJobs(db, { state: 'failed', limit: 10 })).length, 0);
  });

  test(`${store.name}: one claim per device run; only its owner records the end`, async () => {
    const db = await store.open();
    await repo.insertJob(db, job('j2', 2, 2));
    assert.ok(await repo.claimRun(db, 'j2', 'dev-00000', 'cp-a', T0, 10_000));
    assert.not.ok(await repo.claimRun(db, 'j2', 'dev-00000', 'cp-b', T0 + 1, 10_000), 'the other replica loses');
    assert.not.ok(await repo.finishRun(db, 'j2', 'dev-00000', 'cp-b', { status: 'succeeded' }, T0 + 2));
    assert.ok(await repo.finishRun(db, 'j2', 'dev-00000', 'cp-a', { status: 'failed', exitCode: 3, output: 'oops', message: 'exited with code 3' }, T0 + 3));
    assert.not.ok(await repo.claimRun(db, 'j2', 'dev-00000', 'cp-b', T0 + 4, 10_000), 'a finished run is never claimed again');
    const [d] = await repo.jobDevices(db, 'j2');
    assert.equal([d?.status, d?.exit_code, d?.output, d?.owner], ['failed', 3, 'oops', 'cp-a']);
  });

  test(`${store.name}: a lapsed lease is taken over once; renewals keep it`, async () => {
    const db = await store.open();
    await repo.insertJob(db, job('j3', 2, 2));
    assert.ok(await repo.claimRun(db, 'j3', 'dev-00001', 'cp-a', T0, 1000));
    await repo.renewLeases(db, 'cp-a', T0 + 3000);
    assert.not.ok(await repo.claimRun(db, 'j3', 'dev-00001', 'cp-b', T0 + 2000, 1000), 'renewed: still held');
    const j = (await repo.findJob(db, 'j3'))!;
    assert.equal((await repo.startable(db, j, T0 + 4000)).map((r) => r.device_id).sort(), ['dev-00000', 'dev-00001']);
    assert.ok(await repo.claimRun(db, 'j3', 'dev-00001', 'cp-b', T0 + 4000, 1000), 'lapsed: taken over');
    assert.not.ok(await repo.claimRun(db, 'j3', 'dev-00001', 'cp-c', T0 + 4000, 1000), 'once');
    assert.not.ok(await repo.finishRun(db, 'j3', 'dev-00001', 'cp-a', { status: 'succeeded' }, T0 + 4001), 'the old owner no longer records');
    assert.ok(await repo.finishRun(db, 'j3', 'dev-00001', 'cp-b', { status: 'waiting' }, T0 + 4002), 'back to waiting (never reached the device)');
    assert.ok(await repo.claimRun(db, 'j3', 'dev-00001', 'cp-a', T0 + 4003, 1000), 'a waiting device is claimed again');
  });

  test(`${store.name}: batches release once; stop and finish keep the stopped state`, async () => {
    const db = await store.open();
    await repo.insertJob(db, job('j4', 4, 2));
    let j = (await repo.findJob(db, 'j4'))!;
    assert.is(await repo.unsettledCount(db, j), 2);
    await repo.moveRows(db, 'j4', ['queued'], 'waiting', 'offline', T0, ['dev-00000']);
    assert.ok(await repo.claimRun(db, 'j4', 'dev-00001', 'cp-a', T0, 1000));
    assert.ok(await repo.finishRun(db, 'j4', 'dev-00001', 'cp-a', { status: 'succeeded' }, T0));
    assert.is(await repo.unsettledCount(db, j), 0, 'a waiting device does not hold the rollout');
    await repo.markBatchSettled(db, 'j4', 0, T0 + 1);
    await repo.markBatchSettled(db, 'j4', 0, T0 + 99);
    assert.is((await repo.findJob(db, 'j4'))?.batch_settled_at, new Date(T0 + 1).toISOString(), 'the first settle time stays');
    assert.ok(await repo.releaseBatch(db, 'j4', 0));
    assert.not.ok(await repo.releaseBatch(db, 'j4', 0), 'released once');
    j = (await repo.findJob(db, 'j4'))!;
    assert.equal([j.batch, j.batch_settled_at], [1, null]);
    assert.ok(await repo.stopJob(db, 'j4', 'cancelled', 'cancelled by ann'));
    assert.not.ok(await repo.stopJob(db, 'j4', 'aborted', 'late'));
    assert.is(await repo.moveRows(db, 'j4', ['queued', 'waiting'], 'cancelled', 'job cancelled', T0 + 2), 3);
    assert.ok(await repo.finishJob(db, 'j4', 'succeeded', T0 + 3));
    assert.not.ok(await repo.finishJob(db, 'j4', 'succeeded', T0 + 4), 'finished once');
    const done = (await repo.findJob(db, 'j4'))!;
    assert.equal([done.state, done.message], ['cancelled', 'cancelled by ann']);
    assert.equal((await repo.countsFor(db, ['j4'])).get('j4'), { ...repo.emptyCounts(), total: 4, succeeded: 1, cancelled: 3 });
  });
}

test.after(async () => {
  for (const s of fixtures) await s.close();
});

test.run();
