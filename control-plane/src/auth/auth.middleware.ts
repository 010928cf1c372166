import type { MiddlewareHandler } from 'hono';
import { EdgehookError, type Permission } from '@edgehook/shared';
import type { AppEnv } from '../http/context.js';
import { can, type Authenticator } from './authenticator.js';

/** No credentials -> 401, wrong ones -> 403 (as PiKVM); no WWW-Authenticate challenge. */
export function requireAuth(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async function requireAuthHandler(c, next) {
    const outcome = await auth.authenticate((name) => c.req.header(name));
    if (outcome.kind === 'none') throw new EdgehookError('UNAUTHENTICATED');
    if (outcome.kind === 'invalid') throw new EdgehookError('INVALID_CREDENTIALS');
    c.set('principal', outcome.principal);
    await next();
  };
}

export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async function requirePermissionHandler(c, next) {
    if (!can(c.get('principal'), permission)) {
      throw new EdgehookError('FORBIDDEN', `your role lacks the permission ${permission}`);
    }
    await next();
  };
}
