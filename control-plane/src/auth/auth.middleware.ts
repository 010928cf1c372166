import type { MiddlewareHandler } from 'hono';
import { EdgehookError, type Permission } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { clientAddress } from '../http/client-address.js';
import { can, type Authenticator } from './authenticator.js';

/** No credentials -> 401, wrong ones -> 403 (as PiKVM); no WWW-Authenticate challenge. */
export function requireAuth(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async function requireAuthHandler(c, next) {
    const outcome = await auth.authenticate((name) => c.req.header(name), { address: clientAddress(c) });
    if (outcome.kind === 'none') throw new EdgehookError('UNAUTHENTICATED');
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS');
    if (outcome.kind === 'refused') throw outcome.error;
    c.set('principal', outcome.principal);
    await next();
  };
}

export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async function requirePermissionHandler(c, next) {
    const principal = c.get('principal');
    if (!can(principal, permission)) {
      if (principal.totpEnrollmentRequired) throw new EdgehookError('FORBIDDEN', 'your role requires two-factor authentication: enroll first (POST /api/auth/totp/enroll, then /api/auth/totp/verify)');
      throw new EdgehookError('FORBIDDEN', `your role lacks the permission ${permission}`);
    }
    await next();
  };
}
