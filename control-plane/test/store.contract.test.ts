import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Kysely } from 'kysely';
import type { Database } from '../src/db/database.js';
import { hashSecret } from '../src/db/ids.js';
import { ensureBuiltinRoles, findRole, insertRole, listRoles } from '../src/users/roles.repository.js';
import { countUsers, deleteUser, findUserByAccessToken, findUserByLogin, insertUser } from '../src/auth/users.repository.js';
import { createSession, revokeSession, rotateRefreshToken } from '../src/auth/sessions.repository.js';
import { consumeEnrollmentToken, createEnrollmentToken } from '../src/devices/enrollment.repository.js';
import { applyDescription, deleteDevice, findDeviceByRef, insertDevice, listDevices, markAllOffline, markOffline, markOnline, toDeviceView } from '../src/devices/devices.repository.js';
import { storeFixtures } from './helpers/stores.js';
import { claimReconcile, getDeclaredSet, putDeclaredSet, recordApply } from '../src/containers/servers.repository.js';
import { insertAuditBatch, pruneAudit, queryAudit } from '../src/audit/audit.repository.js';
import { AuditQuery } from '@edgehook/shared';
import { deleteExpiredTokens, findToken, insertBackendDevice, issueToken } from '../src/wsi/wsi-tokens.repository.js';
import { DeviceTransportKinds } from '../src/devices/device-transport.js';

