import type { Kysely } from 'kysely';
import type { Database } from '../db/database.js';
import { hashSecret, isoTime, newSecret } from '../db/ids.js';
import { findUserByToken } from '../auth/users.repository.js';
import type { Principal } from '../auth/authenticator.js';

/** Wings-style console tokens live 10 minutes; clients fetch a new one on "token expiring". */
export const CONSOLE_TOKEN_TTL_MS = 10 * 60_000;

export interface ConsoleScope {
  deviceId: string;
  ref: string;
}

// The scope is part of the token's kind, so a token for one console opens no other, nor the REST API.
const kindFor = (scope: ConsoleScope): string => `console:${scope.deviceId}/${scope.ref}`;

/** A token bound to the caller's session: logging out or revoking the session ends it too. */
export async function issueConsoleToken(db: Kysely<Database>, sessionId: string, scope: ConsoleScope, now: number): Promise<string> {
  const token = newSecret('ehc');
  await db
    .insertInto('auth_tokens')
    .values({ hash: hashSecret(token), session_id: sessionId, kind: kindFor(scope), expires_at: isoTime(now + CONSOLE_TOKEN_TTL_MS), used_at: null })
    .execute();
  return token;
}

export async function verifyConsoleToken(db: Kysely<Database>, token: string, scope: ConsoleScope, now: number): Promise<{ principal: Principal; expiresAt: number } | undefined> {
  const found = await findUserByToken(db, token, kindFor(scope), now);
  if (!found) return undefined;
  const { user } = found;
  return {
    principal: { userId: user.id, username: user.username, roleId: user.roleId, roleName: user.roleName, permissions: user.permissions, sessionId: found.sessionId },
    expiresAt: Date.parse(found.expiresAt),
  };
}
