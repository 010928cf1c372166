import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { EdgehookError } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { isoTime } from '../db/ids.js';
import { checkAvatarImage } from './avatar-image.js';

export interface Avatar {
  mime: string;
  etag: string;
  bytes: Buffer;
  updatedAt: string;
}

/** Validates (type from the bytes, dimensions from the header) and stores; bad images are a clear 400. */
export async function storeAvatar(db: Kysely<Database>, userId: string, bytes: Buffer, now: number): Promise<Avatar> {
  const check = checkAvatarImage(bytes);
  if (!check.ok) throw new EdgehookError('BAD_REQUEST', `invalid profile picture: ${check.reason}`);
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`;
  const row = { user_id: userId, mime: check.mime, etag, data: bytes.toString('base64'), updated_at: isoTime(now) };
  await db
    .insertInto('user_avatars')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ mime: row.mime, etag: row.etag, data: row.data, updated_at: row.updated_at }))
    .execute();
  return { mime: check.mime, etag, bytes, updatedAt: row.updated_at };
}

export async function findAvatar(db: Kysely<Database>, userId: string): Promise<Avatar | undefined> {
  const row = await db.selectFrom('user_avatars').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row ? { mime: row.mime, etag: row.etag, bytes: Buffer.from(row.data, 'base64'), updatedAt: row.updated_at } : undefined;
}

export async function deleteAvatar(db: Kysely<Database>, userId: string): Promise<boolean> {
  const res = await db.deleteFrom('user_avatars').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** The image with a strong ETag; If-None-Match answers 304. Private: it sits behind a login. */
export function avatarResponse(c: Context, avatar: Avatar): Response {
  const headers = {
    'content-type': avatar.mime,
    etag: avatar.etag,
    'cache-control': 'private, max-age=60',
    'last-modified': new Date(avatar.updatedAt).toUTCString(),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
  };
  const inm = c.req.header('if-none-match');
  if (inm !== undefined && inm.split(',').some((t) => t.trim() === avatar.etag || t.trim() === '*')) return c.body(null, 304, headers);
  return c.body(new Uint8Array(avatar.bytes), 200, headers);
}
