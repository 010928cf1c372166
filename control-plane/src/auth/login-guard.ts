import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { EdgehookError, type Clock } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { claimTotpStep, consumeRecoveryCode, findUserByLogin, type UserWithRole } from './users.repository.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { ACCOUNT_POLICY, ADDRESS_POLICY, clearKey, lockedFor, recordFailure } from './login-throttle.repository.js';
import { verifyTotp } from './totp.js';

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

export interface LoginAttempt {
  login: string;
  password: string;
  /** The client's address: failures count per address as well as per account. */
  address: string;
  /** A second factor sent apart from the password (JSON `totp`): a TOTP code or a recovery code. */
  totp?: string | undefined;
  /** kvmd's way: the 6-digit code appended to the password (Basic, X-KVMD-*, PiKVM form login). */
  codeMayBeAppended?: boolean;
}

export interface LoginGuard {
  /** Returns the user or throws TOO_MANY_REQUESTS (details.retryAfterSec), INVALID_CREDENTIALS or TOTP_REQUIRED. */
  login(attempt: LoginAttempt): Promise<UserWithRole>;
  /** Checks a password with the same throttle, for re-authentication (changing one's password). */
  checkCurrentPassword(user: UserWithRole, password: string, address: string): Promise<boolean>;
}

export const accountKey = (login: string): string => `account:${login.trim().toLowerCase()}`;
export const addressKey = (address: string): string => `address:${address}`;

export const hashRecoveryCode = (code: string): string => createHash('sha256').update(code.trim().toLowerCase()).digest('hex');

/**
 * The one door every password login goes through (the login route, HTTP Basic, X-KVMD-*, the
 * PiKVM facade; other login paths call `login` too). Counters live in the store so replicas share
 * them; an unknown user costs the same scrypt as a known one; a locked key answers 429 before any
 * password is checked.
 */
export function createLoginGuard(deps: { db: Kysely<Database>; clock: Clock }): LoginGuard {
  const verified = new VerifiedPasswords(60_000, 1000);
  // Hashed once at start, so an unknown user's check costs what a real one does.
  const dummyHash = hashPassword('edgehook-dummy-password-for-unknown-users');

  const throttle = async (keys: string[]): Promise<void> => {
    const waitMs = await lockedFor(deps.db, keys, deps.clock.now());
    if (waitMs > 0) {
      const retryAfterSec = Math.max(1, Math.ceil(waitMs / 1000));
      throw new EdgehookError('TOO_MANY_REQUESTS', `too many failed logins; try again in ${retryAfterSec} s`, { retryAfterSec });
    }
  };
  const fail = async (login: string, address: string, message: string): Promise<never> => {
    const now = deps.clock.now();
    await recordFailure(deps.db, accountKey(login), ACCOUNT_POLICY, now);
    await recordFailure(deps.db, addressKey(address), ADDRESS_POLICY, now);
    throw new EdgehookError('INVALID_CREDENTIALS', message);
  };
  const passwordMatches = async (user: UserWithRole, password: string): Promise<boolean> => {
    const now = deps.clock.now();
    // The cache is for per-request password clients; a second factor never rides on it.
    const cacheable = user.totpSecret === null;
    if (cacheable && verified.has(user, password, now)) return true;
    if (!(await verifyPassword(password, user.passwordHash))) return false;
    if (cacheable) verified.add(user, password, now);
    return true;
  };
  const secondFactor = async (user: UserWithRole, code: string): Promise<boolean> => {
    if (user.totpSecret === null) return true;
    if (/^\d{6}$/.test(code)) {
      const step = verifyTotp(user.totpSecret, code, deps.clock.now(), user.totpLastStep);
      return step !== undefined && (await claimTotpStep(deps.db, user.id, step));
    }
    return consumeRecoveryCode(deps.db, user, hashRecoveryCode(code));
  };

  return {
    async login(attempt) {
      const { login, address } = attempt;
      if (!login || !attempt.password) throw new EdgehookError('INVALID_CREDENTIALS', 'wrong username or password');
      await throttle([accountKey(login), addressKey(address)]);
      const user = await findUserByLogin(deps.db, login);
      if (!user) {
        await verifyPassword(attempt.password, await dummyHash);
        return fail(login, address, 'wrong username or password');
      }
      let password = attempt.password;
      let code = attempt.totp;
      if (user.totpSecret !== null && code === undefined && attempt.codeMayBeAppended) {
        const m = /^(.+)(\d{6})$/.exec(password);
        if (m?.[1] && m[2] && (await passwordMatches(user, m[1]))) {
          password = m[1];
          code = m[2];
        }
      }
      if (password === attempt.password) {
        if (!(await passwordMatches(user, password))) return fail(login, address, 'wrong username or password');
      }
      if (user.totpSecret !== null) {
        if (code === undefined) {
          throw new EdgehookError(
            'TOTP_REQUIRED',
            attempt.codeMayBeAppended
              ? 'this account has two-factor authentication: append the 6-digit code from your authenticator app to the password'
              : 'this account has two-factor authentication: send the 6-digit code from your authenticator app (or a recovery code) as "totp"',
            { missing: 'totp' },
          );
        }
        if (!(await secondFactor(user, code))) return fail(login, address, 'wrong or already used one-time code');
      }
      await clearKey(deps.db, accountKey(login));
      return user;
    },
    async checkCurrentPassword(user, password, address) {
      await throttle([accountKey(user.username), addressKey(address)]);
      if (await passwordMatches(user, password)) return true;
      await fail(user.username, address, 'the current password is wrong').catch(() => undefined);
      return false;
    },
  };
}
