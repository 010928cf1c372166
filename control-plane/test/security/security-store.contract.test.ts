// The security repositories on every store (SQLite and PostgreSQL): login throttle counters with
// their window and doubling lock, single-use TOTP steps and recovery codes, role requireTotp.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { storeFixtures } from '../helpers/stores.js';
import { ensureBuiltinRoles, findRole, insertRole, updateRole } from '../../src/users/roles.repository.js';
import { claimTotpStep, consumeRecoveryCode, findUserById, insertUser, updateTotp } from '../../src/auth/users.repository.js';
import { clearKey, lockedFor, pruneThrottle, recordFailure, type ThrottlePolicy } from '../../src/auth/login-throttle.repository.js';

const { fixtures, skipped } = await storeFixtures();
for (const s of skipped) console.log(`  (security store contract skipped for ${s})`);
const T0 = Date.parse('2026-01-01T00:00:00Z');
const policy: ThrottlePolicy = { threshold: 3, windowMs: 60_000, baseLockMs: 1000, maxLockMs: 8000 };

for (const store of fixtures) {
  test(`${store.name}: throttle counts, doubling lock and window; single-use TOTP steps and recovery codes; role requireTotp`, async () => {
    const db = await store.open();
    try {
      const key = 'account:ann';
      for (let i = 0; i < 2; i++) await recordFailure(db, key, policy, T0 + i);
      assert.is(await lockedFor(db, [key], T0 + 10), 0, 'under the threshold: no lock');
      await recordFailure(db, key, policy, T0 + 10);
      assert.is(await lockedFor(db, [key, 'address:x'], T0 + 10), 1000);
      await recordFailure(db, key, policy, T0 + 2000);
      assert.is(await lockedFor(db, [key], T0 + 2000), 2000, 'doubled');
      for (let i = 0; i < 10; i++) await recordFailure(db, key, policy, T0 + 3000);
      assert.is(await lockedFor(db, [key], T0 + 3000), 8000, 'capped');
      // Past the window the count starts again at 1.
      await recordFailure(db, key, policy, T0 + 120_000);
      assert.is(await lockedFor(db, [key], T0 + 120_000), 0);
      await clearKey(db, key);
      await recordFailure(db, 'address:y', policy, T0);
      await pruneThrottle(db, T0 + 10 * 60_000, policy.windowMs);
      assert.is(await lockedFor(db, ['address:y'], T0), 0);

      // TOTP steps and recovery codes are single-use; roles carry requireTotp.
      await ensureBuiltinRoles(db, T0);
      const role = await insertRole(db, { name: 'strict', permissions: ['devices.read'], requireTotp: true }, T0);
      assert.is(role.requireTotp, true);
      await updateRole(db, role.id, { requireTotp: false });
      assert.is((await findRole(db, { id: role.id }))?.requireTotp, false);
      const admin = await findRole(db, { name: 'admin' });
      const id = await insertUser(db, { username: 'tom', email: null, passwordHash: 'x', roleId: admin!.id }, T0);
      await updateTotp(db, id, { secret: 'ABC', recoveryCodes: ['h1', 'h2'], lastStep: 10 });
      assert.is(await claimTotpStep(db, id, 10), false, 'the same step again');
      assert.is(await claimTotpStep(db, id, 11), true);
      assert.is(await claimTotpStep(db, id, 11), false);
      const user = await findUserById(db, id);
      assert.is(user?.totpSecret, 'ABC');
      assert.is(user?.totpLastStep, 11);
      assert.is(await consumeRecoveryCode(db, user!, 'h1'), true);
      assert.is(await consumeRecoveryCode(db, user!, 'h1'), false, 'the stale view loses the race');
      assert.equal((await findUserById(db, id))?.recoveryCodes, ['h2']);
    } finally {
      await store.close();
    }
  });
}

test.run();
