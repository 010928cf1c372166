import type { Kysely } from 'kysely';
import { ConfigClassDecl, ConfigValue, EdgehookError, type ConfigPatch, type DesiredEntry } from '@edgehook/shared';
import * as z from '@edgehook/shared/zod';
import type { Database } from '../db/database.js';
import { isoTime } from '../db/ids.js';

const Classes = z.array(ConfigClassDecl);
/** Below PerfkitDesired's bound of 8192 entries. */
export const MAX_DESIRED_PER_DEVICE = 4096;

function parseValue(text: string): ConfigValue {
  const parsed = ConfigValue.safeParse(JSON.parse(text));
  if (!parsed.success) throw new EdgehookError('INTERNAL', 'a stored config value is not a config value');
  return parsed.data;
}

export interface DesiredSet {
  deviceId: string;
  scope: string;
  key: string;
  value: ConfigValue;
  /** The desired version the edit is based on (0: nothing desired yet); undefined: last writer wins. */
  expectedVersion: number | undefined;
  by: string | null;
  now: number;
}

/**
 * Sets one desired value: its version goes up by one and the device's patch log gets the next
 * seq, in one transaction. A caller whose `expectedVersion` is not the current version gets a
 * CONFLICT (409), like a shadow update with a stale version; so does losing a race for the seq.
 */
export async function setDesired(db: Kysely<Database>, s: DesiredSet): Promise<{ version: number; seq: number }> {
  try {
    return await db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('perfkit_desired').select('version').where('device_id', '=', s.deviceId).where('scope', '=', s.scope).where('key', '=', s.key).executeTakeFirst();
      const have = current ? Number(current.version) : 0;
      if (s.expectedVersion !== undefined && s.expectedVersion !== have) {
        throw new EdgehookError('CONFLICT', `${s.scope}/${s.key} is at version ${have}, not ${s.expectedVersion}: reload and edit again`, { currentVersion: have });
      }
      const head = await trx.selectFrom('perfkit_patches').select((eb) => eb.fn.max('seq').as('seq')).where('device_id', '=', s.deviceId).executeTakeFirst();
      const seq = Number(head?.seq ?? 0) + 1;
      const version = have + 1;
      const value = JSON.stringify(s.value);
      const at = isoTime(s.now);
      await trx.insertInto('perfkit_patches').values({ device_id: s.deviceId, seq, scope: s.scope, key: s.key, value, version, at, by: s.by }).execute();
      if (current) {
        const r = await trx.updateTable('perfkit_desired').set({ value, version, seq, updated_at: at, updated_by: s.by }).where('device_id', '=', s.deviceId).where('scope', '=', s.scope).where('key', '=', s.key).where('version', '=', have).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new EdgehookError('CONFLICT', `${s.scope}/${s.key} changed meanwhile: reload and edit again`);
      } else {
        // The desired document travels as one retained message the agent bounds (PerfkitDesired).
        const count = await trx.selectFrom('perfkit_desired').select((eb) => eb.fn.countAll().as('n')).where('device_id', '=', s.deviceId).executeTakeFirst();
        if (Number(count?.n ?? 0) >= MAX_DESIRED_PER_DEVICE) throw new EdgehookError('CONFLICT', `device has ${MAX_DESIRED_PER_DEVICE} desired config values already; no room for ${s.scope}/${s.key}`);
        await trx.insertInto('perfkit_desired').values({ device_id: s.deviceId, scope: s.scope, key: s.key, value, version, seq, updated_at: at, updated_by: s.by }).execute();
      }
      return { version, seq };
    });
  } catch (err) {
    if (err instanceof EdgehookError) throw err;
    // A unique violation: a concurrent edit of the same device took this seq or this entry first.
    if (err instanceof Error && /unique|duplicate|constraint/i.test(err.message)) throw new EdgehookError('CONFLICT', `${s.scope}/${s.key} changed meanwhile: reload and edit again`);
    throw err;
  }
}

export async function listDesired(db: Kysely<Database>, deviceId: string): Promise<{ seq: number; entries: DesiredEntry[] }> {
  const rows = await db.selectFrom('perfkit_desired').selectAll().where('device_id', '=', deviceId).orderBy('scope').orderBy('key').execute();
  return { seq: await headSeq(db, deviceId), entries: rows.map((r) => ({ scope: r.scope, key: r.key, value: parseValue(r.value), version: Number(r.version) })) };
}

export async function headSeq(db: Kysely<Database>, deviceId: string): Promise<number> {
  const head = await db.selectFrom('perfkit_patches').select((eb) => eb.fn.max('seq').as('seq')).where('device_id', '=', deviceId).executeTakeFirst();
  return Number(head?.seq ?? 0);
}

/** The patches after `since`, in seq order, at most `limit` (`more` says whether others follow). */
export async function patchesSince(db: Kysely<Database>, deviceId: string, since: number, limit: number): Promise<{ patches: ConfigPatch[]; more: boolean }> {
  const rows = await db.selectFrom('perfkit_patches').selectAll().where('device_id', '=', deviceId).where('seq', '>', since).orderBy('seq').limit(limit + 1).execute();
  const patches = rows.slice(0, limit).map((r) => ({ seq: Number(r.seq), scope: r.scope, key: r.key, value: parseValue(r.value), version: Number(r.version), at: r.at, by: r.by }));
  return { patches, more: rows.length > limit };
}

/** Keeps the declaration a device reported (written only when it differs). */
export async function saveSchema(db: Kysely<Database>, deviceId: string, scope: string, classes: ConfigClassDecl[], now: number): Promise<void> {
  const text = JSON.stringify(classes);
  const at = isoTime(now);
  await db
    .insertInto('perfkit_schemas')
    .values({ device_id: deviceId, scope, classes: text, updated_at: at })
    .onConflict((oc) => oc.columns(['device_id', 'scope']).doUpdateSet({ classes: text, updated_at: at }))
    .execute();
}

export async function listSchemas(db: Kysely<Database>, deviceId: string): Promise<Map<string, ConfigClassDecl[]>> {
  const rows = await db.selectFrom('perfkit_schemas').selectAll().where('device_id', '=', deviceId).orderBy('scope').execute();
  const out = new Map<string, ConfigClassDecl[]>();
  for (const r of rows) {
    const parsed = Classes.safeParse(JSON.parse(r.classes));
    if (parsed.success) out.set(r.scope, parsed.data);
  }
  return out;
}

/** A deleted device takes its configs with it. */
export async function deletePerfkitDevice(db: Kysely<Database>, deviceId: string): Promise<void> {
  for (const t of ['perfkit_desired', 'perfkit_patches', 'perfkit_schemas'] as const) await db.deleteFrom(t).where('device_id', '=', deviceId).execute();
}
