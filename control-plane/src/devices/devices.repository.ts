import { deletePerfkitDevice } from '../perfkit/perfkit.repository.js';
import type { Kysely } from 'kysely';
import { HardwareSummary, SystemInfo, validate, type DeviceDescription, type DeviceView } from '@edgehook/shared';
import type { Database, DeviceRow } from '../db/database.js';
import { isoTime, isStringArray, parseJsonColumn } from '../db/ids.js';

function parseSchemaColumn<T>(text: string | null, check: (v: unknown) => { ok: true; value: T } | { ok: false }): T | null {
  if (text === null) return null;
  try {
    const r = check(JSON.parse(text));
    return r.ok ? r.value : null;
  } catch {
    return null;
  }
}

export function toDeviceView(row: DeviceRow): DeviceView {
  return {
    id: row.id,
    name: row.name,
    online: row.online === 1,
    lastSeen: row.last_seen,
    profile: row.profile,
    agentVersion: row.agent_version,
    hostname: row.hostname,
    tags: parseJsonColumn(row.tags, [], isStringArray),
    hardware: parseSchemaColumn(row.hardware, (v) => validate(HardwareSummary, v)),
    system: parseSchemaColumn(row.system, (v) => validate(SystemInfo, v)),
    createdAt: row.created_at,
    transport: row.transport === 'wsi' ? 'wsi' : 'mqtt',
  };
}

export async function findDevice(db: Kysely<Database>, id: string): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Operators name devices by id or by name. */
export async function findDeviceByRef(db: Kysely<Database>, ref: string): Promise<DeviceRow | undefined> {
  return db
    .selectFrom('devices')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
    .executeTakeFirst();
}

/** Devices in name order; `after`/`limit` give one page of it (names are unique, so `name > after` resumes exactly). */
export async function listDevices(db: Kysely<Database>, filter: { tag?: string | undefined; online?: boolean | undefined; after?: string | undefined; limit?: number | undefined } = {}): Promise<DeviceRow[]> {
  let q = db.selectFrom('devices').selectAll().orderBy('name');
  if (filter.online !== undefined) q = q.where('online', '=', filter.online ? 1 : 0);
  if (filter.after !== undefined) q = q.where('name', '>', filter.after);
  if (filter.limit !== undefined && filter.tag === undefined) q = q.limit(filter.limit);
  const rows = await q.execute();
  if (filter.tag === undefined) return rows;
  // Tags are a small JSON list per device; filtering here keeps the query dialect-neutral.
  const tagged = rows.filter((r) => parseJsonColumn(r.tags, [], isStringArray).includes(filter.tag ?? ''));
  return filter.limit === undefined ? tagged : tagged.slice(0, filter.limit);
}

/**
 * True when another device has this name, or this name is another device's id: devices are found
 * by id or name, so a name equal to someone else's id would make that reference ambiguous.
 */
export async function nameTaken(db: Kysely<Database>, name: string, exceptId?: string): Promise<boolean> {
  let q = db.selectFrom('devices').select('id').where((eb) => eb.or([eb('name', '=', name), eb('id', '=', name)]));
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export async function insertDevice(
  db: Kysely<Database>,
  input: { id: string; name: string; secretHash: string; description: DeviceDescription; tags: string[]; enrollmentTokenId: string },
  now: number,
): Promise<void> {
  await db
    .insertInto('devices')
    .values({
      id: input.id,
      name: input.name,
      secret_hash: input.secretHash,
      hostname: input.description.hostname,
      profile: input.description.profile,
      agent_version: input.description.agentVersion,
      hardware: JSON.stringify(input.description.hardware),
      system: input.description.system ? JSON.stringify(input.description.system) : null,
      tags: JSON.stringify(input.tags),
      online: 0,
      presence_session: null,
      last_seen: null,
      created_at: isoTime(now),
      enrollment_token_id: input.enrollmentTokenId,
    })
    .execute();
}

export async function updateDevice(db: Kysely<Database>, id: string, patch: { name?: string | undefined; tags?: string[] | undefined }): Promise<void> {
  const values: { name?: string; tags?: string } = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.tags !== undefined) values.tags = JSON.stringify(patch.tags);
  if (Object.keys(values).length > 0) await db.updateTable('devices').set(values).where('id', '=', id).execute();
}

export async function deleteDevice(db: Kysely<Database>, id: string): Promise<boolean> {
  await deletePerfkitDevice(db, id);
  const r = await db.deleteFrom('devices').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** The agent's `hello` on each connect refreshes what it says about itself. */
export async function applyDescription(db: Kysely<Database>, id: string, d: DeviceDescription, now: number): Promise<boolean> {
  const r = await db
    .updateTable('devices')
    .set({
      hostname: d.hostname,
      profile: d.profile,
      agent_version: d.agentVersion,
      hardware: JSON.stringify(d.hardware),
      system: d.system ? JSON.stringify(d.system) : null,
      last_seen: isoTime(now),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function markOnline(db: Kysely<Database>, id: string, session: string | null, now: number): Promise<boolean> {
  const r = await db.updateTable('devices').set({ online: 1, presence_session: session, last_seen: isoTime(now) }).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * Applies `offline` only for the session that is current: a will from an older connection,
 * delivered after the agent already came back, must not mark the device offline.
 */
export async function markOffline(db: Kysely<Database>, id: string, session: string | null, now: number): Promise<boolean> {
  let q = db.updateTable('devices').set({ online: 0, last_seen: isoTime(now) }).where('id', '=', id);
  if (session !== null) q = q.where((eb) => eb.or([eb('presence_session', '=', session), eb('presence_session', 'is', null)]));
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** With the embedded broker, a control-plane start means every device is disconnected. */
export async function markAllOffline(db: Kysely<Database>, now: number): Promise<number> {
  const r = await db.updateTable('devices').set({ online: 0, last_seen: isoTime(now) }).where('online', '=', 1).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function touchLastSeen(db: Kysely<Database>, id: string, now: number): Promise<void> {
  await db.updateTable('devices').set({ last_seen: isoTime(now) }).where('id', '=', id).execute();
}

export async function findSecretHash(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('devices').select('secret_hash').where('id', '=', id).executeTakeFirst();
  return row?.secret_hash;
}
