import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, DeviceRow } from '../db/database.js';
import { hashSecret, isoTime, newId, newSecret } from '../db/ids.js';
import { nameTaken } from '../devices/devices.repository.js';

/** A backend's device name: `wsi-<account>-<random>`, within the device-name rules. */
async function backendName(db: Kysely<Database>, username: string): Promise<string> {
  const base = `wsi-${username.replace(/[^A-Za-z0-9_.-]/g, '-')}`.slice(0, 52);
  for (;;) {
    const name = `${base}-${randomBytes(3).toString('hex')}`;
    if (!(await nameTaken(db, name))) return name;
  }
}

/**
 * A password `authenticate` makes a new backend (the seed: "the server should treat the backend as
 * a new one"): a fleet device whose transport is 'wsi'. Its MQTT secret is random and never told to
 * anyone, so it cannot sign in to the broker.
 */
export async function insertBackendDevice(db: Kysely<Database>, input: { username: string; now: number }): Promise<DeviceRow> {
  const id = newId();
  await db
    .insertInto('devices')
    .values({
      id,
      name: await backendName(db, input.username),
      secret_hash: hashSecret(newSecret('unused')),
      hostname: '',
      profile: 'quix-wsi',
      agent_version: 'wsi',
      hardware: null,
      system: null,
      tags: JSON.stringify(['wsi']),
      online: 0,
      presence_session: null,
      last_seen: null,
      created_at: isoTime(input.now),
      enrollment_token_id: null,
      transport: 'wsi',
    })
    .execute();
  const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return row;
}

/** Issues a token for the device; only its hash is kept. */
export async function issueToken(db: Kysely<Database>, input: { deviceId: string; userId: string; now: number; ttlMs: number }): Promise<{ token: string; tokenId: string; expiresAt: number }> {
  const token = newSecret('ehwsi');
  const tokenId = newId();
  const expiresAt = input.now + input.ttlMs;
  await db
    .insertInto('wsi_tokens')
    .values({ id: tokenId, token_hash: hashSecret(token), device_id: input.deviceId, user_id: input.userId, created_at: isoTime(input.now), expires_at: isoTime(expiresAt) })
    .execute();
  return { token, tokenId, expiresAt };
}

export interface TokenMatch {
  tokenId: string;
  deviceId: string;
  userId: string;
  expiresAt: number;
}

/** The token's row, when it exists and its device still does (expiry is the caller's check). */
export async function findToken(db: Kysely<Database>, token: string): Promise<TokenMatch | undefined> {
  const row = await db
    .selectFrom('wsi_tokens')
    .innerJoin('devices', 'devices.id', 'wsi_tokens.device_id')
    .select(['wsi_tokens.id', 'wsi_tokens.device_id', 'wsi_tokens.user_id', 'wsi_tokens.expires_at'])
    .where('wsi_tokens.token_hash', '=', hashSecret(token))
    .executeTakeFirst();
  return row ? { tokenId: row.id, deviceId: row.device_id, userId: row.user_id, expiresAt: Date.parse(row.expires_at) } : undefined;
}

export async function deleteExpiredTokens(db: Kysely<Database>, now: number): Promise<void> {
  await db.deleteFrom('wsi_tokens').where('expires_at', '<', isoTime(now)).execute();
}
