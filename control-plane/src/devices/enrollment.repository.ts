import type { Kysely } from 'kysely';
import type { CreateEnrollmentToken, EnrollmentTokenView } from '@edgehook/shared';
import type { Database, EnrollmentTokenRow } from '../db/database.js';
import { hashSecret, isoTime, isStringArray, newId, newSecret, parseJsonColumn } from '../db/ids.js';

export function toEnrollmentTokenView(row: EnrollmentTokenRow): EnrollmentTokenView {
  return {
    id: row.id,
    expiresAt: row.expires_at,
    maxUses: row.max_uses,
    uses: Number(row.uses),
    tags: parseJsonColumn(row.tags, [], isStringArray),
    note: row.note,
    createdAt: row.created_at,
    revoked: row.revoked_at !== null,
  };
}

export async function createEnrollmentToken(
  db: Kysely<Database>,
  input: CreateEnrollmentToken,
  createdBy: string | null,
  now: number,
): Promise<{ token: string; row: EnrollmentTokenRow }> {
  const token = newSecret('ehe');
  const row: EnrollmentTokenRow = {
    id: newId(),
    token_hash: hashSecret(token),
    expires_at: isoTime(now + input.expiresIn * 1000),
    max_uses: input.maxUses,
    uses: 0,
    tags: JSON.stringify(input.tags),
    note: input.note ?? null,
    created_by: createdBy,
    created_at: isoTime(now),
    revoked_at: null,
  };
  await db.insertInto('enrollment_tokens').values(row).execute();
  return { token, row };
}

export async function listEnrollmentTokens(db: Kysely<Database>): Promise<EnrollmentTokenRow[]> {
  return db.selectFrom('enrollment_tokens').selectAll().orderBy('created_at', 'desc').execute();
}

export async function revokeEnrollmentToken(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const r = await db.updateTable('enrollment_tokens').set({ revoked_at: isoTime(now) }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Takes one use of a token. The single conditional UPDATE is what makes `maxUses` hold
 * when many devices enroll at once, on one replica or several.
 */
export async function consumeEnrollmentToken(db: Kysely<Database>, token: string, now: number): Promise<EnrollmentTokenRow | undefined> {
  const hash = hashSecret(token);
  const r = await db
    .updateTable('enrollment_tokens')
    .set((eb) => ({ uses: eb('uses', '+', 1) }))
    .where('token_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', isoTime(now))
    .whereRef('uses', '<', 'max_uses')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return undefined;
  return db.selectFrom('enrollment_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
}
