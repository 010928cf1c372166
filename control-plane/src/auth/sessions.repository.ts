import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { hashSecret, isoTime, newId, newSecret } from '../db/ids.js';

export interface IssuedTokens {
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
}

export interface TokenLifetimes {
  accessTtlMs: number;
  refreshTtlMs: number;
}

async function issuePair(db: Kysely<Database>, sessionId: string, now: number, ttl: TokenLifetimes, accessToken = newSecret('eha')): Promise<IssuedTokens> {
  const refreshToken = newSecret('ehr');
  const accessExpiresAt = now + ttl.accessTtlMs;
  await db
    .insertInto('auth_tokens')
    .values([
      { hash: hashSecret(accessToken), session_id: sessionId, kind: 'access', expires_at: isoTime(accessExpiresAt), used_at: null },
      { hash: hashSecret(refreshToken), session_id: sessionId, kind: 'refresh', expires_at: isoTime(now + ttl.refreshTtlMs), used_at: null },
    ])
    .execute();
  return { sessionId, accessToken, refreshToken, accessExpiresAt };
}

/** `accessToken`: a caller-made token (the PiKVM facade issues kvmd-like 64-hex ones); a fresh `eha_` secret otherwise. */
export async function createSession(db: Kysely<Database>, userId: string, now: number, ttl: TokenLifetimes, accessToken?: string): Promise<IssuedTokens> {
  const sessionId = newId();
  await db
    .insertInto('sessions')
    .values({ id: sessionId, user_id: userId, created_at: isoTime(now), expires_at: isoTime(now + ttl.refreshTtlMs), revoked_at: null })
    .execute();
  return issuePair(db, sessionId, now, ttl, accessToken);
}

export type RefreshOutcome =
  | { kind: 'rotated'; tokens: IssuedTokens; userId: string }
  | { kind: 'invalid' }
  /** A refresh token that was already exchanged came back: the session is revoked as a precaution. */
  | { kind: 'reused' };

/**
 * Exchanges a refresh token for a new pair (rotation). The conditional update makes the exchange
 * single-use even when two replicas race on the same token.
 */
export async function rotateRefreshToken(db: Kysely<Database>, token: string, now: number, ttl: TokenLifetimes): Promise<RefreshOutcome> {
  const hash = hashSecret(token);
  const row = await db
    .selectFrom('auth_tokens')
    .innerJoin('sessions', 'sessions.id', 'auth_tokens.session_id')
    .select(['auth_tokens.session_id as sessionId', 'auth_tokens.used_at as usedAt', 'auth_tokens.expires_at as expiresAt', 'sessions.revoked_at as revokedAt', 'sessions.user_id as userId'])
    .where('auth_tokens.hash', '=', hash)
    .where('auth_tokens.kind', '=', 'refresh')
    .executeTakeFirst();
  if (!row || row.revokedAt !== null) return { kind: 'invalid' };
  if (row.usedAt !== null) {
    await revokeSession(db, row.sessionId, now);
    return { kind: 'reused' };
  }
  if (row.expiresAt <= isoTime(now)) return { kind: 'invalid' };
  const claimed = await db
    .updateTable('auth_tokens')
    .set({ used_at: isoTime(now) })
    .where('hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) {
    await revokeSession(db, row.sessionId, now);
    return { kind: 'reused' };
  }
  // The old access token dies with the rotation, so a stolen pair stops working at the next refresh.
  await db.deleteFrom('auth_tokens').where('session_id', '=', row.sessionId).where('kind', '=', 'access').execute();
  const tokens = await issuePair(db, row.sessionId, now, ttl);
  return { kind: 'rotated', tokens, userId: row.userId };
}

export async function revokeSession(db: Kysely<Database>, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: isoTime(now) }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
  await db.deleteFrom('auth_tokens').where('session_id', '=', sessionId).where('kind', '=', 'access').execute();
}

export async function revokeUserSessions(db: Kysely<Database>, userId: string, now: number): Promise<void> {
  const sessions = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  for (const s of sessions) await revokeSession(db, s.id, now);
}

export async function isSessionLive(db: Kysely<Database>, sessionId: string): Promise<boolean> {
  const row = await db.selectFrom('sessions').select('revoked_at').where('id', '=', sessionId).executeTakeFirst();
  return row !== undefined && row.revoked_at === null;
}

/** Housekeeping: expired tokens and long-dead sessions. */
export async function pruneExpired(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('auth_tokens').where('expires_at', '<', isoTime(now)).execute();
  await db.deleteFrom('sessions').where('expires_at', '<', isoTime(now)).execute();
}
