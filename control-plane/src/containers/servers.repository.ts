import type { Kysely } from 'kysely';
import { ApplyResult, decodeJson, DeclaredServers, EdgehookError, type DeclaredServer } from '@edgehook/shared';
import type { Database } from '../db/database.js';
import { isoTime } from '../db/ids.js';

export interface DeclaredSet {
  servers: DeclaredServer[];
  revision: number;
  updatedAt: string | null;
  updatedBy: string | null;
  lastApply: { revision: number; at: string; result: ApplyResult } | null;
}

const EMPTY: DeclaredSet = { servers: [], revision: 0, updatedAt: null, updatedBy: null, lastApply: null };

export async function getDeclaredSet(db: Kysely<Database>, deviceId: string): Promise<DeclaredSet> {
  const row = await db.selectFrom('declared_servers').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
  if (!row) return EMPTY;
  // Re-validated on the way out: a row written by an older version must not reach a device unchecked.
  const servers = decodeJson(DeclaredServers, row.servers);
  const apply = row.last_apply === null ? null : decodeJson(ApplyResult, row.last_apply);
  return {
    servers: servers.ok ? servers.value : [],
    revision: row.revision,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
    lastApply: apply?.ok && row.last_apply_revision !== null && row.last_apply_at !== null ? { revision: row.last_apply_revision, at: row.last_apply_at, result: apply.value } : null,
  };
}

/** Replaces the set; the revision only grows, so results of older applies are recognisable. */
export async function putDeclaredSet(db: Kysely<Database>, deviceId: string, servers: DeclaredServer[], by: string, now: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('declared_servers').select('revision').where('device_id', '=', deviceId).executeTakeFirst();
    const revision = (current?.revision ?? 0) + 1;
    const values = { servers: JSON.stringify(servers), revision, updated_at: isoTime(now), updated_by: by };
    if (current) await trx.updateTable('declared_servers').set(values).where('device_id', '=', deviceId).execute();
    else await trx.insertInto('declared_servers').values({ device_id: deviceId, ...values, last_apply: null, last_apply_revision: null, last_apply_at: null, reconciled_session: null }).execute();
    return revision;
  });
}

/**
 * Read-modify-write of one device's set (create/edit/remove one server). The write is conditional
 * on the revision it read, so two editors on two replicas never lose each other's change: the
 * loser re-reads and re-applies its edit (which may then refuse, e.g. a name taken meanwhile).
 */
export async function editDeclaredSet(
  db: Kysely<Database>,
  deviceId: string,
  edit: (current: DeclaredServer[]) => DeclaredServer[],
  by: string,
  now: number,
): Promise<{ revision: number; servers: DeclaredServer[] }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await getDeclaredSet(db, deviceId);
    const servers = edit(current.servers);
    const values = { servers: JSON.stringify(servers), revision: current.revision + 1, updated_at: isoTime(now), updated_by: by };
    if (current.revision === 0) {
      const inserted = await db
        .insertInto('declared_servers')
        .values({ device_id: deviceId, ...values, last_apply: null, last_apply_revision: null, last_apply_at: null, reconciled_session: null })
        .onConflict((oc) => oc.column('device_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { revision: values.revision, servers };
      continue;
    }
    const res = await db.updateTable('declared_servers').set(values).where('device_id', '=', deviceId).where('revision', '=', current.revision).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return { revision: values.revision, servers };
  }
  throw new EdgehookError('CONFLICT', 'the declared set kept changing under this edit; try again');
}

/** Records an apply outcome unless a newer revision's outcome is already there. */
export async function recordApply(db: Kysely<Database>, deviceId: string, revision: number, result: ApplyResult, now: number): Promise<void> {
  await db
    .updateTable('declared_servers')
    .set({ last_apply: JSON.stringify(result), last_apply_revision: revision, last_apply_at: isoTime(now) })
    .where('device_id', '=', deviceId)
    .where((eb) => eb.or([eb('last_apply_revision', 'is', null), eb('last_apply_revision', '<=', revision)]))
    .execute();
}

/**
 * One replica wins the right to apply a device's set after it connects: a single conditional
 * UPDATE keyed on the connection's presence session, so it holds across replicas sharing the
 * store, and the next connection is claimed anew. Without a session (older agents) every replica
 * applies, which the agent's idempotent planner makes harmless.
 */
export async function claimReconcile(db: Kysely<Database>, deviceId: string, session: string | null): Promise<boolean> {
  if (session === null) return true;
  const res = await db
    .updateTable('declared_servers')
    .set({ reconciled_session: session })
    .where('device_id', '=', deviceId)
    .where((eb) => eb.or([eb('reconciled_session', 'is', null), eb('reconciled_session', '<>', session)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
