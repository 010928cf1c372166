import type { Kysely } from 'kysely';
import { EdgehookError, hasPermission, type Clock, type Permission, type Revocation } from '@edgehook/shared';
import { hashSecret } from '../db/ids.js';
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
  /** Drops the remembered token lookups a revocation covers (every replica calls it from the bus). */
  forget(r: Revocation): void;
}

/**
 * How long a token's lookup is remembered. Revocations announced on the bus drop entries at once on
 * every replica; this bound covers changes made without an announcement (the offline `edgehook admin`
 * commands write the store directly), so they too take effect within the 1 s the security rules allow.
 */
export const TOKEN_CACHE_MS = 500;
const TOKEN_CACHE_MAX = 10_000;

interface CachedToken {
  principal: Principal;
  until: number;
}

export function createAuthenticator(deps: { db: Kysely<Database>; clock: Clock; tokenCacheMs?: number }): Authenticator {
  const guard = createLoginGuard(deps);
  const cacheMs = deps.tokenCacheMs ?? TOKEN_CACHE_MS;
  // Keyed by the token's hash (what the store keeps), never the token itself.
  const tokens = new Map<string, CachedToken>();
  const remember = (hash: string, principal: Principal, expiresAt: string): void => {
    if (tokens.size >= TOKEN_CACHE_MAX) {
      const oldest = tokens.keys().next();
      if (!oldest.done) tokens.delete(oldest.value);
    }
    tokens.set(hash, { principal, until: Math.min(deps.clock.now() + cacheMs, Date.parse(expiresAt)) });
  };
  // Each request gets its own copy: live sockets update a principal's permissions in place.
  const copy = (p: Principal): Principal => ({ ...p, permissions: [...p.permissions] });
  return {
    guard,
    login: (attempt) => guard.login(attempt),
    forget(r) {
      if (r.type === 'device') return;
      for (const [hash, entry] of tokens) {
        const p = entry.principal;
        if ((r.type === 'session' && p.sessionId === r.sessionId) || (r.type === 'user' && p.userId === r.userId) || (r.type === 'role' && p.roleId === r.roleId)) tokens.delete(hash);
      }
    },
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
      // One query on the hot path (token -> live session -> user -> role), remembered for cacheMs.
      const hash = hashSecret(creds.token);
      const now = deps.clock.now();
      const cached = tokens.get(hash);
      if (cached && cached.until > now) return { kind: 'ok', principal: copy(cached.principal) };
      if (cached) tokens.delete(hash);
      const found = await findUserByAccessToken(deps.db, creds.token, now);
      if (!found) return { kind: 'invalid' };
      const principal = toPrincipal(found.user, found.sessionId);
      if (cacheMs > 0) remember(hash, copy(principal), found.expiresAt);
      return { kind: 'ok', principal };
    },
  };
}
