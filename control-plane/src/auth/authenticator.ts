import type { Kysely } from 'kysely';
import { EdgehookError, hasPermission, type Clock, type Permission } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { findUserByAccessToken, type UserWithRole } from './users.repository.js';
import { readCredentials, type HeaderGetter } from './credentials.js';
import { createLoginGuard, type LoginAttempt, type LoginGuard } from './login-guard.js';
import type { Principal } from '../http/context.js';

export type { Principal };

export type AuthOutcome =
  | { kind: 'none' }
  | { kind: 'invalid' }
  /** Password auth refused for another reason than a wrong password: throttled (429) or a missing second factor (401). */
  | { kind: 'refused'; error: EdgehookError }
  | { kind: 'ok'; principal: Principal };

export function can(principal: Principal, permission: Permission): boolean {
  return hasPermission(principal.permissions, permission);
}

export function toPrincipal(user: UserWithRole, sessionId: string | null): Principal {
  const enrollFirst = user.requireTotp && user.totpSecret === null;
  return {
    userId: user.id,
    username: user.username,
    roleId: user.roleId,
    roleName: user.roleName,
    permissions: enrollFirst ? [] : user.permissions,
    sessionId,
    ...(enrollFirst ? { totpEnrollmentRequired: true } : {}),
  };
}

/** Where a request came from, for per-address throttling. */
export interface RequestOrigin {
  address: string;
}

export interface Authenticator {
  authenticate(header: HeaderGetter, origin: RequestOrigin): Promise<AuthOutcome>;
  /** The login paths' one door: throttled, constant-time for unknown users, second factor. Throws EdgehookError. */
  login(attempt: LoginAttempt): Promise<UserWithRole>;
  readonly guard: LoginGuard;
}

export function createAuthenticator(deps: { db: Kysely<Database>; clock: Clock }): Authenticator {
  const guard = createLoginGuard(deps);
  return {
    guard,
    login: (attempt) => guard.login(attempt),
    async authenticate(header, origin) {
      const creds = readCredentials(header);
      if (creds.kind === 'none') return { kind: 'none' };
      if (creds.kind === 'password') {
        // HTTP Basic and X-KVMD-* guess as well as the login route does: the same throttle applies.
        try {
          const user = await guard.login({ login: creds.login, password: creds.password, address: origin.address, codeMayBeAppended: true });
          return { kind: 'ok', principal: toPrincipal(user, null) };
        } catch (err) {
          if (err instanceof EdgehookError && err.code === 'INVALID_CREDENTIALS') return { kind: 'invalid' };
          if (err instanceof EdgehookError && (err.code === 'TOO_MANY_REQUESTS' || err.code === 'TOTP_REQUIRED' || err.code === 'BAD_REQUEST')) return { kind: 'refused', error: err };
          throw err;
        }
      }
      // One query on the hot path: token -> live session -> user -> role.
      const found = await findUserByAccessToken(deps.db, creds.token, deps.clock.now());
      return found ? { kind: 'ok', principal: toPrincipal(found.user, found.sessionId) } : { kind: 'invalid' };
    },
  };
}
