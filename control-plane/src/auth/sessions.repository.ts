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

/** Makes an access token's text; the default is an opaque `eha_` secret. Only its hash is stored. */
export type AccessMinter = (userId: string, expiresAt: number) => string;
const opaqueAccess: AccessMinter = () => newSecret('eha');

async function issuePair(db: Kysely<Database>, sessionId: string, userId: string, now: number, ttl: TokenLifetimes, mint: AccessMinter = opaqueAccess): Promise<IssuedTokens> {
  const accessExpiresAt = now + ttl.accessTtlMs;
  const accessToken = mint(userId, accessExpiresAt);
  const refreshToken = newSecret('ehr');
  await db
    .insertInto('auth_tokens')
    .values([
      { hash: hashSecret(accessToken), session_id: sessionId, kind: 'access', expires_at: isoTime(accessExpiresAt), used_at: null },
      { hash: hashSecret(refreshToken), session_id: sessionId, kind: 'refresh', expires_at: isoTime(now + ttl.refreshTtlMs), used_at: null },
    ])
    .execute();
  return { sessionId, accessToken, refreshToken, accessExpiresAt };
}

export async function createSession(db: Kysely<Database>, userId: string, now: number, ttl: TokenLifetimes, mint?: AccessMinter): Promise<IssuedTokens> {
  const sessionId = newId();
  await db
    .insertInto('sessions')
    .values({ id: sessionId, user_id: userId, created_at: isoTime(now), expires_at: isoTime(now + ttl.refreshTtlMs), revoked_at: null })
    .execute();
  return issuePair(db, sessionId, userId, now, ttl, mint);
}

export type RefreshOutcome =
  | { kind: 'rotated'; tokens: IssuedTokens; userId: string }
  | { kind: 'invalid' }
  /** A refresh token that was already exchanged came back: the session is revoked as a precaution. */
  | { kind: 'reused'; sessionId: string };

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
    return { kind: 'reused', sessionId: row.sessionId };
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
    return { kind: 'reused', sessionId: row.sessionId };
  }
  // The old access token dies with the rotation, so a stolen pair stops working at the next refresh.
  await db.deleteFrom('auth_tokens').where('session_id', '=', row.sessionId).where('kind', '=', 'access').execute();
  const tokens = await issuePair(db, row.sessionId, row.userId, now, ttl);
  return { kind: 'rotated', tokens, userId: row.userId };
}

/** The live session behind an unused, unexpired refresh token. */
export async function findRefreshSession(db: Kysely<Database>, token: string, now: number): Promise<{ sessionId: string; userId: string } | undefined> {
  const row = await db
    .selectFrom('auth_tokens')
    .innerJoin('sessions', 'sessions.id', 'auth_tokens.session_id')
    .select(['auth_tokens.session_id as sessionId', 'sessions.user_id as userId'])
    .where('auth_tokens.hash', '=', hashSecret(token))
    .where('auth_tokens.kind', '=', 'refresh')
    .where('auth_tokens.used_at', 'is', null)
    .where('auth_tokens.expires_at', '>', isoTime(now))
    .where('sessions.revoked_at', 'is', null)
    .executeTakeFirst();
  return row;
}

/**
 * Non-rotating refresh, for the Encedeus paths only: the refresh token stays as it is (Encedeus
 * clients never receive a new one) and a new access token joins the session. See docs/encedeus.md.
 */
export async function issueAccessToken(db: Kysely<Database>, refreshToken: string, now: number, ttl: TokenLifetimes, mint: AccessMinter = opaqueAccess): Promise<{ accessToken: string; accessExpiresAt: number; sessionId: string; userId: string } | undefined> {
  const session = await findRefreshSession(db, refreshToken, now);
  if (!session) return undefined;
  const accessExpiresAt = now + ttl.accessTtlMs;
  const accessToken = mint(session.userId, accessExpiresAt);
  await db
    .insertInto('auth_tokens')
    .values({ hash: hashSecret(accessToken), session_id: session.sessionId, kind: 'access', expires_at: isoTime(accessExpiresAt), used_at: null })
    .execute();
  return { accessToken, accessExpiresAt, ...session };
}

export async function revokeSession(db: Kysely<Database>, sessionId: string, now: number): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: isoTime(now) }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
  await db.deleteFrom('auth_tokens').where('session_id', '=', sessionId).where('kind', '=', 'access').execute();
}

export async function revokeUserSessions(db: Kysely<Database>, userId: string, now: number, keepSessionId?: string): Promise<void> {
  const sessions = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  for (const s of sessions) if (s.id !== keepSessionId) await revokeSession(db, s.id, now);
}

/** Housekeeping: expired tokens and long-dead sessions. */
export async function pruneExpired(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('auth_tokens').where('expires_at', '<', isoTime(now)).execute();
  await db.deleteFrom('sessions').where('expires_at', '<', isoTime(now)).execute();
}
