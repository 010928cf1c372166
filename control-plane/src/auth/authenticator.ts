import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { hasPermission, type Clock, type Permission } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { findUserByAccessToken, findUserByLogin, type UserWithRole } from '../users/users.repository.js';
import { verifyPassword } from './passwords.js';
import { readCredentials, type HeaderGetter } from './credentials.js';

export interface Principal {
  userId: string;
  username: string;
  roleName: string;
  permissions: string[];
  /** The session a token belongs to; null for per-request password auth. */
  sessionId: string | null;
}

export type AuthOutcome = { kind: 'none' } | { kind: 'invalid' } | { kind: 'ok'; principal: Principal };

export function can(principal: Principal, permission: Permission): boolean {
  return hasPermission(principal.permissions, permission);
}

function toPrincipal(user: UserWithRole, sessionId: string | null): Principal {
  return { userId: user.id, username: user.username, roleName: user.roleName, permissions: user.permissions, sessionId };
}

/**
 * Scrypt costs tens of ms, and PiKVM-style clients send the password on every request.
 * Remember successful checks briefly; the key includes the stored hash, so a password change
 * invalidates it at once, and a deleted user fails the lookup before the cache is consulted.
 */
class VerifiedPasswords {
  private readonly entries = new Map<string, number>();
  constructor(private readonly ttlMs: number, private readonly max: number) {}

  private key(user: UserWithRole, password: string): string {
    return createHash('sha256').update(`${user.id}\0${user.passwordHash}\0${password}`).digest('hex');
  }
  has(user: UserWithRole, password: string, now: number): boolean {
    const until = this.entries.get(this.key(user, password));
    return until !== undefined && until > now;
  }
  add(user: UserWithRole, password: string, now: number): void {
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(this.key(user, password), now + this.ttlMs);
  }
}

export interface Authenticator {
  authenticate(header: HeaderGetter): Promise<AuthOutcome>;
  /** Checks a login and password (the login route and per-request password auth). */
  checkPassword(login: string, password: string): Promise<UserWithRole | undefined>;
}

export function createAuthenticator(deps: { db: Kysely<Database>; clock: Clock }): Authenticator {
  const verified = new VerifiedPasswords(60_000, 1000);

  async function checkPassword(login: string, password: string): Promise<UserWithRole | undefined> {
    if (!login || !password) return undefined;
    const user = await findUserByLogin(deps.db, login);
    if (!user) return undefined;
    const now = deps.clock.now();
    if (verified.has(user, password, now)) return user;
    if (!(await verifyPassword(password, user.passwordHash))) return undefined;
    verified.add(user, password, now);
    return user;
  }

  return {
    checkPassword,
    async authenticate(header) {
      const creds = readCredentials(header);
      if (creds.kind === 'none') return { kind: 'none' };
      if (creds.kind === 'password') {
        const user = await checkPassword(creds.login, creds.password);
        return user ? { kind: 'ok', principal: toPrincipal(user, null) } : { kind: 'invalid' };
      }
      // One query on the hot path: token -> live session -> user -> role.
      const found = await findUserByAccessToken(deps.db, creds.token, deps.clock.now());
      return found ? { kind: 'ok', principal: toPrincipal(found.user, found.sessionId) } : { kind: 'invalid' };
    },
  };
}
