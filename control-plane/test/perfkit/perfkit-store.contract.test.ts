import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Kysely } from 'kysely';
import { EdgehookError } from '@edgehook/shared';
import type { Database } from '../../src/db/database.js';
import { deleteDevice, insertDevice } from '../../src/devices/devices.repository.js';
import { headSeq, listDesired, listSchemas, patchesSince, saveSchema, setDesired } from '../../src/perfkit/perfkit.repository.js';
import { storeFixtures } from '../helpers/stores.js';

// One contract over SQLite and PostgreSQL: desired values, versions, the patch log, declarations.
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (perfkit store contract skipped for ${s})`);
const T0 = Date.parse('2026-12-02T00:00:00Z');

const description = { hostname: 'pi', profile: 'simulated', agentVersion: '1', hardware: { arch: 'arm64', platform: 'linux', cpus: 4, memTotalBytes: 1 } };
async function device(db: Kysely<Database>, name: string): Promise<string> {
  await insertDevice(db, { id: `id-${name}`, name, secretHash: 'x', description, tags: [], enrollmentTokenId: 't' }, T0);
  return `id-${name}`;
}

const set = (db: Kysely<Database>, deviceId: string, key: string, value: string | number | boolean, expectedVersion?: number) =>
  setDesired(db, { deviceId, scope: 'demo', key, value, expectedVersion, by: 'ann', now: T0 });

for (const store of fixtures) {
  test(`${store.name}: versions per entry, seq per device, stale versions refused`, async () => {
    const db = await store.open();
    const a = await device(db, 'a');
    const b = await device(db, 'b');
    assert.equal(await set(db, a, 'r.fps', 60, 0), { version: 1, seq: 1 });
    assert.equal(await set(db, a, 'r.mode', 'pretty'), { version: 1, seq: 2 });
    assert.equal(await set(db, b, 'r.fps', 10), { version: 1, seq: 1 }, 'each device has its own sequence');
    assert.equal(await set(db, a, 'r.fps', 90, 1), { version: 2, seq: 3 });
    for (const stale of [0, 1, 5]) {
      try {
        await set(db, a, 'r.fps', 1, stale);
        assert.unreachable('a stale version was accepted');
      } catch (err) {
        assert.instance(err, EdgehookError);
        assert.is((err as EdgehookError).code, 'CONFLICT');
      }
    }
    try {
      await set(db, a, 'r.new', 1, 1);
      assert.unreachable('version 1 of an entry never set');
    } catch (err) {
      assert.is((err as EdgehookError).code, 'CONFLICT');
    }
    assert.is(await headSeq(db, a), 3, 'refused edits leave no patch');
    assert.equal(await listDesired(db, a), { seq: 3, entries: [{ scope: 'demo', key: 'r.fps', value: 90, version: 2 }, { scope: 'demo', key: 'r.mode', value: 'pretty', version: 1 }] });
  });

  test(`${store.name}: patches since a seq are exact and ordered, paged with more`, async () => {
    const db = await store.open();
    const a = await device(db, 'a');
    const values: Array<[string, string | number | boolean]> = [['r.a', 1], ['r.b', true], ['r.a', 2.5], ['r.c', 'x'], ['r.b', false]];
    for (const [k, v] of values) await set(db, a, k, v);
    const all = await patchesSince(db, a, 0, 100);
    assert.equal(all.patches.map((p) => [p.seq, p.key, p.value, p.version, p.by]), [[1, 'r.a', 1, 1, 'ann'], [2, 'r.b', true, 1, 'ann'], [3, 'r.a', 2.5, 2, 'ann'], [4, 'r.c', 'x', 1, 'ann'], [5, 'r.b', false, 2, 'ann']]);
    assert.is(all.more, false);
    assert.equal((await patchesSince(db, a, 3, 100)).patches.map((p) => p.seq), [4, 5]);
    const page = await patchesSince(db, a, 0, 2);
    assert.equal([page.patches.map((p) => p.seq), page.more], [[1, 2], true]);
    assert.equal((await patchesSince(db, a, 5, 100)).patches, []);
  });

  test(`${store.name}: concurrent edits of one entry: one wins, the other gets a conflict`, async () => {
    const db = await store.open();
    const a = await device(db, 'a');
    await set(db, a, 'r.fps', 1);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => set(db, a, 'r.fps', 10 + i, 1)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.is(won.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) if (r.status === 'rejected') assert.is((r.reason as EdgehookError).code, 'CONFLICT');
    const seqs = (await patchesSince(db, a, 0, 100)).patches.map((p) => p.seq);
    assert.equal(seqs, [1, 2]);
  });

  test(`${store.name}: declarations are kept per scope and go with a deleted device`, async () => {
    const db = await store.open();
    const a = await device(db, 'a');
    const classes = [{ name: 'r', description: '', entries: [{ name: 'fps', type: 'int' as const, default: 30, description: '' }] }];
    await saveSchema(db, a, 'demo', classes, T0);
    await saveSchema(db, a, 'demo', [{ ...classes[0]!, description: 'changed' }], T0 + 1);
    await saveSchema(db, a, 'agent', classes, T0);
    const got = await listSchemas(db, a);
    assert.equal([...got.keys()], ['agent', 'demo']);
    assert.is(got.get('demo')?.[0]?.description, 'changed');
    await set(db, a, 'r.fps', 5);
    await deleteDevice(db, a);
    assert.equal((await listSchemas(db, a)).size, 0);
    assert.equal(await listDesired(db, a), { seq: 0, entries: [] });
  });
}

test.after(async () => {
  for (const s of fixtures) await s.close();
});
test.run();
