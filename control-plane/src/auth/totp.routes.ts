import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock } from '@edgehook/shared';
import { CoreRoutes as R } from '@edgehook/shared/rest';
import type { Database } from '../db/database.js';
import type { AppEnv } from '../http/context.js';
import { clientAddress } from '../http/client-address.js';
import { routeMounter } from '../http/rest-route.js';
import { claimTotpStep, consumeRecoveryCode, findPendingTotp, findUserById, updateTotp } from './users.repository.js';
import type { Authenticator } from './authenticator.js';
import { requireAuth } from './auth.middleware.js';
import { hashRecoveryCode } from './login-guard.js';
import type { RevocationSink } from './revocations.js';
import { newRecoveryCodes, newTotpSecret, otpauthUri, verifyTotp } from './totp.js';

const ISSUER = 'Edgehook';

/**
 * `/api/auth/totp`: the caller's own second factor, as PiKVM offers it. `enroll` hands out a
 * secret (kept pending), `verify` with a first code turns it on and returns ten recovery codes
 * (shown once, stored hashed), `DELETE` turns it off with a code, a recovery code or the password.
 */
export function totpRoutes(deps: { db: Kysely<Database>; clock: Clock; auth: Authenticator; revocations: RevocationSink }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(requireAuth(deps.auth));
  const mount = routeMounter(app, '/api/auth/totp', deps.db);

  const me = async (id: string) => {
    const user = await findUserById(deps.db, id);
    if (!user) throw new EdgehookError('INVALID_CREDENTIALS');
    return user;
  };

  mount(R.totpEnroll, async ({ c }) => {
    const user = await me(c.get('principal').userId);
    if (user.totpSecret !== null) throw new EdgehookError('CONFLICT', 'two-factor authentication is already on; turn it off first to enroll a new authenticator');
    const secret = newTotpSecret();
    await updateTotp(deps.db, user.id, { pending: secret });
    return { secret, uri: otpauthUri(ISSUER, user.username, secret) };
  });

  mount(R.totpVerify, async ({ c, body: { code } }) => {
    const user = await me(c.get('principal').userId);
    const pending = await findPendingTotp(deps.db, user.id);
    if (!pending) throw new EdgehookError('CONFLICT', 'no enrollment in progress: POST /api/auth/totp/enroll first');
    const step = verifyTotp(pending, code, deps.clock.now());
    if (step === undefined) throw new EdgehookError('BAD_REQUEST', 'the code does not match; check the authenticator app and the device clock');
    const recoveryCodes = newRecoveryCodes();
    await updateTotp(deps.db, user.id, { secret: pending, pending: null, lastStep: step, recoveryCodes: recoveryCodes.map(hashRecoveryCode) });
    // The remembered principal still says "enroll first": the next request reads the new state.
    deps.auth.forget({ type: 'user', userId: user.id, reason: 'second factor enrolled' });
    return { ok: true as const, recoveryCodes };
  });

  mount(R.totpDisable, async ({ c, body: input }) => {
    const user = await me(c.get('principal').userId);
    if (user.totpSecret === null) throw new EdgehookError('CONFLICT', 'two-factor authentication is not on');
    let ok = false;
    if (input.code !== undefined) {
      if (/^\d{6}$/.test(input.code)) {
        const step = verifyTotp(user.totpSecret, input.code, deps.clock.now(), user.totpLastStep);
        ok = step !== undefined && (await claimTotpStep(deps.db, user.id, step));
      } else ok = await consumeRecoveryCode(deps.db, user, hashRecoveryCode(input.code));
    } else if (input.password !== undefined) {
      ok = await deps.auth.guard.checkCurrentPassword(user, input.password, clientAddress(c));
    }
    if (!ok) throw new EdgehookError('INVALID_CREDENTIALS', 'send a current code, a recovery code or your password to turn two-factor authentication off');
    await updateTotp(deps.db, user.id, { secret: null, pending: null, recoveryCodes: null, lastStep: null });
    deps.auth.forget({ type: 'user', userId: user.id, reason: 'second factor turned off' });
    return { ok: true as const };
  });

  return app;
}