// One contract, every store: the same repositories must behave the same on SQLite and Postgres.
const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (store contract skipped for ${s})`);

const findAccessToken = async (db: Kysely<Database>, token: string, now: number) => {
  const found = await findUserByAccessToken(db, token, now);
  return found && { sessionId: found.sessionId, userId: found.user.id };
};
const ttl = { accessTtlMs: 60_000, refreshTtlMs: 3_600_000 };
const description = { hostname: 'pi', profile: 'simulated', agentVersion: '1', hardware: { arch: 'arm64', platform: 'linux', cpus: 4, memTotalBytes: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');

async function withUser(db: Kysely<Database>): Promise<string> {
  await ensureBuiltinRoles(db, T0);
  const role = await findRole(db, { name: 'admin' });
  return insertUser(db, { username: 'ann', email: 'Ann@Example.com', passwordHash: 'x', roleId: role!.id }, T0);
}

for (const store of fixtures) {
  test(`${store.name}: built-in roles once, users by username or email`, async () => {
    const db = await store.open();
    await withUser(db);
    await ensureBuiltinRoles(db, T0);
    assert.equal((await listRoles(db)).map((r) => r.name), ['admin', 'operator', 'viewer']);
    assert.equal((await findRole(db, { name: 'admin' }))!.permissions, ['*']);
    await insertRole(db, { name: 'custom', permissions: ['devices.read'] }, T0);
    assert.is(await countUsers(db), 1);
    assert.is((await findUserByLogin(db, 'ann'))!.username, 'ann');
    assert.is((await findUserByLogin(db, 'ann@example.com'))!.email, 'ann@example.com');
    assert.is(await findUserByLogin(db, 'nobody'), undefined);
    let duplicate = false;
    await insertUser(db, { username: 'ann', email: null, passwordHash: 'x', roleId: (await findRole(db, { name: 'viewer' }))!.id }, T0).catch(() => {
      duplicate = true;
    });
    assert.ok(duplicate, 'usernames are unique');
  });

  test(`${store.name}: sessions rotate, expire, and a reused refresh token revokes the session`, async () => {
    const db = await store.open();
    const userId = await withUser(db);
    const first = await createSession(db, userId, T0, ttl);
    assert.equal(await findAccessToken(db, first.accessToken, T0 + 1), { sessionId: first.sessionId, userId });
    assert.is(await findAccessToken(db, first.accessToken, T0 + ttl.accessTtlMs + 1), undefined, 'expired');
    const rotated = await rotateRefreshToken(db, first.refreshToken, T0 + 10, ttl);
    assert.is(rotated.kind, 'rotated');
    assert.is(await findAccessToken(db, first.accessToken, T0 + 11), undefined, 'old access token gone');
    const reuse = await rotateRefreshToken(db, first.refreshToken, T0 + 20, ttl);
    assert.is(reuse.kind, 'reused');
    if (rotated.kind === 'rotated') assert.is(await findAccessToken(db, rotated.tokens.accessToken, T0 + 21), undefined, 'session revoked');
    const other = await createSession(db, userId, T0, ttl);
    await revokeSession(db, other.sessionId, T0 + 1);
    assert.is((await rotateRefreshToken(db, other.refreshToken, T0 + 2, ttl)).kind, 'invalid');
  });

  test(`${store.name}: enrollment tokens never exceed maxUses, even under concurrent use`, async () => {
    const db = await store.open();
    const { token } = await createEnrollmentToken(db, { expiresIn: 60, maxUses: 3, tags: ['a'] }, null, T0);
    const results = await Promise.all(Array.from({ length: 10 }, () => consumeEnrollmentToken(db, token, T0 + 1)));
    assert.is(results.filter(Boolean).length, 3);
    const { token: expired } = await createEnrollmentToken(db, { expiresIn: 1, maxUses: 5, tags: [] }, null, T0);
    assert.is(await consumeEnrollmentToken(db, expired, T0 + 1001), undefined);
    assert.is(await consumeEnrollmentToken(db, 'ehe_unknown', T0), undefined);
  });

  test(`${store.name}: devices, presence gated by session, and removal`, async () => {
    const db = await store.open();
    await insertDevice(db, { id: 'd1', name: 'pi-1', secretHash: hashSecret('s'), description, tags: ['lab'], enrollmentTokenId: 't' }, T0);
    await insertDevice(db, { id: 'd2', name: 'pi-2', secretHash: hashSecret('s'), description, tags: [], enrollmentTokenId: 't' }, T0);
    assert.is((await findDeviceByRef(db, 'pi-1'))!.id, 'd1');
    assert.is((await findDeviceByRef(db, 'd2'))!.name, 'pi-2');
    assert.ok(await markOnline(db, 'd1', 'session-b', T0 + 5));
    // A late will from the previous session must not mark the device offline.
    await markOffline(db, 'd1', 'session-a', T0 + 6);
    assert.ok(toDeviceView((await findDeviceByRef(db, 'd1'))!).online);
    assert.ok(await markOffline(db, 'd1', 'session-b', T0 + 7));
    assert.not.ok(toDeviceView((await findDeviceByRef(db, 'd1'))!).online);
    await markOnline(db, 'd2', null, T0 + 8);
    assert.equal((await listDevices(db, { online: true })).map((d) => d.id), ['d2']);
    assert.equal((await listDevices(db, { tag: 'lab' })).map((d) => d.id), ['d1']);
    assert.is(await markAllOffline(db, T0 + 9), 1);
    assert.ok(await applyDescription(db, 'd2', { ...description, agentVersion: '2' }, T0 + 10));
    assert.is(toDeviceView((await findDeviceByRef(db, 'd2'))!).agentVersion, '2');
    assert.ok(await deleteDevice(db, 'd1'));
    assert.not.ok(await deleteDevice(db, 'd1'));
    assert.not.ok(await markOnline(db, 'd1', null, T0 + 11), 'a deleted device cannot come back online');
  });
}

for (const store of fixtures) {
  test(`${store.name}: Quix WSI backends: a 'wsi' device, hashed tokens that expire and go with their device or account`, async () => {
    const db = await store.open();
    const userId = await withUser(db);
    const row = await insertBackendDevice(db, { username: 'ann', now: T0 });
    assert.equal([row.transport, toDeviceView(row).transport, toDeviceView(row).tags], ['wsi', 'wsi', ['wsi']]);
    assert.match(row.name, /^wsi-ann-[0-9a-f]{6}$/);
    await insertDevice(db, { id: 'agent-1', name: 'agent-1', secretHash: 'h', description, tags: [], enrollmentTokenId: 'e' }, T0);
    assert.is((await findDeviceByRef(db, 'agent-1'))!.transport, 'mqtt', 'existing and enrolled devices default to mqtt');
    const kinds = new DeviceTransportKinds(db);
    await kinds.load();
    assert.equal([kinds.peek(row.id), kinds.peek('agent-1'), await kinds.kindOf('agent-1')], ['wsi', undefined, 'mqtt']);
    const issued = await issueToken(db, { deviceId: row.id, userId, now: T0, ttlMs: 1000 });
    const stored = await db.selectFrom('wsi_tokens').select('token_hash').execute();
    assert.equal(stored.map((r) => r.token_hash), [hashSecret(issued.token)], 'only the hash is kept');
    assert.equal(await findToken(db, issued.token), { tokenId: issued.tokenId, deviceId: row.id, userId, expiresAt: T0 + 1000 });
    assert.is(await findToken(db, 'ehwsi_other'), undefined);
    await deleteExpiredTokens(db, T0 + 500);
    assert.ok(await findToken(db, issued.token), 'not expired yet');
    await deleteExpiredTokens(db, T0 + 1001);
    assert.is(await findToken(db, issued.token), undefined, 'expired tokens are pruned');
    const second = await issueToken(db, { deviceId: row.id, userId, now: T0, ttlMs: 1000 });
    assert.ok(await deleteDevice(db, row.id));
    assert.is(await findToken(db, second.token), undefined, 'gone with the device');
    const other = await insertBackendDevice(db, { username: 'ann', now: T0 });
    const third = await issueToken(db, { deviceId: other.id, userId, now: T0, ttlMs: 1000 });
    await deleteUser(db, userId);
    assert.is(await findToken(db, third.token), undefined, 'gone with the account');
  });

  test(`${store.name}: declared servers: revisions grow, stale applies are not recorded, one replica claims a connection`, async () => {
    const db = await store.open();
    await insertDevice(db, { id: 'ds1', name: 'srv-1', secretHash: hashSecret('s'), description, tags: [], enrollmentTokenId: 't' }, T0);
    assert.is((await getDeclaredSet(db, 'ds1')).revision, 0);
    const server = { name: 'web', image: 'busybox', env: {}, ports: [], volumes: [], dataMount: '/data', restartPolicy: 'no' as const, labels: {}, tty: false, stopTimeoutSec: 10, desired: 'running' as const };
    assert.is(await putDeclaredSet(db, 'ds1', [server], 'ann', T0), 1);
    assert.is(await putDeclaredSet(db, 'ds1', [server, { ...server, name: 'db' }], 'ann', T0 + 1), 2);
    await recordApply(db, 'ds1', 2, { ok: true, steps: [] }, T0 + 2);
    await recordApply(db, 'ds1', 1, { ok: false, steps: [] }, T0 + 3);
    const set = await getDeclaredSet(db, 'ds1');
    assert.equal(set.servers.map((x) => x.name), ['web', 'db']);
    assert.is(set.lastApply?.revision, 2);
    assert.is(set.lastApply?.result.ok, true);
    // Two replicas hear the same connection: one wins; the next connection is claimed anew.
    assert.is(await claimReconcile(db, 'ds1', 'session-a'), true);
    assert.is(await claimReconcile(db, 'ds1', 'session-a'), false);
    assert.is(await claimReconcile(db, 'ds1', 'session-b'), true);
    assert.is(await claimReconcile(db, 'ds1', null), true);
    // Deleting the device takes its declared set with it.
    await deleteDevice(db, 'ds1');
    assert.is((await getDeclaredSet(db, 'ds1')).revision, 0);
  });
}

for (const store of fixtures) {
  test(`${store.name}: audit log: filters, newest-first pages that never skip or repeat, retention`, async () => {
    const db = await store.open();
    const base = { actorId: null, source: '10.0.0.1', deviceId: null, target: null, status: 200, detail: null, replica: 'cp-a' };
    // Five entries at the same millisecond (page boundaries inside equal times), then more later.
    // Written as the audit writer writes them: several rows, each with its own time, in one statement.
    const same = Array.from({ length: 5 }, () => ({ entry: { ...base, actor: 'ann', action: 'hardware.atx.power', deviceId: 'dev-1', result: 'ok' as const }, at: T0 }));
    await insertAuditBatch(db, same);
    await insertAuditBatch(db, [
      { entry: { ...base, actor: 'bob', action: 'auth.login.failed', result: 'denied', status: 401 }, at: T0 + 1000 },
      { entry: { ...base, actor: 'ann', action: 'hardware.gpio.switch', deviceId: 'dev-2', target: 'relay1', result: 'error', status: 502 }, at: T0 + 2000 },
    ]);
    const q = (over: Record<string, unknown>) => queryAudit(db, AuditQuery.parse(over));
    const all = await q({});
    assert.is(all.entries.length, 7);
    assert.equal(all.entries.slice(0, 2).map((e) => e.action), ['hardware.gpio.switch', 'auth.login.failed'], 'newest first');
    assert.is(all.entries[0]?.target, 'relay1');
    assert.is(all.entries[0]?.status, 502);
    assert.is(all.entries[0]?.replica, 'cp-a');
    assert.is((await q({ actor: 'bob' })).entries[0]?.result, 'denied');
    assert.is((await q({ action: 'hardware.*' })).entries.length, 6);
    assert.is((await q({ device: 'dev-1' })).entries.length, 5);
    assert.is((await q({ result: 'error' })).entries.length, 1);
    assert.is((await q({ since: new Date(T0 + 500).toISOString() })).entries.length, 2);
    assert.is((await q({ until: new Date(T0 + 500).toISOString() })).entries.length, 5);
    // Pages of 2: every id once, in the same order as the single query.
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await q({ limit: 2, ...(before ? { before } : {}) });
      seen.push(...page.entries.map((e) => e.id));
      if (!page.next) break;
      before = page.next;
    }
    assert.equal(seen, all.entries.map((e) => e.id));
    assert.is(await pruneAudit(db, T0 + 1500, 1000), 5, 'entries older than the retention go');
    assert.is((await q({})).entries.length, 2);
  });
}

test.after(async () => {
  for (const s of fixtures) await s.close();
});

test.run();
